package match

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
)

// A pass matches units: a unit is one open row or, on a grouped side, one
// group of open rows sharing the grouping columns. Each side's units are in
// a table (lu, ru: u, rep, uid, ids, k0.., amt, cur, dmin, dmax, fz) with
// its membership (lm, rm: u, _k). Candidates are unit pairs in cand.

// units builds the unit and membership tables of one side for pass p.
func (rc *recon) units(ctx context.Context, p rules.Pass, side string, grouped bool) error {
	a := side[:1]
	cols := rc.unitColumns(p, side)
	base, err := rc.openRows(ctx, a)
	if err != nil {
		return err
	}
	if !grouped {
		// No filter: an empty key is NULL here and joins nothing. A filter
		// on the keys would be pushed into the scan and compute every
		// normalised key twice.
		q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[1]su AS
			SELECT _k AS u, _k AS rep, _id AS uid, _id AS ids, %[2]s FROM %[3]s`,
			a, cols.single(), base)
		return rc.execAll(ctx, "pass "+p.Name+" units",
			q, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %[1]sm AS SELECT u, u AS _k FROM %[1]su", a))
	}
	// A group without keys matches nothing.
	var nonEmpty []string
	for i := range p.Keys {
		nonEmpty = append(nonEmpty, fmt.Sprintf("coalesce(k%d, '') <> ''", i))
	}
	filter := ""
	if len(nonEmpty) > 0 {
		filter = "WHERE " + strings.Join(nonEmpty, " AND ")
	}
	var groupCols, groupNonEmpty []string
	for i, g := range rulesGroup(p, side) {
		groupCols = append(groupCols, fmt.Sprintf("%s AS g%d", groupExpr(p, side, g), i))
		groupNonEmpty = append(groupNonEmpty, fmt.Sprintf("coalesce(g%d, '') <> ''", i))
	}
	gs := make([]string, len(groupCols))
	on := make([]string, len(groupCols))
	for i := range gs {
		gs[i] = fmt.Sprintf("g%d", i)
		on[i] = fmt.Sprintf("r.g%[1]d = grp.g%[1]d", i)
	}
	// A group's unit id is its lowest row key: deterministic, and found
	// by an aggregate and a join, which spill under a memory limit, where
	// numbering the groups with a window over every row would not.
	members := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[1]sm AS
		WITH r AS MATERIALIZED (SELECT _k, %[2]s FROM %[3]s),
			grp AS (SELECT %[4]s, min(_k) AS u FROM r WHERE %[5]s GROUP BY ALL)
		SELECT grp.u, r._k FROM r JOIN grp ON %[6]s`,
		a, strings.Join(groupCols, ", "), base, strings.Join(gs, ", "), strings.Join(groupNonEmpty, " AND "), strings.Join(on, " AND "))
	units := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[1]su AS
		SELECT * FROM (
			SELECT m.u, arg_min(_k, (_id, _k)) AS rep, min(_id) AS uid, array_to_string(list_sort(list(_id)), '|') AS ids, %[2]s
			FROM %[1]sm m JOIN %[1]s USING (_k) GROUP BY m.u) %[3]s`,
		a, cols.grouped(), filter)
	if _, err := rc.exec(ctx, "pass "+p.Name+" members", members); err != nil {
		return err
	}
	_, err = rc.exec(ctx, "pass "+p.Name+" groups", units)
	return err
}

// unitCols are the SQL expressions of a side's unit columns over its rows.
type unitCols struct {
	keys      []string
	amt, date string
	fz        string
}

// single is the columns of a unit of one row. An empty key or reference
// is NULL, so that it matches nothing.
func (c unitCols) single() string {
	var out []string
	for i, k := range c.keys {
		out = append(out, fmt.Sprintf("nullif(%s, '') AS k%d", k, i))
	}
	out = append(out, fmt.Sprintf("CAST(%s AS DECIMAL(38,4)) AS amt", c.amt), "currency AS cur",
		c.date+" AS dmin", c.date+" AS dmax", "nullif("+c.fz+", '') AS fz")
	return strings.Join(out, ", ")
}

// grouped aggregates the columns over a group. Keys on a grouped side are
// grouping columns (the rules validator sees to it), so min is their value.
func (c unitCols) grouped() string {
	var out []string
	for i, k := range c.keys {
		out = append(out, fmt.Sprintf("min(%s) AS k%d", k, i))
	}
	out = append(out, fmt.Sprintf("CAST(sum(%s) AS DECIMAL(38,4)) AS amt", c.amt), "min(currency) AS cur",
		"min("+c.date+") AS dmin", "max("+c.date+") AS dmax", "NULL::VARCHAR AS fz")
	return strings.Join(out, ", ")
}

func (rc *recon) unitColumns(p rules.Pass, side string) unitCols {
	left := side == "left"
	var c unitCols
	for _, k := range p.Keys {
		col, expr := k.Left, k.LeftExpr
		if !left {
			col, expr = k.Right, k.RightExpr
		}
		v := "CAST(" + duck.Ident(col) + " AS VARCHAR)"
		if expr != "" {
			v = "CAST((" + expr + "\n) AS VARCHAR)"
		}
		c.keys = append(c.keys, rules.Normalize(v, k.Normalize))
	}
	c.amt = "_amt"
	if a := p.Amount; a != nil {
		c.amt = duck.Ident(pick(left, a.Left, a.Right))
	}
	c.date = "NULL::DATE"
	if d := p.Date; d != nil {
		c.date = duck.Ident(pick(left, d.Left, d.Right))
	}
	c.fz = "NULL::VARCHAR"
	if f := p.Fuzzy; f != nil {
		c.fz = rules.Normalize("CAST("+duck.Ident(pick(left, f.Left, f.Right))+" AS VARCHAR)", f.Normalize)
	}
	return c
}

func pick(left bool, l, r string) string {
	if left {
		return l
	}
	return r
}

// groupExpr is a grouping column as the pass sees it: normalised like the
// key that uses it, so "po-1" and "PO-1" are one payout when the key
// compares them in upper case.
func groupExpr(p rules.Pass, side, col string) string {
	for _, k := range p.Keys {
		if pick(side == "left", k.Left, k.Right) == col {
			return rules.Normalize("CAST("+duck.Ident(col)+" AS VARCHAR)", k.Normalize)
		}
	}
	return "CAST(" + duck.Ident(col) + " AS VARCHAR)"
}

func rulesGroup(p rules.Pass, side string) []string {
	if p.Group == nil {
		return nil
	}
	if side == "left" {
		return p.Group.Left
	}
	return p.Group.Right
}

// tolerance is the SQL of a tolerance around the amount base: the absolute
// tolerance, or the relative one when that is more, capped by at_most.
func tolerance(t rules.Tolerance, base string) string {
	abs := t.Abs().String()
	if !t.IsRelative() {
		return abs
	}
	rel := fmt.Sprintf("round(abs(%s) * %s, 4)", base, t.Rel().String())
	if max, ok := t.Max(); ok {
		rel = fmt.Sprintf("least(%s, %s)", rel, max.String())
	}
	return fmt.Sprintf("greatest(%s, %s)", abs, rel)
}

// candidates fills cand with every unit pair the pass allows: keys equal,
// dates within bounds, the fuzzy reference similar enough and, unless
// withoutAmount, amounts within tolerance. r1 ranks fuzzy similarity (best
// first) before the amount and date differences.
func (rc *recon) candidates(ctx context.Context, p rules.Pass, withoutAmount bool) error {
	var on []string
	for i := range p.Keys {
		on = append(on, fmt.Sprintf("lu.k%[1]d = ru.k%[1]d", i))
	}
	if len(on) == 0 {
		on = append(on, "true")
	}
	from := "lu JOIN ru ON " + strings.Join(on, " AND ")
	ramt := "ru.amt"
	if a := p.Amount; a != nil && a.Convert {
		rates := rc.tables[rc.rule.Rates.DatasetName()]
		from += fmt.Sprintf(` ASOF LEFT JOIN %s x ON x.from_currency = ru.cur AND x.to_currency = lu.cur AND lu.dmin >= x.rate_date`, rates)
		ramt = "CASE WHEN ru.cur = lu.cur THEN ru.amt ELSE round(ru.amt * x.rate, 4) END"
	}
	damt := fmt.Sprintf("abs(lu.amt - %s)", ramt)
	var where []string
	if a := p.Amount; a != nil && !withoutAmount {
		where = append(where, fmt.Sprintf("%s <= %s", damt, tolerance(a.Tolerance, "lu.amt")))
	}
	ddays := "0"
	if d := p.Date; d != nil {
		min, max := d.Bounds()
		where = append(where, fmt.Sprintf("date_diff('day', lu.dmax, ru.dmin) >= %d AND date_diff('day', lu.dmin, ru.dmax) <= %d", min, max))
		ddays = "greatest(abs(date_diff('day', lu.dmax, ru.dmin)), abs(date_diff('day', lu.dmin, ru.dmax)))"
	}
	score, r1 := "NULL::DECIMAL(9,4)", "0"
	if f := p.Fuzzy; f != nil {
		switch f.Method {
		case "levenshtein":
			score = "CAST(levenshtein(lu.fz, ru.fz) AS DECIMAL(9,4))"
			r1 = score
			where = append(where, fmt.Sprintf("levenshtein(lu.fz, ru.fz) <= %s", f.Limit()))
		default:
			score = "CAST(round(jaro_winkler_similarity(lu.fz, ru.fz), 4) AS DECIMAL(9,4))"
			r1 = "-" + score
			where = append(where, fmt.Sprintf("%s >= %s", score, f.Limit()))
		}
	}
	if len(where) == 0 {
		where = append(where, "true")
	}
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE cand AS
		SELECT lu.u AS lu, ru.u AS ru, lu.uid AS lid, ru.uid AS rid,
			coalesce(%s, 0) AS damt, %s AS ddays, %s AS r1, %s AS score
		FROM %s WHERE %s`, damt, ddays, r1, score, from, strings.Join(where, " AND "))
	_, err := rc.exec(ctx, "pass "+p.Name+" candidates", q)
	return err
}

// pass matches what is still open. Candidates are ranked by one total
// order (fuzzy similarity, amount difference, date difference, left id,
// right id); each round keeps the pairs that are the best candidate of both
// their units, which gives the same result as taking candidates greedily in
// that order, and repeats until no candidate is left. Under ambiguity
// report, units whose best candidates tie are reported first and take no
// further part.
func (rc *recon) pass(ctx context.Context, p rules.Pass) error {
	if err := rc.units(ctx, p, "left", p.Many("left")); err != nil {
		return err
	}
	if err := rc.units(ctx, p, "right", p.Many("right")); err != nil {
		return err
	}
	if err := rc.candidates(ctx, p, false); err != nil {
		return err
	}
	count := run.PassCount{Pass: p.Name}
	// Unit pairs that are each other's only candidate are every ranking's
	// first choice and can never tie: they are taken at once, so the tie
	// check and the rounds below rank only the contested rest (at scale, a
	// few percent).
	// The units with several candidates are few: the joins build on them.
	if err := rc.execAll(ctx, "pass "+p.Name+" single candidates",
		"CREATE OR REPLACE TEMP TABLE multi_l AS SELECT lu FROM cand GROUP BY lu HAVING count(*) > 1",
		"CREATE OR REPLACE TEMP TABLE multi_r AS SELECT ru FROM cand GROUP BY ru HAVING count(*) > 1",
		`CREATE OR REPLACE TEMP TABLE pick AS
			SELECT lu, ru, score FROM cand ANTI JOIN multi_l USING (lu) ANTI JOIN multi_r USING (ru)`,
	); err != nil {
		return err
	}
	// What is left of cand is exactly the candidates of contested units:
	// a unit in pick has no other candidate.
	contested := "SELECT * FROM cand WHERE lu IN (SELECT lu FROM multi_l) OR ru IN (SELECT ru FROM multi_r)"
	if _, err := rc.take(ctx, p, &count, contested); err != nil {
		return err
	}
	if p.Policy() == rules.Report {
		n, err := rc.ambiguous(ctx, p)
		if err != nil {
			return err
		}
		count.Ambiguous = n
	}
	for {
		pick := `CREATE OR REPLACE TEMP TABLE pick AS
			SELECT lu, ru, score FROM (
				SELECT lu, ru, score,
					row_number() OVER (PARTITION BY lu ORDER BY r1, damt, ddays, lid, rid, lu, ru) AS bl,
					row_number() OVER (PARTITION BY ru ORDER BY r1, damt, ddays, lid, rid, lu, ru) AS br
				FROM cand)
			WHERE bl = 1 AND br = 1`
		if _, err := rc.exec(ctx, "pass "+p.Name+" pick", pick); err != nil {
			return err
		}
		n, err := rc.take(ctx, p, &count, "")
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	rc.sum.Passes = append(rc.sum.Passes, count)
	return nil
}

// take records the unit pairs in pick as pairs of rows, counts them and
// closes their units and rows. rest, when not empty, is a query of the
// candidates left once pick's units are closed. It returns how many row
// pairs it recorded.
func (rc *recon) take(ctx context.Context, p rules.Pass, count *run.PassCount, rest string) (int64, error) {
	grp := "NULL::VARCHAR"
	if p.Cardinality != rules.OneToOne {
		grp = fmt.Sprintf("substr(sha256(%s || '|' || lu.ids || '|' || ru.ids), 1, 16)", duck.Quote(rc.rule.Recon+"|"+p.Name))
	}
	// On a side of single rows a unit is its row (u = _k): no join needed.
	lk, rk, joins := "pick.lu", "pick.ru", ""
	if p.Cardinality != rules.OneToOne {
		joins = " JOIN lu ON lu.u = pick.lu JOIN ru ON ru.u = pick.ru"
	}
	if p.Many("left") {
		lk, joins = "lm._k", joins+" JOIN lm ON lm.u = pick.lu"
	}
	if p.Many("right") {
		rk, joins = "rm._k", joins+" JOIN rm ON rm.u = pick.ru"
	}
	record := fmt.Sprintf(`INSERT INTO pairs
		SELECT ?, ?, %s, %s, %s, ?, pick.score
		FROM pick%s`, lk, rk, grp, joins)
	n, err := rc.exec(ctx, "pass "+p.Name+" record", record, rc.rule.Recon, p.Name, p.Fuzzy != nil)
	if err != nil || n == 0 {
		return n, err
	}
	count.Pairs += n
	var groups int64
	if err := rc.db.QueryRowContext(ctx, "SELECT count(*) FROM pick").Scan(&groups); err != nil {
		return 0, fmt.Errorf("recon %s: pass %s: %w", rc.rule.Recon, p.Name, err)
	}
	if p.Cardinality != rules.OneToOne {
		count.Groups += groups
	}
	if p.Fuzzy != nil {
		count.Proposed += groups
	}
	return n, rc.execAll(ctx, "pass "+p.Name+" close", concat(
		rebuild("cand", cmp.Or(rest, "SELECT c.* FROM cand c ANTI JOIN pick a ON a.lu = c.lu ANTI JOIN pick b ON b.ru = c.ru")),
		closeRows("l", rowsOf(p, "left", "pick.lu")),
		closeRows("r", rowsOf(p, "right", "pick.ru")),
	)...)
}

// rowsOf is a query of the _k of the rows of a side's units in unit
// column col of pick: the units themselves on a side of single rows (pick
// holds a unit once: it is each unit's best candidate).
func rowsOf(p rules.Pass, side, col string) string {
	a := side[:1]
	if !p.Many(side) {
		return fmt.Sprintf("SELECT %s AS _k FROM pick", col)
	}
	return fmt.Sprintf("SELECT %[1]sm._k FROM %[1]sm SEMI JOIN pick ON %[1]sm.u = %[2]s", a, col)
}

// ambiguous reports every unit whose best candidates tie on similarity,
// amount difference and date difference: left units first, then right
// units among what is left. A reported unit and its tied candidates leave
// the pass and are not reported unmatched: a person decides.
func (rc *recon) ambiguous(ctx context.Context, p rules.Pass) (int64, error) {
	q := `CREATE OR REPLACE TEMP TABLE amb AS
		WITH lt AS (
			SELECT lu, ru FROM cand
			QUALIFY rank() OVER (PARTITION BY lu ORDER BY r1, damt, ddays) = 1
				AND count(*) OVER (PARTITION BY lu, r1, damt, ddays) > 1),
		rt AS (
			SELECT lu, ru FROM cand
			WHERE lu NOT IN (SELECT lu FROM lt) AND ru NOT IN (SELECT ru FROM lt)
			QUALIFY rank() OVER (PARTITION BY ru ORDER BY r1, damt, ddays) = 1
				AND count(*) OVER (PARTITION BY ru, r1, damt, ddays) > 1)
		SELECT 'left' AS anchor, lu, ru FROM lt UNION ALL SELECT 'right', lu, ru FROM rt`
	if _, err := rc.exec(ctx, "pass "+p.Name+" ties", q); err != nil {
		return 0, err
	}
	sortedIDs := func(u string) string {
		return fmt.Sprintf("array_to_string(list_sort(flatten(list(string_split(%s.ids, '|')))), '|')", u)
	}
	var total int64
	for _, anchor := range []string{"left", "right"} {
		one, many := "lu", "ru"
		if anchor == "right" {
			one, many = "ru", "lu"
		}
		oneAlias := one[:1]
		b := breakRow{typ: model.Ambiguous, side: "both", leftSystem: rc.rule.Left.Dataset, rightSystm: rc.rule.Right.Dataset,
			pass: duck.Quote(p.Name), partner: "any_value(x.partner_id)", entity: "any_value(x.legal_entity)", cur: "any_value(x.currency)",
			pname: "any_value(x._pname)",
			detail: fmt.Sprintf(`any_value(%[1]s.ids) || ' has ' || count(*) || ' equally good candidates in pass ' || %[3]s || ' (amount difference ' || fr_amt(any_value(c.damt)) || ', ' || any_value(c.ddays) || CASE WHEN any_value(c.ddays) = 1 THEN ' day' ELSE ' days' END || ' apart): ' || %[2]s || '; none was picked, a person decides'`,
				one, sortedIDs(many), duck.Quote("`"+p.Name+"`")),
		}
		if anchor == "left" {
			b.leftID, b.rightID, b.lamt = "any_value(lu.ids)", sortedIDs("ru"), "any_value(lu.amt)"
			b.lorigin = "any_value(x." + model.Origin + ")"
		} else {
			b.leftID, b.rightID, b.ramt = sortedIDs("lu"), "any_value(ru.ids)", "any_value(ru.amt)"
			b.rorigin = "any_value(x." + model.Origin + ")"
		}
		from := fmt.Sprintf(`FROM amb a JOIN lu ON lu.u = a.lu JOIN ru ON ru.u = a.ru
			JOIN cand c ON c.lu = a.lu AND c.ru = a.ru JOIN %[1]s x ON x._k = %[2]s.rep
			WHERE a.anchor = '%[3]s' GROUP BY a.%[2]s`, oneAlias, one, anchor)
		n, err := rc.insertBreaks(ctx, "pass "+p.Name+" ambiguous", b, from)
		if err != nil {
			return 0, err
		}
		total += n
	}
	err := rc.execAll(ctx, "pass "+p.Name+" set aside ties", concat(
		closeRows("l", "SELECT _k FROM lm SEMI JOIN amb ON lm.u = amb.lu"),
		closeRows("r", "SELECT _k FROM rm SEMI JOIN amb ON rm.u = amb.ru"),
		drop("cand", "lu IN (SELECT lu FROM amb) OR ru IN (SELECT ru FROM amb)"),
	)...)
	return total, err
}
