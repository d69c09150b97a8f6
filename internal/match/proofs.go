package match

import (
	"context"
	"fmt"
	"strings"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/rules"
)

// proofs compares totals per group between the sides: proofs raise a break
// where the totals differ by more than the tolerance, limits where the right
// total (the exposure) exceeds the left one (the limit). A group present on
// one side only totals zero on the other, except for limits: a group with
// no limit has nothing to breach.
func (rc *recon) proofs(ctx context.Context) error {
	for _, p := range rc.rule.Proofs {
		if err := rc.proof(ctx, p, false); err != nil {
			return err
		}
	}
	for _, p := range rc.rule.Limits {
		if err := rc.proof(ctx, p, true); err != nil {
			return err
		}
	}
	return nil
}

func (rc *recon) proof(ctx context.Context, p rules.Proof, limit bool) error {
	r := rc.rule
	if err := rc.totals(ctx, p, "left", p.Left); err != nil {
		return err
	}
	if err := rc.totals(ctx, p, "right", p.Right); err != nil {
		return err
	}
	var on, key []string
	group := map[string]string{}
	for i, g := range p.Group {
		on = append(on, fmt.Sprintf("lt.g%[1]d IS NOT DISTINCT FROM rt.g%[1]d", i))
		v := fmt.Sprintf("coalesce(lt.g%[1]d, rt.g%[1]d)", i)
		group[g] = v
		key = append(key, fmt.Sprintf("'%s ' || coalesce(%s, 'empty')", g, v))
	}
	lsum, rsum := "coalesce(lt.t, 0)", "coalesce(rt.t, 0)"
	cond := fmt.Sprintf("abs(%s - %s) > %s", lsum, rsum, p.Tol())
	join := "FULL OUTER JOIN"
	verdict := fmt.Sprintf(`'totals differ by ' || fr_amt(%s - %s) || ' (tolerance %s)'`, lsum, rsum, p.Tol())
	if limit {
		cond = fmt.Sprintf("lt.t IS NOT NULL AND %s > lt.t + %s", rsum, p.Tol())
		join = "LEFT JOIN"
		verdict = fmt.Sprintf(`'the exposure exceeds the limit by ' || fr_amt(%s - lt.t)`, rsum)
	}
	sideDesc := func(alias string, s rules.ProofSide, ds string) string {
		d := fmt.Sprintf(`%s sum(%s)`, ds, s.Sum)
		if s.Where != "" {
			d += " where " + s.Where
		}
		if s.LatestBy != "" {
			d += " (latest by " + s.LatestBy + ")"
		}
		return fmt.Sprintf(`%[1]s || ' = ' || fr_amt(coalesce(%[2]s.t, 0)) || ' over ' || coalesce(%[2]s.n, 0) || CASE WHEN %[2]s.n = 1 THEN ' row' ELSE ' rows' END`, duck.Quote(d), alias)
	}
	b := breakRow{typ: p.Break, side: "both", leftSystem: r.Left.Dataset, rightSystm: r.Right.Dataset,
		partner: orNull(group["partner_id"]), entity: orNull(group["legal_entity"]), cur: orNull(group["currency"]),
		lamt: lsum, ramt: rsum, diff: lsum + " - " + rsum,
		group:  strings.Join(sortedGroupValues(p.Group, group), " || '/' || "),
		fixIn:  rc.fixIn(""),
		detail: fmt.Sprintf(`%s || ': ' || %s || '; ' || %s || ': ' || %s`, strings.Join(key, " || ', ' || "), sideDesc("lt", p.Left, r.Left.Dataset), sideDesc("rt", p.Right, r.Right.Dataset), verdict),
	}
	from := fmt.Sprintf("FROM ptl lt %s ptr rt ON %s WHERE %s", join, strings.Join(on, " AND "), cond)
	_, err := rc.insertBreaks(ctx, "proof "+p.Break, b, from)
	return err
}

// totals fills ptl or ptr with one side's total and row count per group.
func (rc *recon) totals(ctx context.Context, p rules.Proof, side string, s rules.ProofSide) error {
	a, _ := rc.side(side)
	var cols, names []string
	for i, g := range p.Group {
		cols = append(cols, fmt.Sprintf("CAST(%s AS VARCHAR) AS g%d", duck.Ident(g), i))
		names = append(names, fmt.Sprintf("g%d", i))
	}
	where := "true"
	if strings.TrimSpace(s.Where) != "" {
		where = "(" + s.Where + "\n)"
	}
	rows := fmt.Sprintf("SELECT %s, CAST((%s\n) AS DECIMAL(38,4)) AS v, _id%s FROM %s WHERE %s",
		strings.Join(cols, ", "), s.Sum, latestCol(s), a, where)
	if s.LatestBy != "" {
		rows = fmt.Sprintf("SELECT * FROM (%s) QUALIFY row_number() OVER (PARTITION BY %s ORDER BY _latest DESC NULLS LAST, _id DESC) = 1",
			rows, strings.Join(names, ", "))
	}
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE pt%s AS SELECT %s, sum(v) AS t, count(*) AS n FROM (%s) GROUP BY ALL",
		a, strings.Join(names, ", "), rows)
	_, err := rc.exec(ctx, "proof "+p.Break+" "+side+" totals", q)
	return err
}

func latestCol(s rules.ProofSide) string {
	if s.LatestBy == "" {
		return ""
	}
	return ", " + duck.Ident(s.LatestBy) + " AS _latest"
}

// sortedGroupValues lists the group's value expressions in the proof's
// group order: the group key of a break without ids.
func sortedGroupValues(group []string, values map[string]string) []string {
	out := make([]string, len(group))
	for i, g := range group {
		out[i] = "coalesce(" + values[g] + ", '')"
	}
	return out
}

func orNull(s string) string {
	if s == "" {
		return "NULL"
	}
	return s
}
