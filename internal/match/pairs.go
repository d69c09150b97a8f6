package match

import (
	"context"
	"fmt"
	"strings"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
)

// flaggedPairs is the FROM of a query over the recon's one-to-one pairs
// that may raise a break (pj): comparisons and proposals apply to those.
const flaggedPairs = "FROM pj WHERE p.grp IS NULL"

// joinPairs joins the recon's pairs with their rows in two steps. First
// every pair, with only what matches.parquet needs and whether the pair can
// raise a break at all (flagged: a proposal, a timing difference or a
// failed comparison), into pm. Then only the flagged pairs, with every
// column their breaks read, into pj: one row per pair with structs p
// (pass, grp, proposed, score), pd (how), l and r, so the same expressions
// (l.amount_total, p.pass) work on it as on the join. Most pairs agree on
// everything, so the wide join touches a few percent of them.
func (rc *recon) joinPairs(ctx context.Context) error {
	r := rc.rule
	narrow := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE pm AS
		SELECT p.pass, p.grp, p.proposed, p.score, p.lk, p.rk,
			l._id AS lid, r._id AS rid, l._amt AS lamt, r._amt AS ramt, l.%[1]s AS lo, r.%[1]s AS ro,
			p.grp IS NULL AND (%[2]s) AS flagged
		FROM pairs p JOIN l ON l._k = p.lk JOIN r ON r._k = p.rk
		WHERE p.recon = ?`, model.Origin, strings.Join(rc.flagConds(), "\n\t\t\tOR "))
	if _, err := rc.exec(ctx, "join pairs", narrow, r.Recon); err != nil {
		return err
	}
	base := []string{"_id", "_amt", "_pname", "_late", "partner_id", "legal_entity", "currency", model.Origin}
	lcols, rcols := append([]string(nil), base...), append([]string(nil), base...)
	for _, c := range r.Compare {
		lcols, rcols = append(lcols, c.Left), append(rcols, c.Right)
	}
	if per := r.Period; per != nil {
		lcols, rcols = append(lcols, per.Left), append(rcols, per.Right)
	}
	for _, p := range r.Passes {
		if f := p.Fuzzy; f != nil {
			lcols, rcols = append(lcols, f.Left), append(rcols, f.Right)
		}
	}
	wide := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE pj AS
		SELECT {'pass': p.pass, 'grp': p.grp, 'proposed': p.proposed, 'score': p.score} AS p, {'how': pd.how} AS pd,
			%s AS l, %s AS r
		FROM (SELECT * FROM pm WHERE flagged) p JOIN l ON l._k = p.lk JOIN r ON r._k = p.rk
			JOIN pass_desc pd ON pd.recon = ? AND pd.pass = p.pass`, structOf("l", lcols), structOf("r", rcols))
	_, err := rc.exec(ctx, "join flagged pairs", wide, r.Recon)
	return err
}

// flagConds are the conditions, over the sides l and r and the pair p,
// under which a one-to-one pair raises a break: proposed, across the
// period end, or failing a comparison. They must cover every break the
// pj queries raise, or a break would be lost.
func (rc *recon) flagConds() []string {
	conds := []string{"p.proposed"}
	if rc.rule.Period != nil {
		conds = append(conds, "l._late <> r._late")
	}
	for _, c := range rc.rule.Compare {
		cond, _ := rc.comparison(c)
		conds = append(conds, "("+cond+")")
	}
	return conds
}

// structOf packs alias's columns, each once, into a struct literal.
func structOf(alias string, cols []string) string {
	seen := map[string]bool{}
	var fields []string
	for _, c := range cols {
		if seen[c] {
			continue
		}
		seen[c] = true
		fields = append(fields, duck.Quote(c)+": "+alias+"."+duck.Ident(c))
	}
	return "{" + strings.Join(fields, ", ") + "}"
}

// matchedIn is the tail of a pair break's detail.
const matchedIn = "'matched in pass `' || p.pass || '` ' || pd.how"

// recordMatches keeps the recon's pairs (pm) for matches.parquet, under
// the recon's own name: the outputs read them from there (matchRows).
func (rc *recon) recordMatches(ctx context.Context) error {
	if _, err := rc.exec(ctx, "record matches", fmt.Sprintf("ALTER TABLE pm RENAME TO %s", rc.matchTable)); err != nil {
		return err
	}
	rc.matched = true
	return nil
}

// matchRows is the query of the recon's rows of matches.parquet. A
// one-to-one pair is its own match group; a group or subset match shares
// one.
func (rc *recon) matchRows() string {
	recon := duck.Quote(rc.rule.Recon)
	return fmt.Sprintf(`SELECT %[1]s AS recon, pass, coalesce(grp, substr(sha256(%[1]s || '|' || lid || '|' || rid), 1, 16)) AS match_group,
			lid AS left_id, rid AS right_id, lamt AS left_amount, ramt AS right_amount, lo AS left_origin, ro AS right_origin,
			CASE WHEN proposed THEN 'proposed' ELSE 'confirmed' END AS status, score
		FROM %[2]s`, recon, rc.matchTable)
}

// pairBreak is the part of a break row every pair break shares.
func (rc *recon) pairBreak(typ string) breakRow {
	return breakRow{typ: typ, side: "both", leftSystem: rc.rule.Left.Dataset, rightSystm: rc.rule.Right.Dataset,
		pass: "p.pass", leftID: "l._id", rightID: "r._id",
		partner: "coalesce(l.partner_id, r.partner_id)", entity: "coalesce(l.legal_entity, r.legal_entity)", cur: "coalesce(l.currency, r.currency)",
		lamt: "l._amt", ramt: "r._amt", diff: "l._amt - r._amt",
		pname: "coalesce(l._pname, r._pname)", lorigin: "l." + model.Origin, rorigin: "r." + model.Origin,
	}
}

// proposed raises a proposed_match break on every pair a fuzzy pass made:
// a person confirms or rejects it.
func (rc *recon) proposed(ctx context.Context) error {
	for _, p := range rc.rule.Passes {
		f := p.Fuzzy
		if f == nil {
			continue
		}
		what := "similarity"
		if f.Method == "levenshtein" {
			what = "edit distance"
		}
		b := rc.pairBreak(model.ProposedMatch)
		b.detail = fmt.Sprintf(`'proposed, not confirmed: %[1]s "' || coalesce(CAST(l.%[2]s AS VARCHAR), '') || '" looks like %[3]s "' || coalesce(CAST(r.%[4]s AS VARCHAR), '') || '" (%[5]s %[6]s ' || p.score || ', threshold %[7]s); ' || %[8]s || '; confirm or reject it in review'`,
			f.Left, duck.Ident(f.Left), f.Right, duck.Ident(f.Right), f.Method, what, f.Limit(), matchedIn)
		if _, err := rc.insertBreaks(ctx, "proposed matches", b, flaggedPairs+" AND p.proposed AND p.pass = ?", p.Name); err != nil {
			return err
		}
	}
	return nil
}

// timing raises a timing_difference on every pair with one side dated on
// or before the period end and the other after it.
func (rc *recon) timing(ctx context.Context) error {
	per := rc.rule.Period
	if per == nil {
		return nil
	}
	b := rc.pairBreak(model.TimingDifference)
	b.detail = fmt.Sprintf(`'in transit at the period end %[1]s: %[2]s ' || coalesce(CAST(l.%[3]s AS VARCHAR), 'empty') || ' in %[4]s, %[5]s ' || coalesce(CAST(r.%[6]s AS VARCHAR), 'empty') || ' in %[7]s; ' || %[8]s`,
		rc.asOf, per.Left, duck.Ident(per.Left), rc.rule.Left.Dataset, per.Right, duck.Ident(per.Right), rc.rule.Right.Dataset, matchedIn)
	_, err := rc.insertBreaks(ctx, "timing differences", b, flaggedPairs+" AND l._late <> r._late")
	return err
}

// unmatched reports every row still open on either side, except rows dated
// after the period end: they belong to the next period.
func (rc *recon) unmatched(ctx context.Context) error {
	r := rc.rule
	for _, side := range []string{"left", "right"} {
		a, ds := rc.side(side)
		other := r.Right.Dataset
		if side == "right" {
			other = r.Left.Dataset
		}
		b := breakRow{typ: model.Unmatched, side: side, leftSystem: r.Left.Dataset, rightSystm: r.Right.Dataset,
			partner: "partner_id", entity: "legal_entity", cur: "currency", pname: "_pname", fixIn: rc.fixIn(""),
			detail: fmt.Sprintf(`'no %s record matched %s ' || _id || ' in passes %s' || coalesce('; ' || u.note, '')`, other, ds, rc.passNames()),
		}
		if side == "left" {
			b.leftID, b.lamt, b.diff, b.lorigin = "_id", "_amt", "_amt", model.Origin
		} else {
			b.rightID, b.ramt, b.diff, b.rorigin = "_id", "_amt", "-_amt", model.Origin
		}
		open, err := rc.openRows(ctx, a)
		if err != nil {
			return err
		}
		from := fmt.Sprintf(`FROM (SELECT * FROM %[2]s) x
			LEFT JOIN (
				SELECT k, string_agg('subset-sum pass ' || pass || ' searched only the ' || searched || ' nearest of its ' || total || ' candidates', '; ' ORDER BY pass) AS note
				FROM unsearched WHERE recon = ? AND side = ? GROUP BY k) u ON u.k = x._k
			WHERE NOT x._late`, a, open)
		if _, err := rc.insertBreaks(ctx, "unmatched "+side, b, from, r.Recon, a); err != nil {
			return err
		}
	}
	return nil
}

// compare raises a break on every one-to-one pair whose field differs.
func (rc *recon) compare(ctx context.Context, c rules.Comparison) error {
	cond, b := rc.comparison(c)
	_, err := rc.insertBreaks(ctx, "compare "+c.Break, b, flaggedPairs+" AND "+cond)
	return err
}

// comparison returns the condition under which a pair fails comparison c,
// over l and r, and the break it raises.
func (rc *recon) comparison(c rules.Comparison) (string, breakRow) {
	r := rc.rule
	lt, _ := model.LookupTable(r.Left.DatasetName().Table)
	col, _ := lt.Column(c.Left)
	lcol, rcol := "l."+duck.Ident(c.Left), "r."+duck.Ident(c.Right)
	b := rc.pairBreak(c.Break)
	b.fixIn = rc.fixIn(c.Left)
	var cond, detail string
	switch col.Kind {
	case model.Amount:
		cond = fmt.Sprintf("%[1]s IS DISTINCT FROM %[2]s AND NOT coalesce(abs(%[1]s - %[2]s) <= %[3]s, false)", lcol, rcol, tolerance(c.Tolerance, lcol))
		b.lamt, b.ramt, b.diff = lcol, rcol, lcol+" - "+rcol
		detail = fmt.Sprintf(`'%s differs by ' || coalesce(fr_amt(%s - %s), 'a missing value') || ' (tolerance %s); '`, c.Left, lcol, rcol, c.Tolerance)
	case model.Date:
		cond = fmt.Sprintf("%[1]s IS DISTINCT FROM %[2]s AND NOT coalesce(abs(date_diff('day', %[1]s, %[2]s)) <= %[3]d, false)", lcol, rcol, c.Days)
		if p := r.Period; p != nil && p.Left == c.Left && p.Right == c.Right {
			cond += " AND l._late = r._late" // across the period end it is a timing difference
		}
		b.diff = ""
		detail = fmt.Sprintf(`'%[1]s is ' || coalesce(CAST(%[2]s AS VARCHAR), 'empty') || ' in %[3]s but ' || coalesce(CAST(%[4]s AS VARCHAR), 'empty') || ' in %[5]s' || coalesce(' (' || date_diff('day', %[2]s, %[4]s) || ' days, tolerance %[6]d); ', '; ')`,
			c.Left, lcol, r.Left.Dataset, rcol, r.Right.Dataset, c.Days)
	default:
		lv, rv := "CAST("+lcol+" AS VARCHAR)", "CAST("+rcol+" AS VARCHAR)"
		if len(c.Map) > 0 {
			lv, rv = duck.CaseMap(lv, c.Map), duck.CaseMap(rv, c.Map)
		}
		cond = fmt.Sprintf("(%s) IS DISTINCT FROM (%s)", lv, rv)
		b.diff = ""
		detail = fmt.Sprintf(`'%s is ' || coalesce(CAST(%s AS VARCHAR), 'empty') || ' in %s but ' || coalesce(CAST(%s AS VARCHAR), 'empty') || ' in %s; '`,
			c.Left, lcol, r.Left.Dataset, rcol, r.Right.Dataset)
	}
	b.detail = detail + " || " + matchedIn
	return cond, b
}
