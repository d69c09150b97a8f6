package extract

import (
	"fmt"
	"sort"
	"strings"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/strictyaml"
)

// mapping is the SQL that turns one staged source into canonical rows: a
// text expression per canonical column (rename, constant, value map), a
// typed expression, and one CASE that names the first problem of a row.
type mapping struct {
	table model.Table
	// text[c] is column c as trimmed text, NULL when empty.
	text map[string]string
	// source[c] is the source column c came from, for reject messages.
	source map[string]string
	// extras are source columns outside the canonical model, kept as text
	// under a SQL-safe name.
	extras []extra
}

type extra struct{ name, source string }

// defaultDateFormat and friends apply when the config names no format.
const defaultDateFormat = "%Y-%m-%d"

func buildMapping(src config.Source, headers []string) (*mapping, error) {
	t, _ := model.LookupTable(src.Table)
	m := &mapping{table: t, text: map[string]string{}, source: map[string]string{}}
	have := map[string]bool{}
	for _, h := range headers {
		have[h] = true
	}
	used := map[string]bool{}
	var problems []string
	for _, c := range t.Columns {
		if srcCol, ok := src.Columns[c.Name]; ok {
			if !have[srcCol] {
				problems = append(problems, fmt.Sprintf("columns: %s maps to %q, which is not in the file%s",
					c.Name, srcCol, strictyaml.Suggest(srcCol, headers)))
				continue
			}
			m.setColumn(c, srcCol)
			used[srcCol] = true
			continue
		}
		if v, ok := src.Constants[c.Name]; ok {
			m.text[c.Name] = "NULLIF(trim(" + duck.Quote(v) + "), '')"
			m.source[c.Name] = "constant " + c.Name
			continue
		}
		if have[c.Name] {
			m.setColumn(c, c.Name)
			used[c.Name] = true
			continue
		}
		m.text[c.Name] = "NULL::VARCHAR"
		if c.Required {
			problems = append(problems, fmt.Sprintf("no column for required %s: map it under columns: (file columns: %s)%s",
				c.Name, strings.Join(headers, ", "), strictyaml.Suggest(c.Name, headers)))
		}
	}
	if len(problems) > 0 {
		return nil, fail.ConfigErr(fmt.Errorf("source %s (%s):\n  %s", src.File, src.Dataset(), strings.Join(problems, "\n  ")))
	}
	for col, vm := range src.Values {
		// Unmapped values pass through and are then checked against the
		// canonical vocabulary.
		m.text[col] = duck.CaseMap(m.text[col], vm)
	}
	taken := map[string]bool{model.Origin: true}
	for _, c := range t.Columns {
		taken[c.Name] = true
	}
	for _, h := range headers {
		if used[h] {
			continue
		}
		name := sqlName(h)
		for taken[name] {
			name = "x_" + name
		}
		taken[name] = true
		m.extras = append(m.extras, extra{name: name, source: h})
	}
	return m, nil
}

func (m *mapping) setColumn(c model.Column, srcCol string) {
	m.text[c.Name] = "NULLIF(trim(" + duck.Ident(srcCol) + "), '')"
	m.source[c.Name] = srcCol
}

// sqlName turns a source header into a lower_snake column name.
func sqlName(h string) string {
	var b strings.Builder
	lastUnderscore := false
	for _, r := range strings.ToLower(h) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			lastUnderscore = false
		} else if !lastUnderscore && b.Len() > 0 {
			b.WriteByte('_')
			lastUnderscore = true
		}
	}
	s := strings.TrimSuffix(b.String(), "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "c_" + s
	}
	return s
}

// number returns SQL that normalises an amount's text to a plain decimal
// literal ("-1234.56"), or NULL when it is not a well-formed number.
func number(text string, decimalComma bool) string {
	if decimalComma {
		// 1.234.567,89 (dots group thousands) or 1234,89; a bare dot is
		// not a decimal point here, so "12.34" is malformed, never 1234.
		return fmt.Sprintf(`CASE
			WHEN regexp_full_match(%[1]s, '[+-]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?') THEN replace(replace(%[1]s, '.', ''), ',', '.')
			WHEN regexp_full_match(%[1]s, '[+-]?[0-9]+(,[0-9]+)?') THEN replace(%[1]s, ',', '.')
			END`, text)
	}
	return fmt.Sprintf(`CASE WHEN regexp_full_match(%[1]s, '[+-]?[0-9]+(\.[0-9]+)?') THEN %[1]s END`, text)
}

// typed returns the SQL for column c's canonical value and the CASE arms
// that reject a row whose value cannot be that (in the same order).
func (m *mapping) typed(c model.Column, src config.Source, format string) (value string, checks []string) {
	text := m.text[c.Name]
	where := m.source[c.Name]
	if where == "" {
		where = c.Name
	}
	fail := func(cond, reason string) {
		checks = append(checks, fmt.Sprintf("WHEN %s THEN {'column': %s, 'reason': %s}", cond, duck.Quote(where), reason))
	}
	shown := func(expr string) string { return "'\"' || " + expr + " || '\"'" }
	if c.Required {
		fail(text+" IS NULL", duck.Quote("missing required value for "+c.Name))
	}
	switch c.Kind {
	case model.Amount:
		num := number(text, src.DecimalComma)
		fail(fmt.Sprintf("%s IS NOT NULL AND (%s) IS NULL", text, num),
			fmt.Sprintf("'malformed number ' || %s || ' for %s'", shown(text), c.Name))
		fail(fmt.Sprintf("length(regexp_extract(%s, '\\.([0-9]*?)0*$', 1)) > %d", num, model.MoneyScale),
			fmt.Sprintf("'%s ' || %s || ' has more than %d decimals'", c.Name, shown(text), model.MoneyScale))
		fail(fmt.Sprintf("length(ltrim(regexp_extract(%s, '^[+-]?([0-9]*)', 1), '0')) > %d", num, model.MoneyIntDigits),
			fmt.Sprintf("'%s ' || %s || ' does not fit %s'", c.Name, shown(text), model.Money))
		value = fmt.Sprintf("TRY_CAST(%s AS %s)", num, model.Money)
		value = m.flipSign(c.Name, value, src)
	case model.Rate:
		num := number(text, src.DecimalComma)
		value = fmt.Sprintf("TRY_CAST(%s AS %s)", num, model.RateType)
		fail(fmt.Sprintf("%s IS NOT NULL AND ((%s) IS NULL OR length(regexp_extract(%s, '\\.([0-9]*?)0*$', 1)) > %d OR (%s) <= 0)", text, value, num, model.RateScale, value),
			fmt.Sprintf("'malformed rate ' || %s || ' for %s (want a positive number with at most %d decimals)'", shown(text), c.Name, model.RateScale))
	case model.Date:
		f := src.DateFormat
		if f == "" {
			f = defaultDateFormat
		}
		value = fmt.Sprintf("CAST(try_strptime(%s, %s) AS DATE)", text, duck.Quote(f))
		if format == "xlsx" {
			// A date cell reads raw as Excel's day serial number.
			value = fmt.Sprintf("coalesce(%s, CASE WHEN regexp_full_match(%s, '[0-9]{1,6}(\\.[0-9]+)?') THEN DATE '1899-12-30' + CAST(split_part(%s, '.', 1) AS INTEGER) END)", value, text, text)
		}
		fail(fmt.Sprintf("%s IS NOT NULL AND (%s) IS NULL", text, value),
			fmt.Sprintf("'impossible or malformed date ' || %s || ' for %s (expected %s)'", shown(text), c.Name, strings.ReplaceAll(f, "'", "''")))
	case model.Timestamp:
		value = fmt.Sprintf("TRY_CAST(%s AS TIMESTAMP)", text)
		if f := src.TimestampFormat; f != "" {
			value = fmt.Sprintf("try_strptime(%s, %s)", text, duck.Quote(f))
		}
		fail(fmt.Sprintf("%s IS NOT NULL AND (%s) IS NULL", text, value),
			fmt.Sprintf("'malformed timestamp ' || %s || ' for %s'", shown(text), c.Name))
	case model.Integer:
		value = fmt.Sprintf("TRY_CAST(%s AS BIGINT)", text)
		fail(fmt.Sprintf("%s IS NOT NULL AND (NOT regexp_full_match(%s, '[+-]?[0-9]+') OR (%s) IS NULL)", text, text, value),
			fmt.Sprintf("'malformed integer ' || %s || ' for %s'", shown(text), c.Name))
	case model.Currency:
		value = "upper(" + text + ")"
		fail(fmt.Sprintf("%s IS NOT NULL AND %s NOT IN (SELECT code FROM currencies)", text, value),
			fmt.Sprintf("'unknown currency ' || %s || ' (want an ISO 4217 code such as EUR)'", shown(text)))
	default:
		value = text
		if len(c.Values) > 0 {
			quoted := make([]string, len(c.Values))
			for i, v := range c.Values {
				quoted[i] = duck.Quote(v)
			}
			fail(fmt.Sprintf("%s IS NOT NULL AND %s NOT IN (%s)", text, text, strings.Join(quoted, ", ")),
				fmt.Sprintf("'%s ' || %s || ' is not one of %s (map source values under values.%s)'", c.Name, shown(text), strings.Join(c.Values, ", "), c.Name))
		}
	}
	return value, checks
}

// flipSign negates an amount on the rows the source's flip_sign selects.
func (m *mapping) flipSign(col, value string, src config.Source) string {
	fs := src.FlipSign
	if fs == nil {
		return value
	}
	hit := false
	for _, c := range fs.Columns {
		hit = hit || c == col
	}
	if !hit {
		return value
	}
	if len(fs.When) == 0 {
		return "-(" + value + ")"
	}
	keys := make([]string, 0, len(fs.When))
	for k := range fs.When {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	conds := make([]string, len(keys))
	for i, k := range keys {
		conds[i] = fmt.Sprintf("(%s) = %s", m.text[k], duck.Quote(fs.When[k]))
	}
	return fmt.Sprintf("CASE WHEN %s THEN -(%s) ELSE %s END", strings.Join(conds, " AND "), value, value)
}

// checkedSQL returns a SELECT over the staged relation with _ord, each
// canonical column typed, the extras, the first problem of the row as _err
// (NULL when the row is good) and, for bad rows, the raw record as JSON.
func (m *mapping) checkedSQL(st *staged, src config.Source) string {
	var cols, checks []string
	for _, c := range m.table.Columns {
		value, cc := m.typed(c, src, src.FormatOf())
		cols = append(cols, fmt.Sprintf("%s AS %s", value, duck.Ident(c.Name)))
		checks = append(checks, cc...)
	}
	for _, e := range m.extras {
		cols = append(cols, fmt.Sprintf("%s AS %s", duck.Ident(e.source), duck.Ident(e.name)))
	}
	raw := make([]string, len(st.headers))
	for i, h := range st.headers {
		raw[i] = fmt.Sprintf("%s := %s", duck.Ident(h), duck.Ident(h))
	}
	return fmt.Sprintf(`SELECT _ord, %s, _err, CASE WHEN _err IS NOT NULL THEN to_json(struct_pack(%s))::VARCHAR END AS _record
		FROM (SELECT *, CASE %s END AS _err FROM %s)`,
		strings.Join(cols, ",\n\t"), strings.Join(raw, ", "), strings.Join(checks, "\n\t"), st.from)
}
