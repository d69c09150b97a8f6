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
	// text[c] is SQL for canonical column c as text, NULL when empty, over
	// the staged source's columns. A column the source does not fill has
	// no entry.
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

// buildMapping maps a source's columns onto its canonical table. trim says
// the values may carry spaces to trim (see staged.trim).
func buildMapping(src config.Source, headers []string, trim bool) (*mapping, error) {
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
			m.setColumn(c, srcCol, trim)
			used[srcCol] = true
			continue
		}
		if v, ok := src.Constants[c.Name]; ok {
			m.text[c.Name] = "NULLIF(trim(" + duck.Quote(v) + "), '')"
			m.source[c.Name] = "constant " + c.Name
			continue
		}
		if have[c.Name] {
			m.setColumn(c, c.Name, trim)
			used[c.Name] = true
			continue
		}
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
		// canonical vocabulary. A column the source does not fill stays
		// empty.
		if text, ok := m.text[col]; ok {
			m.text[col] = duck.CaseMap(text, vm)
		}
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

func (m *mapping) setColumn(c model.Column, srcCol string, trim bool) {
	if trim {
		m.text[c.Name] = "NULLIF(trim(" + duck.Ident(srcCol) + "), '')"
	} else {
		m.text[c.Name] = "NULLIF(" + duck.Ident(srcCol) + ", '')"
	}
	m.source[c.Name] = srcCol
}

// filled reports whether the source fills canonical column c; the others
// are NULL in every row and are not stored per source.
func (m *mapping) filled(c string) bool {
	_, ok := m.text[c]
	return ok
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

// plainNumber returns SQL for the same literal as number, for text that
// goodAmount accepts: no pattern matching, just the separators swapped.
func plainNumber(text string, decimalComma bool) string {
	if decimalComma {
		return fmt.Sprintf("replace(replace(%[1]s, '.', ''), ',', '.')", text)
	}
	return text
}

// goodAmount is a pattern that accepts exactly the amounts that need no
// reject reason (well-formed, at most MoneyScale significant decimals and
// MoneyIntDigits significant integer digits), except some valid grouped
// ones with a decimal comma, which the full checks then accept. One match
// per value is the whole cost of checking a good amount.
func goodAmount(decimalComma bool) string {
	digits := fmt.Sprintf("0*[0-9]{1,%d}", model.MoneyIntDigits)
	frac := fmt.Sprintf("[0-9]{1,%d}0*", model.MoneyScale)
	if decimalComma {
		// As many groups of thousands as always fit (three).
		return fmt.Sprintf(`[+-]?(%s|[0-9]{1,3}(\.[0-9]{3}){1,%d})(,%s)?`, digits, (model.MoneyIntDigits-3)/3, frac)
	}
	return fmt.Sprintf(`[+-]?%s(\.%s)?`, digits, frac)
}

// amountProblem returns SQL for what is wrong with an amount's text, or
// NULL when nothing is: malformed, too many decimals, too many digits.
func amountProblem(text, col string, decimalComma bool) string {
	shown := "'\"' || " + text + " || '\"'"
	return fmt.Sprintf(`CASE WHEN (%[1]s) IS NULL THEN 'malformed number ' || %[2]s || ' for %[3]s'
			WHEN length(regexp_extract(%[1]s, '\.([0-9]*?)0*$', 1)) > %[4]d THEN '%[3]s ' || %[2]s || ' has more than %[4]d decimals'
			WHEN length(ltrim(regexp_extract(%[1]s, '^[+-]?([0-9]*)', 1), '0')) > %[5]d THEN '%[3]s ' || %[2]s || ' does not fit %[6]s'
			END`, number(text, decimalComma), shown, col, model.MoneyScale, model.MoneyIntDigits, model.Money)
}

// Names of the intermediate columns of checkedSQL: r<i> is source column i,
// t_<c> and v_<c> canonical column c as text and typed.
func textCol(c string) string  { return duck.Ident("t_" + c) }
func valueCol(c string) string { return duck.Ident("v_" + c) }

// typed returns the SQL for column c's canonical value, over its text
// column, and the CASE arms that reject a row whose value cannot be that
// (in the same order); the arms may use the value column. Every expression
// is scalar: no IN list or subquery, which DuckDB would plan as a join.
func (m *mapping) typed(c model.Column, src config.Source, format string) (value string, checks []string) {
	text, val := textCol(c.Name), valueCol(c.Name)
	where := m.source[c.Name]
	if where == "" {
		where = c.Name
	}
	fail := func(cond, reason string) {
		checks = append(checks, fmt.Sprintf("WHEN %s THEN {'column': %s, 'reason': %s}", cond, duck.Quote(where), reason))
	}
	shown := "'\"' || " + text + " || '\"'"
	if c.Required {
		fail(text+" IS NULL", duck.Quote("missing required value for "+c.Name))
	}
	switch c.Kind {
	case model.Amount:
		// The full checks run only on the rare values the pattern refuses.
		reason := amountProblem(text, c.Name, src.DecimalComma)
		fail(fmt.Sprintf("%s IS NOT NULL AND NOT regexp_full_match(%s, %s) AND (%s) IS NOT NULL",
			text, text, duck.Quote(goodAmount(src.DecimalComma)), reason), reason)
		value = fmt.Sprintf("TRY_CAST(%s AS %s)", plainNumber(text, src.DecimalComma), model.Money)
		value = m.flipSign(c.Name, value, src)
	case model.Rate:
		num := number(text, src.DecimalComma)
		value = fmt.Sprintf("TRY_CAST(%s AS %s)", num, model.RateType)
		fail(fmt.Sprintf("%s IS NOT NULL AND (%s IS NULL OR length(regexp_extract(%s, '\\.([0-9]*?)0*$', 1)) > %d OR %s <= 0)", text, val, num, model.RateScale, val),
			fmt.Sprintf("'malformed rate ' || %s || ' for %s (want a positive number with at most %d decimals)'", shown, c.Name, model.RateScale))
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
		fail(fmt.Sprintf("%s IS NOT NULL AND %s IS NULL", text, val),
			fmt.Sprintf("'impossible or malformed date ' || %s || ' for %s (expected %s)'", shown, c.Name, strings.ReplaceAll(f, "'", "''")))
	case model.Timestamp:
		value = fmt.Sprintf("TRY_CAST(%s AS TIMESTAMP)", text)
		if f := src.TimestampFormat; f != "" {
			value = fmt.Sprintf("try_strptime(%s, %s)", text, duck.Quote(f))
		}
		fail(fmt.Sprintf("%s IS NOT NULL AND %s IS NULL", text, val),
			fmt.Sprintf("'malformed timestamp ' || %s || ' for %s'", shown, c.Name))
	case model.Integer:
		value = fmt.Sprintf("TRY_CAST(%s AS BIGINT)", text)
		fail(fmt.Sprintf("%s IS NOT NULL AND (NOT regexp_full_match(%s, '[+-]?[0-9]+') OR %s IS NULL)", text, text, val),
			fmt.Sprintf("'malformed integer ' || %s || ' for %s'", shown, c.Name))
	case model.Currency:
		value = "upper(" + text + ")"
		fail(fmt.Sprintf("%s IS NOT NULL AND TRY_CAST(%s AS %s) IS NULL", text, val, currencyType),
			fmt.Sprintf("'unknown currency ' || %s || ' (want an ISO 4217 code such as EUR)'", shown))
	default:
		value = text
		if len(c.Values) > 0 {
			quoted := make([]string, len(c.Values))
			for i, v := range c.Values {
				quoted[i] = duck.Quote(v)
			}
			fail(fmt.Sprintf("%s IS NOT NULL AND NOT list_contains([%s], %s)", text, strings.Join(quoted, ", "), text),
				fmt.Sprintf("'%s ' || %s || ' is not one of %s (map source values under values.%s)'", c.Name, shown, strings.Join(c.Values, ", "), c.Name))
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
		conds[i] = fmt.Sprintf("%s = %s", textCol(k), duck.Quote(fs.When[k]))
	}
	return fmt.Sprintf("CASE WHEN %s THEN -(%s) ELSE %s END", strings.Join(conds, " AND "), value, value)
}

// checkedSQL returns a SELECT over the staged relation with _ord (when the
// relation has it), each canonical column the source fills, typed, the
// extras, the first problem of the row as _err (NULL when the row is good)
// and, for bad rows, the raw record as JSON. It works in layers, so that
// each expression is computed once per row: source columns renamed and
// canonical columns as text, then typed values, then the checks.
func (m *mapping) checkedSQL(st *staged, src config.Source) string {
	var texts, values, checks, out []string
	if st.ord == "_ord" {
		texts = append(texts, "_ord")
		out = append(out, "_ord")
	}
	raw := make(map[string]string, len(st.headers))
	record := make([]string, len(st.headers))
	for i, h := range st.headers {
		raw[h] = fmt.Sprintf("r%d", i)
		texts = append(texts, fmt.Sprintf("%s AS %s", duck.Ident(h), raw[h]))
		record[i] = fmt.Sprintf("%s := %s", duck.Ident(h), raw[h])
	}
	for _, c := range m.table.Columns {
		text, ok := m.text[c.Name]
		if !ok {
			text = "NULL::VARCHAR" // flip_sign may still name it
		}
		texts = append(texts, fmt.Sprintf("%s AS %s", text, textCol(c.Name)))
		if !ok {
			continue
		}
		value, cc := m.typed(c, src, src.FormatOf())
		values = append(values, fmt.Sprintf("%s AS %s", value, valueCol(c.Name)))
		checks = append(checks, cc...)
		out = append(out, fmt.Sprintf("%s AS %s", valueCol(c.Name), duck.Ident(c.Name)))
	}
	for _, e := range m.extras {
		out = append(out, fmt.Sprintf("%s AS %s", raw[e.source], duck.Ident(e.name)))
	}
	firstProblem := `NULL::STRUCT("column" VARCHAR, reason VARCHAR)`
	if len(checks) > 0 {
		firstProblem = "CASE " + strings.Join(checks, "\n\t") + " END"
	}
	typedLayer := "SELECT *"
	if len(values) > 0 {
		typedLayer += ", " + strings.Join(values, ",\n\t")
	}
	return fmt.Sprintf(`SELECT %s, _err, CASE WHEN _err IS NOT NULL THEN to_json(struct_pack(%s))::VARCHAR END AS _record
		FROM (SELECT *, %s AS _err
		FROM (%s
		FROM (SELECT %s FROM %s)))`,
		strings.Join(out, ", "), strings.Join(record, ", "), firstProblem,
		typedLayer, strings.Join(texts, ",\n\t"), st.from)
}
