package match

import (
	"context"
	"fmt"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
)

// subsetSum settles one item (the "one" side) with a subset of open items
// on the many side whose total agrees with it, without a grouping key: one
// lump receipt for several invoices of a partner. The search is bounded:
// per item only the max_candidates candidates nearest in date (then lowest
// ids) are tried, in subsets of at most max_items, so it always ends; items
// with more candidates are counted as unsearched and their unmatched break
// says so. Among the subsets that agree, the fewest items win; two winning
// subsets are ambiguous (or, under ambiguity pick, the lowest ids win).
// Items competing for the same many-side rows are settled in id order.
func (rc *recon) subsetSum(ctx context.Context, p rules.Pass) error {
	if err := rc.units(ctx, p, "left", false); err != nil {
		return err
	}
	if err := rc.units(ctx, p, "right", false); err != nil {
		return err
	}
	if err := rc.candidates(ctx, p, true); err != nil {
		return err
	}
	// o is the one side's unit, m the many side's.
	o, m, oid, mid, ounits, munits := "ru", "lu", "rid", "lid", "ru", "lu"
	if p.Cardinality == rules.OneToMany {
		o, m, oid, mid, ounits, munits = "lu", "ru", "lid", "rid", "lu", "ru"
	}
	s := p.SubsetSum
	stmts := []string{
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE sscand AS
			SELECT * FROM (
				SELECT c.%[1]s AS o, c.%[2]s AS m, c.%[3]s AS oid, c.%[4]s AS mid, u.amt AS mamt,
					row_number() OVER (PARTITION BY c.%[1]s ORDER BY c.ddays, c.%[4]s, c.%[2]s) AS idx,
					count(*) OVER (PARTITION BY c.%[1]s) AS total
				FROM cand c JOIN %[5]s u ON u.u = c.%[2]s)
			WHERE idx <= %[6]d`, o, m, oid, mid, munits, s.MaxCandidates),
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE subsets AS
			WITH RECURSIVE s(o, last, items, ids, total, n) AS (
				SELECT o, idx, [m], [mid], CAST(mamt AS DECIMAL(38,4)), 1 FROM sscand
				UNION ALL
				SELECT s.o, c.idx, list_append(s.items, c.m), list_append(s.ids, c.mid), CAST(s.total + c.mamt AS DECIMAL(38,4)), s.n + 1
				FROM s JOIN sscand c ON c.o = s.o AND c.idx > s.last
				WHERE s.n < %[1]d)
			SELECT row_number() OVER (ORDER BY s.o, list_sort(s.ids)) AS sid, s.o, ou.uid AS oid, s.items, list_sort(s.ids) AS ids, s.n
			FROM s JOIN %[2]s ou ON ou.u = s.o
			WHERE abs(s.total - ou.amt) <= %[3]s`, s.MaxItems, ounits, tolerance(p.Amount.Tolerance, "ou.amt")),
		`CREATE OR REPLACE TEMP TABLE ssm AS SELECT sid, unnest(items) AS m FROM subsets`,
	}
	if err := rc.execAll(ctx, "pass "+p.Name+" subsets", stmts...); err != nil {
		return err
	}
	count := run.PassCount{Pass: p.Name}
	if err := rc.db.QueryRowContext(ctx, "SELECT count(DISTINCT o) FROM sscand WHERE total > ?", s.MaxCandidates).Scan(&count.Unsearched); err != nil {
		return fmt.Errorf("recon %s: pass %s: %w", rc.rule.Recon, p.Name, err)
	}
	if _, err := rc.exec(ctx, "pass "+p.Name+" unsearched", `INSERT INTO unsearched
		SELECT DISTINCT ?, ?, ?, o, ?, total FROM sscand WHERE total > ?`,
		rc.rule.Recon, p.Name, o[:1], s.MaxCandidates, s.MaxCandidates); err != nil {
		return err
	}
	if p.Policy() == rules.Report {
		n, err := rc.ambiguousSubsets(ctx, p, o, m)
		if err != nil {
			return err
		}
		count.Ambiguous = n
	}
	lk, rk := "ssm.m", "chosen.o"
	if p.Cardinality == rules.OneToMany {
		lk, rk = "chosen.o", "ssm.m"
	}
	for {
		stmts := []string{
			`CREATE OR REPLACE TEMP TABLE chosen AS
				SELECT * FROM subsets QUALIFY row_number() OVER (PARTITION BY o ORDER BY n, ids) = 1`,
			// An item wins its rows when it is the lowest-id claimant of each.
			`CREATE OR REPLACE TEMP TABLE won AS
				WITH claims AS (SELECT c.o, c.oid, ssm.m FROM chosen c JOIN ssm USING (sid)),
				winner AS (SELECT m, arg_min(o, oid) AS o FROM claims GROUP BY m)
				SELECT c.* FROM chosen c
				WHERE NOT EXISTS (SELECT 1 FROM claims x JOIN winner w USING (m) WHERE x.o = c.o AND w.o <> c.o)`,
		}
		if err := rc.execAll(ctx, "pass "+p.Name+" choose", stmts...); err != nil {
			return err
		}
		record := fmt.Sprintf(`INSERT INTO pairs
			SELECT ?, ?, %s, %s, substr(sha256(? || array_to_string(chosen.ids, '|') || '|' || chosen.oid), 1, 16), false, NULL
			FROM won chosen JOIN ssm USING (sid)`, lk, rk)
		n, err := rc.exec(ctx, "pass "+p.Name+" record", record, rc.rule.Recon, p.Name, rc.rule.Recon+"|"+p.Name+"|")
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		count.Pairs += n
		var groups int64
		if err := rc.db.QueryRowContext(ctx, "SELECT count(*) FROM won").Scan(&groups); err != nil {
			return err
		}
		count.Groups += groups
		if err := rc.takeSubsets(ctx, p, "won", o, m); err != nil {
			return err
		}
	}
	rc.sum.Passes = append(rc.sum.Passes, count)
	return nil
}

// takeSubsets closes the items of the subsets in table t and drops every
// subset that can no longer be used.
func (rc *recon) takeSubsets(ctx context.Context, p rules.Pass, t, o, m string) error {
	return rc.execAll(ctx, "pass "+p.Name+" close", concat(
		[]string{fmt.Sprintf("CREATE OR REPLACE TEMP TABLE taken AS SELECT DISTINCT m FROM %s JOIN ssm USING (sid)", t)},
		closeRows(o[:1], fmt.Sprintf("SELECT o AS _k FROM %s", t)),
		closeRows(m[:1], "SELECT m AS _k FROM taken"),
		drop("subsets", fmt.Sprintf("o IN (SELECT o FROM %s) OR sid IN (SELECT sid FROM ssm SEMI JOIN taken USING (m))", t)),
	)...)
}

// ambiguousSubsets reports each item whose fewest-item agreeing subsets are
// two or more, listing every row of them; the item and those rows take no
// further part.
func (rc *recon) ambiguousSubsets(ctx context.Context, p rules.Pass, o, m string) (int64, error) {
	q := `CREATE OR REPLACE TEMP TABLE tied AS
		SELECT * FROM subsets
		QUALIFY n = min(n) OVER (PARTITION BY o) AND count(*) OVER (PARTITION BY o, n) > 1`
	if _, err := rc.exec(ctx, "pass "+p.Name+" ties", q); err != nil {
		return 0, err
	}
	many := "array_to_string(list_sort(list_distinct(flatten(list(t.ids)))), '|')"
	oa := o[:1]
	b := breakRow{typ: model.Ambiguous, side: "both", leftSystem: rc.rule.Left.Dataset, rightSystm: rc.rule.Right.Dataset,
		pass: duck.Quote(p.Name), partner: "any_value(x.partner_id)", entity: "any_value(x.legal_entity)", cur: "any_value(x.currency)",
		pname: "any_value(x._pname)",
		detail: fmt.Sprintf(`any_value(t.oid) || ' is settled equally well by ' || count(DISTINCT t.sid) || ' different sets of ' || any_value(t.n) || ' items in pass ' || %s || ': ' || string_agg(DISTINCT array_to_string(t.ids, '+'), ' or ' ORDER BY array_to_string(t.ids, '+')) || '; none was picked, a person decides'`,
			duck.Quote("`"+p.Name+"`")),
	}
	if oa == "r" {
		b.leftID, b.rightID, b.ramt, b.rorigin = many, "any_value(t.oid)", "any_value(x._amt)", "any_value(x."+model.Origin+")"
	} else {
		b.leftID, b.rightID, b.lamt, b.lorigin = "any_value(t.oid)", many, "any_value(x._amt)", "any_value(x."+model.Origin+")"
	}
	n, err := rc.insertBreaks(ctx, "pass "+p.Name+" ambiguous", b, fmt.Sprintf("FROM tied t JOIN %s x ON x._k = t.o GROUP BY t.o", oa))
	if err != nil {
		return 0, err
	}
	return n, rc.takeSubsets(ctx, p, "tied", o, m)
}
