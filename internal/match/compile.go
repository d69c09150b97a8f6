package match

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
)

// recon runs one rule. Every step is one set-based SQL statement; Go only
// sequences them. Work tables: l and r (the sides' rows, each with a
// surrogate _k), lopen and ropen (what is still unmatched), cand (a pass's
// candidate pairs), pairs (matches so far).
type recon struct {
	db      *sql.DB
	rule    *rules.Rule
	sum     run.ReconSummary
	tables  map[model.Dataset]string
	severe  func(breakType string) string
	hasLeft bool
}

func (rc *recon) exec(ctx context.Context, step, q string, args ...any) (int64, error) {
	res, err := rc.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("recon %s: %s: %w", rc.rule.Recon, step, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (rc *recon) run(ctx context.Context) error {
	r := rc.rule
	rc.sum = run.ReconSummary{Recon: r.Recon, Left: r.Left.Dataset, Right: r.Right.Dataset}
	if err := rc.loadSide(ctx, "l", r.Left); err != nil {
		return err
	}
	hasRight := r.Right.Dataset != ""
	if hasRight {
		if err := rc.loadSide(ctx, "r", r.Right); err != nil {
			return err
		}
	}
	for _, d := range r.Duplicates {
		for _, side := range []string{"left", "right"} {
			if (d.Side == side || d.Side == "both") && (side == "left" || hasRight) {
				if err := rc.duplicates(ctx, side, d); err != nil {
					return err
				}
			}
		}
	}
	if !hasRight {
		return rc.counts(ctx, false)
	}
	for _, p := range r.Passes {
		if err := rc.pass(ctx, p); err != nil {
			return err
		}
	}
	if err := rc.recordMatches(ctx); err != nil {
		return err
	}
	if err := rc.unmatched(ctx); err != nil {
		return err
	}
	for _, c := range r.Compare {
		if err := rc.compare(ctx, c); err != nil {
			return err
		}
	}
	return rc.counts(ctx, true)
}

// loadSide materialises a side's rows with a surrogate key _k (stable: by
// id, then origin), the id as text, the main amount and the partner name.
func (rc *recon) loadSide(ctx context.Context, alias string, s rules.Side) error {
	ds := s.DatasetName()
	t, _ := model.LookupTable(ds.Table)
	where := "true"
	if strings.TrimSpace(s.Where) != "" {
		if err := checkExpr(ctx, rc.db, s.Where); err != nil {
			return fail.ConfigErr(fmt.Errorf("%s: recon %s: %s.where: %w", rc.rule.File, rc.rule.Recon, s.Dataset, err))
		}
		where = "(" + s.Where + "\n)"
	}
	pname := "NULL::VARCHAR"
	if _, ok := t.Column("partner_name"); ok {
		pname = "partner_name"
	}
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[1]s AS
		SELECT row_number() OVER (ORDER BY CAST(%[2]s AS VARCHAR), %[7]s) AS _k, CAST(%[2]s AS VARCHAR) AS _id,
			CAST(%[3]s AS %[4]s) AS _amt, %[5]s AS _pname, *
		FROM %[6]s WHERE %[8]s`,
		alias, duck.Ident(t.Key), t.Amount, model.Money, pname, rc.tables[ds], model.Origin, where)
	if _, err := rc.exec(ctx, "load "+s.Dataset, q); err != nil {
		return err
	}
	_, err := rc.exec(ctx, "open "+s.Dataset, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %[1]sopen AS SELECT _k FROM %[1]s", alias))
	return err
}

// insertBreak is the INSERT INTO breaks prefix; callers add a SELECT
// producing the columns of breakSelect's list.
const insertBreak = `INSERT INTO breaks (recon, pass, break_type, severity, side,
	left_system, left_id, right_system, right_id, partner_id, legal_entity, currency,
	left_amount, right_amount, difference, detail, partner_name, left_origin, right_origin) `

// duplicates reports each group of rows sharing a normalised key as one
// break listing all their ids; the lowest id stays open for matching and
// the extra copies leave the match (they are not also unmatched).
func (rc *recon) duplicates(ctx context.Context, side string, d rules.DuplicateCheck) error {
	alias, ds := "l", rc.rule.Left.Dataset
	if side == "right" {
		alias, ds = "r", rc.rule.Right.Dataset
	}
	keys := make([]string, len(d.Keys))
	nonEmpty := make([]string, len(d.Keys))
	for i, k := range d.Keys {
		keys[i] = rules.Normalize("CAST("+duck.Ident(k)+" AS VARCHAR)", d.Normalize)
		nonEmpty[i] = "coalesce(" + keys[i] + ", '') <> ''"
	}
	keyDesc := strings.Join(d.Keys, ", ")
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE dup AS
		SELECT _k, _id, _amt, _pname, partner_id, legal_entity, currency, %[4]s AS _origin, g,
			row_number() OVER (PARTITION BY g ORDER BY _id, _k) AS rn, count(*) OVER (PARTITION BY g) AS n
		FROM (SELECT *, concat_ws(' / ', %[2]s) AS g FROM %[1]s WHERE %[3]s)
		QUALIFY count(*) OVER (PARTITION BY g) > 1`,
		alias, strings.Join(keys, ", "), strings.Join(nonEmpty, " AND "), model.Origin)
	if _, err := rc.exec(ctx, "duplicates", q); err != nil {
		return err
	}
	q = insertBreak + fmt.Sprintf(`
		SELECT ?, NULL, 'duplicate', ?, ?, ?, string_agg(_id, '|' ORDER BY _id), NULL, NULL,
			arg_min(partner_id, rn), arg_min(legal_entity, rn), arg_min(currency, rn),
			arg_min(_amt, rn), NULL, sum(_amt) FILTER (WHERE rn > 1),
			count(*) || ' copies of ' || %[1]s || ' "' || g || '" in ' || ? || ': ' || string_agg(_id, '|' ORDER BY _id)
				|| '; ' || arg_min(_id, rn) || ' goes on to matching, the others do not',
			arg_min(_pname, rn), string_agg(_origin, '|' ORDER BY _id), NULL
		FROM dup GROUP BY g`, duck.Quote(keyDesc))
	if _, err := rc.exec(ctx, "duplicate breaks", q, rc.rule.Recon, rc.severe(model.Duplicate), side, ds, ds); err != nil {
		return err
	}
	_, err := rc.exec(ctx, "drop duplicate copies", fmt.Sprintf("DELETE FROM %sopen WHERE _k IN (SELECT _k FROM dup WHERE rn > 1)", alias))
	return err
}

// pass matches what is still open, one to one. Candidates are ranked by one
// total order (amount difference, date difference, left id, right id); each
// round keeps the pairs that are the best candidate of both their rows, which
// gives the same result as taking candidates greedily in that order, and
// repeats until no candidate is left.
func (rc *recon) pass(ctx context.Context, p rules.Pass) error {
	var conds []string
	for _, k := range p.Keys {
		lk := rules.Normalize("CAST(l."+duck.Ident(k.Left)+" AS VARCHAR)", k.Normalize)
		rk := rules.Normalize("CAST(r."+duck.Ident(k.Right)+" AS VARCHAR)", k.Normalize)
		conds = append(conds, fmt.Sprintf("%s = %s AND %s <> ''", lk, rk, lk))
	}
	damt := "abs(l._amt - r._amt)"
	if a := p.Amount; a != nil {
		damt = fmt.Sprintf("abs(l.%s - r.%s)", duck.Ident(a.Left), duck.Ident(a.Right))
		conds = append(conds, fmt.Sprintf("%s <= %s", damt, a.Tol().String()))
	}
	ddays := "0"
	if d := p.Date; d != nil {
		ddays = fmt.Sprintf("abs(date_diff('day', l.%s, r.%s))", duck.Ident(d.Left), duck.Ident(d.Right))
		conds = append(conds, fmt.Sprintf("%s <= %d", ddays, d.WindowDays))
	}
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE cand AS
		SELECT l._k AS lk, r._k AS rk, l._id AS lid, r._id AS rid, coalesce(%s, 0) AS damt, %s AS ddays
		FROM (SELECT * FROM l SEMI JOIN lopen USING (_k)) l
		JOIN (SELECT * FROM r SEMI JOIN ropen USING (_k)) r ON %s`,
		damt, ddays, strings.Join(conds, " AND "))
	if _, err := rc.exec(ctx, "pass "+p.Name, q); err != nil {
		return err
	}
	var total int64
	for {
		q := `CREATE OR REPLACE TEMP TABLE pick AS
			SELECT lk, rk FROM (
				SELECT lk, rk,
					row_number() OVER (PARTITION BY lk ORDER BY damt, ddays, lid, rid, lk, rk) AS bl,
					row_number() OVER (PARTITION BY rk ORDER BY damt, ddays, lid, rid, lk, rk) AS br
				FROM cand)
			WHERE bl = 1 AND br = 1`
		if _, err := rc.exec(ctx, "pass "+p.Name+" pick", q); err != nil {
			return err
		}
		n, err := rc.exec(ctx, "pass "+p.Name+" record", "INSERT INTO pairs SELECT ?, ?, lk, rk FROM pick", rc.rule.Recon, p.Name)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		total += n
		for _, q := range []string{
			"DELETE FROM cand WHERE lk IN (SELECT lk FROM pick) OR rk IN (SELECT rk FROM pick)",
			"DELETE FROM lopen WHERE _k IN (SELECT lk FROM pick)",
			"DELETE FROM ropen WHERE _k IN (SELECT rk FROM pick)",
		} {
			if _, err := rc.exec(ctx, "pass "+p.Name+" close", q); err != nil {
				return err
			}
		}
	}
	rc.sum.Passes = append(rc.sum.Passes, run.PassCount{Pass: p.Name, Pairs: total})
	return nil
}

func (rc *recon) passNames() string {
	names := make([]string, len(rc.rule.Passes))
	for i, p := range rc.rule.Passes {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// recordMatches keeps the recon's pairs for matches.parquet. A one-to-one
// pair is its own match group.
func (rc *recon) recordMatches(ctx context.Context) error {
	q := fmt.Sprintf(`INSERT INTO matches
		SELECT p.recon, p.pass, substr(sha256(p.recon || '|' || l._id || '|' || r._id), 1, 16),
			l._id, r._id, l._amt, r._amt, l.%[1]s, r.%[1]s
		FROM pairs p JOIN l ON l._k = p.lk JOIN r ON r._k = p.rk WHERE p.recon = ?`, model.Origin)
	_, err := rc.exec(ctx, "record matches", q, rc.rule.Recon)
	return err
}

// unmatched reports every row still open on either side.
func (rc *recon) unmatched(ctx context.Context) error {
	r := rc.rule
	sev := rc.severe(model.Unmatched)
	left := insertBreak + fmt.Sprintf(`
		SELECT ?, NULL, 'unmatched', ?, 'left', ?, _id, ?, NULL, partner_id, legal_entity, currency,
			_amt, NULL, _amt,
			'no ' || ? || ' record matched ' || ? || ' ' || _id || ' in passes ' || ?,
			_pname, %[1]s, NULL
		FROM l SEMI JOIN lopen USING (_k)`, model.Origin)
	if _, err := rc.exec(ctx, "unmatched left", left, r.Recon, sev, r.Left.Dataset, r.Right.Dataset, r.Right.Dataset, r.Left.Dataset, rc.passNames()); err != nil {
		return err
	}
	right := insertBreak + fmt.Sprintf(`
		SELECT ?, NULL, 'unmatched', ?, 'right', ?, NULL, ?, _id, partner_id, legal_entity, currency,
			NULL, _amt, -_amt,
			'no ' || ? || ' record matched ' || ? || ' ' || _id || ' in passes ' || ?,
			_pname, NULL, %[1]s
		FROM r SEMI JOIN ropen USING (_k)`, model.Origin)
	_, err := rc.exec(ctx, "unmatched right", right, r.Recon, sev, r.Left.Dataset, r.Right.Dataset, r.Left.Dataset, r.Right.Dataset, rc.passNames())
	return err
}

// compare raises a break on every matched pair whose field differs.
func (rc *recon) compare(ctx context.Context, c rules.Comparison) error {
	r := rc.rule
	lt, _ := model.LookupTable(r.Left.DatasetName().Table)
	col, _ := lt.Column(c.Left)
	lcol, rcol := "l."+duck.Ident(c.Left), "r."+duck.Ident(c.Right)
	var cond, amounts, detail string
	switch col.Kind {
	case model.Amount:
		tol := c.Tol().String()
		cond = fmt.Sprintf("%[1]s IS DISTINCT FROM %[2]s AND NOT coalesce(abs(%[1]s - %[2]s) <= %[3]s, false)", lcol, rcol, tol)
		amounts = fmt.Sprintf("%s, %s, %s - %s", lcol, rcol, lcol, rcol)
		detail = fmt.Sprintf(`'%s differs by ' || coalesce(fr_amt(%s - %s), 'a missing value') || ' (tolerance %s); '`,
			c.Left, lcol, rcol, tol)
	case model.Date:
		cond = lcol + " IS DISTINCT FROM " + rcol
		amounts = "l._amt, r._amt, NULL"
		detail = fmt.Sprintf(`'%[1]s is ' || coalesce(CAST(%[2]s AS VARCHAR), 'empty') || ' in %[3]s but ' || coalesce(CAST(%[4]s AS VARCHAR), 'empty') || ' in %[5]s' || coalesce(' (' || date_diff('day', %[6]s, %[7]s) || CASE WHEN abs(date_diff('day', %[6]s, %[7]s)) = 1 THEN ' day)' ELSE ' days)' END, '') || '; '`,
			c.Left, lcol, r.Left.Dataset, rcol, r.Right.Dataset, lcol, rcol)
	default:
		mapped := "CAST(" + lcol + " AS VARCHAR)"
		if len(c.Map) > 0 {
			mapped = duck.CaseMap(mapped, c.Map)
		}
		cond = fmt.Sprintf("(%s) IS DISTINCT FROM CAST(%s AS VARCHAR)", mapped, rcol)
		amounts = "l._amt, r._amt, NULL"
		expect := ""
		if len(c.Map) > 0 {
			expect = fmt.Sprintf(` || ' (expected ' || coalesce(%s, 'empty') || ')'`, mapped)
		}
		detail = fmt.Sprintf(`'%s is ' || coalesce(CAST(%s AS VARCHAR), 'empty') || ' in %s but ' || coalesce(CAST(%s AS VARCHAR), 'empty') || ' in %s'%s || '; '`,
			c.Left, lcol, r.Left.Dataset, rcol, r.Right.Dataset, expect)
	}
	q := insertBreak + fmt.Sprintf(`
		SELECT ?, p.pass, ?, ?, 'both', ?, l._id, ?, r._id,
			coalesce(l.partner_id, r.partner_id), coalesce(l.legal_entity, r.legal_entity), coalesce(l.currency, r.currency),
			%[1]s,
			%[2]s || 'matched in pass ' || p.pass || ' (' || pd.how || ')',
			coalesce(l._pname, r._pname), l.%[4]s, r.%[4]s
		FROM pairs p JOIN l ON l._k = p.lk JOIN r ON r._k = p.rk JOIN pass_desc pd ON pd.recon = p.recon AND pd.pass = p.pass
		WHERE p.recon = ? AND %[3]s`, amounts, detail, cond, model.Origin)
	_, err := rc.exec(ctx, "compare "+c.Break, q, r.Recon, c.Break, rc.severe(c.Break), r.Left.Dataset, r.Right.Dataset, r.Recon)
	return err
}

// passDescription says in words what a pass matched on, for break details.
func passDescription(p rules.Pass) string {
	var parts []string
	for _, k := range p.Keys {
		if k.Left == k.Right {
			parts = append(parts, k.Left)
		} else {
			parts = append(parts, k.Left+" = "+k.Right)
		}
	}
	if a := p.Amount; a != nil {
		parts = append(parts, fmt.Sprintf("%s within %s", a.Left, a.Tol()))
	}
	if d := p.Date; d != nil {
		parts = append(parts, fmt.Sprintf("%s within %d days", d.Left, d.WindowDays))
	}
	return "on " + strings.Join(parts, ", ")
}

// counts fills the recon's row and match counts.
func (rc *recon) counts(ctx context.Context, hasRight bool) error {
	s := &rc.sum
	q := "SELECT (SELECT count(*) FROM l)"
	if hasRight {
		q += `, (SELECT count(*) FROM r), (SELECT count(DISTINCT lk) FROM pairs WHERE recon = $1),
			(SELECT count(DISTINCT rk) FROM pairs WHERE recon = $1), (SELECT count(*) FROM pairs WHERE recon = $1)`
		if err := rc.db.QueryRowContext(ctx, q, rc.rule.Recon).Scan(&s.LeftRows, &s.RightRows, &s.LeftMatched, &s.RightMatched, &s.Pairs); err != nil {
			return fmt.Errorf("recon %s: counts: %w", rc.rule.Recon, err)
		}
	} else if err := rc.db.QueryRowContext(ctx, q).Scan(&s.LeftRows); err != nil {
		return fmt.Errorf("recon %s: counts: %w", rc.rule.Recon, err)
	}
	if s.LeftRows > 0 && hasRight {
		// Exact ratio to four places, computed in integers.
		basisPoints := (s.LeftMatched*100000/s.LeftRows + 5) / 10
		s.MatchRate = fmt.Sprintf("%d.%04d", basisPoints/10000, basisPoints%10000)
	}
	return nil
}

// checkExpr parses a rule's SQL condition without running it and refuses
// anything but one plain expression: a second statement smuggled in after a
// ";" or a subquery would otherwise run with the engine's rights.
func checkExpr(ctx context.Context, db *sql.DB, expr string) error {
	var out string
	q := "SELECT CAST(json_serialize_sql(CAST(? AS VARCHAR)) AS VARCHAR)"
	if err := db.QueryRowContext(ctx, q, "SELECT 1 WHERE ("+expr+"\n)").Scan(&out); err != nil {
		return fmt.Errorf("check expression: %w", err)
	}
	var parsed struct {
		Error      bool              `json:"error"`
		Message    string            `json:"error_message"`
		Statements []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(out), &parsed); err != nil {
		return fmt.Errorf("check expression: %w", err)
	}
	switch {
	case parsed.Error:
		return fmt.Errorf("not a valid SQL condition: %s", parsed.Message)
	case len(parsed.Statements) != 1:
		return fmt.Errorf("must be one SQL condition, not several statements")
	case strings.Contains(out, `"SUBQUERY"`):
		return fmt.Errorf("must not contain a subquery")
	}
	return nil
}
