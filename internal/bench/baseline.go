// Package bench holds what `make bench` measures finrecon against: a
// hand-written DuckDB SQL implementation of the shipped invoices recon
// (rules/invoices.yaml) and a bare DuckDB CSV-to-Parquet copy. It is not
// used by finrecon itself.
package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
)

// BaselineOptions say where the baseline reads and writes and how DuckDB
// runs; the same knobs finrecon match has.
type BaselineOptions struct {
	SnapshotDir string
	OutDir      string // breaks.parquet, breaks.csv and matches.parquet go here
	Duck        duck.Options
	AsOf        string // YYYY-MM-DD, for first_seen
}

// Step is one timed statement (or group of statements) of the baseline:
// its wall time and the CPU time (user and system, all threads) the
// process spent meanwhile, which a busy machine disturbs less.
type Step struct {
	Name string
	D    time.Duration
	CPU  time.Duration
}

// BaselineResult is what the baseline found and how long it took.
type BaselineResult struct {
	// Elapsed runs from reading the Parquet files to the last output
	// file written.
	Elapsed   time.Duration
	CPU       time.Duration
	Steps     []Step
	LeftRows  int64
	RightRows int64
	Passes    []run.PassCount
	Breaks    map[string]int64 // by break type
}

// The invoices recon of rules/invoices.yaml, written by hand. Semantics are
// the engine's (internal/match):
//
//   - sides: rows whose status is not draft;
//   - duplicates: right rows sharing external_ref (trim, upper,
//     strip_punct), left rows sharing invoice_number; the lowest id of a
//     group stays, the other copies leave matching;
//   - passes, one to one, each over what the previous left open:
//     exact (invoice_number = external_ref, both trim, upper, strip_punct),
//     amount_date (partner and currency equal, totals within 0.01, Odoo
//     dated 0 to 3 days later), fuzzy_ref (partner and currency equal,
//     Jaro-Winkler of the references, upper and strip_punct, at least
//     0.93; proposed, not confirmed);
//   - in each pass, candidates rank by similarity (best first), amount
//     difference, date difference, then left id, right id (and origins);
//     a unit whose best candidates tie is reported ambiguous with its tied
//     candidates, which all leave the pass; then each round keeps the pairs
//     that are the best of both their units, until none is left (the same
//     as taking candidates greedily in rank order);
//   - comparisons on every pair, unmatched rows on both sides.
//
// What differs is how: only the columns the recon reads are loaded, keyed
// by the Parquet row number (no sort); the reference is normalised once per
// row (trim is redundant before strip_punct, so the exact and fuzzy keys
// are one value); duplicate groups are found with a hash aggregate; the
// exact pass is one full outer join of keys that also yields what stays
// open; candidate pairs that share no unit with another pair (nearly all of
// them) are taken at once, and only the rest go through the ties and the
// ranking rounds; the pairs are joined to their rows once, for
// matches.parquet and a flag saying whether any comparison fails, and only
// the flagged ones again for the break columns.

const (
	recon     = "invoices"
	leftDS    = "billing.invoices"
	rightDS   = "odoo.invoices"
	passNames = "exact, amount_date, fuzzy_ref"
)

// severities copies rules/invoices.yaml.
var severities = map[string]string{
	"ambiguous": "high", "amount_mismatch": "medium", "currency_mismatch": "high", "date_mismatch": "low",
	"duplicate": "high", "partner_mismatch": "high", "proposed_match": "low", "status_mismatch": "low",
	"tax_mismatch": "medium", "unmatched": "high",
}

// passHow copies the engine's pass descriptions (they end break details).
var passHow = map[string]string{
	"exact":       "on invoice_number = external_ref",
	"amount_date": "on partner_id, currency, amount_total within 0.01, issue_date 0 to 3 days later than issue_date",
	"fuzzy_ref":   "on partner_id, currency, invoice_number similar to external_ref (jaro_winkler)",
}

// sideCols are the columns each side keeps: what the passes, comparisons
// and break rows read.
func sideCols(ref string) string {
	return `file_row_number AS k, CAST(invoice_id AS VARCHAR) AS id, _origin AS origin, invoice_number, external_ref,
		partner_id, partner_name, legal_entity, currency, amount_total AS amt, amount_tax AS tax, issue_date AS d, status,
		nullif(regexp_replace(upper(trim(CAST(` + ref + ` AS VARCHAR))), '[^[:alnum:]]', '', 'g'), '') AS ref`
}

// carried lists the columns a pair keeps of each side, prefixed.
var carried = []string{"k", "id", "origin", "invoice_number", "external_ref", "partner_id", "partner_name", "legal_entity",
	"currency", "amt", "tax", "d", "status", "ref"}

func prefixed(alias, prefix string) string {
	out := make([]string, len(carried))
	for i, c := range carried {
		out[i] = fmt.Sprintf("%s.%s AS %s%s", alias, c, prefix, c)
	}
	return strings.Join(out, ", ")
}

// Baseline runs the hand-written invoices recon on a snapshot.
func Baseline(ctx context.Context, opts BaselineOptions) (*BaselineResult, error) {
	snap, err := snapshot.Open(opts.SnapshotDir)
	if err != nil {
		return nil, err
	}
	file := func(ds string) (string, error) {
		e, ok := snap.Dataset(ds)
		if !ok {
			return "", fmt.Errorf("snapshot %s has no %s", snap.ID, ds)
		}
		return filepath.Join(opts.SnapshotDir, e.File.File), nil
	}
	lfile, err := file(leftDS)
	if err != nil {
		return nil, err
	}
	rfile, err := file(rightDS)
	if err != nil {
		return nil, err
	}
	db, err := duck.Open(ctx, opts.Duck)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	b := &baseline{db: db, res: &BaselineResult{Breaks: map[string]int64{}}, asOf: opts.AsOf}
	start, cpu := time.Now(), CPUTime()
	if err := b.run(ctx, lfile, rfile, opts.OutDir); err != nil {
		return nil, err
	}
	b.res.Elapsed, b.res.CPU = time.Since(start), CPUTime()-cpu
	return b.res, nil
}

type baseline struct {
	db   *sql.DB
	res  *BaselineResult
	asOf string
}

// exec runs statements as one timed step and returns the rows the last
// one changed.
func (b *baseline) exec(ctx context.Context, step string, stmts ...string) (int64, error) {
	start, cpu := time.Now(), CPUTime()
	var n int64
	for _, q := range stmts {
		res, err := b.db.ExecContext(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("baseline: %s: %w\n%s", step, err, q)
		}
		n, _ = res.RowsAffected()
	}
	b.res.Steps = append(b.res.Steps, Step{step, time.Since(start), CPUTime() - cpu})
	return n, nil
}

func (b *baseline) count(ctx context.Context, q string) (int64, error) {
	var n int64
	if err := b.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("baseline: %s: %w", q, err)
	}
	return n, nil
}

func (b *baseline) run(ctx context.Context, lfile, rfile, out string) error {
	// Sides. file_row_number is a free unique key; ties are broken on
	// (id, origin), the engine's surrogate key order.
	if _, err := b.exec(ctx, "load sides",
		fmt.Sprintf("CREATE TEMP TABLE l AS SELECT %s FROM read_parquet(%s, file_row_number = true) WHERE status <> 'draft'", sideCols("invoice_number"), duck.Quote(lfile)),
		fmt.Sprintf("CREATE TEMP TABLE r AS SELECT %s FROM read_parquet(%s, file_row_number = true) WHERE status <> 'draft'", sideCols("external_ref"), duck.Quote(rfile)),
	); err != nil {
		return err
	}
	if _, err := b.exec(ctx, "work tables",
		`CREATE TEMP TABLE breaks (break_id VARCHAR, recon VARCHAR, pass VARCHAR, break_type VARCHAR, severity VARCHAR, side VARCHAR,
			left_system VARCHAR, left_id VARCHAR, right_system VARCHAR, right_id VARCHAR,
			partner_id VARCHAR, legal_entity VARCHAR, currency VARCHAR,
			left_amount `+model.Money+`, right_amount `+model.Money+`, difference `+model.Money+`,
			first_seen DATE, age_days BIGINT, detail VARCHAR,
			partner_name VARCHAR, left_origin VARCHAR, right_origin VARCHAR, fix_in VARCHAR, group_key VARCHAR,
			occurrences BIGINT, reopened BOOLEAN, review_status VARCHAR, review_owner VARCHAR, review_comment VARCHAR)`,
		// Pairs found outside the exact pass's single-candidate bulk.
		`CREATE TEMP TABLE pairs (pass VARCHAR, lk BIGINT, rk BIGINT, proposed BOOLEAN, score DECIMAL(9,4))`,
		// Units no longer open: duplicate copies, ambiguous, matched
		// outside the bulk.
		`CREATE TEMP TABLE lclosed (k BIGINT)`,
		`CREATE TEMP TABLE rclosed (k BIGINT)`,
		`CREATE MACRO fr_amt(x) AS regexp_replace(CAST(x AS VARCHAR), '(\.[0-9]{2}[0-9]*?)0+$', '\1')`,
	); err != nil {
		return err
	}
	var err error
	if b.res.LeftRows, err = b.count(ctx, "SELECT count(*) FROM l"); err != nil {
		return err
	}
	if b.res.RightRows, err = b.count(ctx, "SELECT count(*) FROM r"); err != nil {
		return err
	}
	if err := b.duplicates(ctx, "right", "r", rightDS, "ref", "external_ref (trim, upper, strip_punct)"); err != nil {
		return err
	}
	if err := b.duplicates(ctx, "left", "l", leftDS, "CAST(invoice_number AS VARCHAR)", "invoice_number"); err != nil {
		return err
	}
	if err := b.exact(ctx); err != nil {
		return err
	}
	if err := b.amountDate(ctx); err != nil {
		return err
	}
	if err := b.fuzzy(ctx); err != nil {
		return err
	}
	if err := b.pairBreaks(ctx); err != nil {
		return err
	}
	if err := b.unmatched(ctx); err != nil {
		return err
	}
	return b.write(ctx, out)
}

// duplicates reports each group of rows sharing key and closes every copy
// but the lowest id.
func (b *baseline) duplicates(ctx context.Context, side, t, ds, key, how string) error {
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE dup AS
		WITH g AS (SELECT %[2]s AS g FROM %[1]s WHERE coalesce(%[2]s, '') <> '' GROUP BY ALL HAVING count(*) > 1)
		SELECT k, id, amt, partner_name, partner_id, legal_entity, currency, origin, g.g,
			row_number() OVER (PARTITION BY g.g ORDER BY id, origin) AS rn
		FROM %[1]s JOIN g ON %[2]s = g.g`, t, key)
	ins := b.insertBreaks(breakRow{typ: "duplicate", side: quote(side), leftSystem: quote(ds), fixIn: quote(ds), group: quote(side),
		leftID: "string_agg(id, '|' ORDER BY id)", partner: "arg_min(partner_id, rn)", entity: "arg_min(legal_entity, rn)",
		cur: "arg_min(currency, rn)", lamt: "arg_min(amt, rn)", diff: "sum(amt) FILTER (WHERE rn > 1)", pname: "arg_min(partner_name, rn)",
		lorigin: "string_agg(origin, '|' ORDER BY id)",
		detail:  fmt.Sprintf(`count(*) || ' copies of %s "' || g || '" in %s: ' || string_agg(id, '|' ORDER BY id) || '; ' || arg_min(id, rn) || ' goes on to matching, the others do not'`, how, ds),
	}, "FROM dup GROUP BY g")
	_, err := b.exec(ctx, side+" duplicates", q, ins, fmt.Sprintf("INSERT INTO %sclosed SELECT k FROM dup WHERE rn > 1", t))
	return err
}

// exact is the first pass: one full outer join of the open rows' keys on
// the normalised reference. Its inner rows are the candidates; its outer
// rows are what stays open for the next pass.
func (b *baseline) exact(ctx context.Context) error {
	if _, err := b.exec(ctx, "exact: join",
		`CREATE OR REPLACE TEMP TABLE j1 AS
		SELECT l.k AS lk, r.k AS rk
		FROM (SELECT k, ref FROM l ANTI JOIN lclosed USING (k)) l
		FULL JOIN (SELECT k, ref FROM r ANTI JOIN rclosed USING (k)) r ON l.ref = r.ref`); err != nil {
		return err
	}
	// Units with more than one candidate; pairs touching none of them are
	// their units' only candidate: matched, never ambiguous.
	if _, err := b.exec(ctx, "exact: units with several candidates",
		`CREATE OR REPLACE TEMP TABLE lmul1 AS SELECT lk AS k FROM j1 WHERE lk IS NOT NULL AND rk IS NOT NULL GROUP BY lk HAVING count(*) > 1`,
		`CREATE OR REPLACE TEMP TABLE rmul1 AS SELECT rk AS k FROM j1 WHERE lk IS NOT NULL AND rk IS NOT NULL GROUP BY rk HAVING count(*) > 1`,
	); err != nil {
		return err
	}
	bulk, err := b.exec(ctx, "exact: single candidates",
		`INSERT INTO pairs SELECT 'exact', lk, rk, false, NULL FROM j1
			WHERE lk IS NOT NULL AND rk IS NOT NULL AND lk NOT IN (SELECT k FROM lmul1) AND rk NOT IN (SELECT k FROM rmul1)`)
	if err != nil {
		return err
	}
	if _, err := b.exec(ctx, "exact: contested candidates",
		`CREATE OR REPLACE TEMP TABLE cand AS
			SELECT j.lk, j.rk, l.id AS lid, r.id AS rid, l.origin AS lo, r.origin AS ro,
				0 AS r1, abs(l.amt - r.amt) AS damt, 0 AS ddays, NULL::DECIMAL(9,4) AS score
			FROM (SELECT lk, rk FROM j1 WHERE lk IN (SELECT k FROM lmul1) OR rk IN (SELECT k FROM rmul1)) j
			JOIN l ON l.k = j.lk JOIN r ON r.k = j.rk`,
		`CREATE OR REPLACE TEMP TABLE contested AS SELECT DISTINCT 'l' AS side, lk AS k FROM cand UNION ALL SELECT DISTINCT 'r', rk FROM cand`,
	); err != nil {
		return err
	}
	pc, err := b.solve(ctx, "exact", false)
	if err != nil {
		return err
	}
	pc.Pairs += bulk
	b.res.Passes = append(b.res.Passes, pc)
	// What stays open: outer rows of the join, and contested units the
	// rounds neither matched nor set aside.
	_, err = b.exec(ctx, "exact: open rows",
		`CREATE OR REPLACE TEMP TABLE lopen AS
			SELECT * FROM l SEMI JOIN (
				SELECT lk AS k FROM j1 WHERE rk IS NULL
				UNION ALL (SELECT k FROM contested WHERE side = 'l' EXCEPT SELECT k FROM lclosed)) o USING (k)`,
		`CREATE OR REPLACE TEMP TABLE ropen AS
			SELECT * FROM r SEMI JOIN (
				SELECT rk AS k FROM j1 WHERE lk IS NULL
				UNION ALL (SELECT k FROM contested WHERE side = 'r' EXCEPT SELECT k FROM rclosed)) o USING (k)`,
	)
	return err
}

// amountDate is the second pass, over what the first left open.
func (b *baseline) amountDate(ctx context.Context) error {
	if _, err := b.exec(ctx, "amount_date: candidates",
		`CREATE OR REPLACE TEMP TABLE cand AS
			SELECT l.k AS lk, r.k AS rk, l.id AS lid, r.id AS rid, l.origin AS lo, r.origin AS ro,
				0 AS r1, abs(l.amt - r.amt) AS damt, abs(date_diff('day', l.d, r.d)) AS ddays, NULL::DECIMAL(9,4) AS score
			FROM lopen l JOIN ropen r ON l.partner_id = r.partner_id AND l.currency = r.currency
			WHERE l.partner_id <> '' AND l.currency <> ''
				AND abs(l.amt - r.amt) <= 0.01 AND date_diff('day', l.d, r.d) BETWEEN 0 AND 3`,
	); err != nil {
		return err
	}
	pc, err := b.solve(ctx, "amount_date", true)
	if err != nil {
		return err
	}
	b.res.Passes = append(b.res.Passes, pc)
	return b.closeOpen(ctx, "amount_date")
}

// fuzzy is the third pass: its pairs are proposals.
func (b *baseline) fuzzy(ctx context.Context) error {
	if _, err := b.exec(ctx, "fuzzy_ref: candidates",
		`CREATE OR REPLACE TEMP TABLE cand AS
			SELECT * FROM (
				SELECT l.k AS lk, r.k AS rk, l.id AS lid, r.id AS rid, l.origin AS lo, r.origin AS ro,
					abs(l.amt - r.amt) AS damt, 0 AS ddays,
					CAST(round(jaro_winkler_similarity(l.ref, r.ref), 4) AS DECIMAL(9,4)) AS score, -score AS r1
				FROM lopen l JOIN ropen r ON l.partner_id = r.partner_id AND l.currency = r.currency
				WHERE l.partner_id <> '' AND l.currency <> '' AND l.ref IS NOT NULL AND r.ref IS NOT NULL)
			WHERE score >= 0.93`,
	); err != nil {
		return err
	}
	pc, err := b.solve(ctx, "fuzzy_ref", true)
	if err != nil {
		return err
	}
	pc.Proposed = pc.Pairs
	b.res.Passes = append(b.res.Passes, pc)
	return b.closeOpen(ctx, "fuzzy_ref")
}

// closeOpen drops from the open rows what the pass matched or set aside.
func (b *baseline) closeOpen(ctx context.Context, pass string) error {
	_, err := b.exec(ctx, pass+": close",
		"DELETE FROM lopen WHERE k IN (SELECT k FROM lclosed)",
		"DELETE FROM ropen WHERE k IN (SELECT k FROM rclosed)")
	return err
}

// solve settles the candidates in cand (lk, rk, lid, rid, lo, ro, r1,
// damt, ddays, score) the engine's way: ties reported first, then rounds of
// mutual best. With split, pairs whose units have no other candidate are
// taken first, in bulk (they would be taken in the first round anyway and
// cannot tie).
func (b *baseline) solve(ctx context.Context, pass string, split bool) (run.PassCount, error) {
	pc := run.PassCount{Pass: pass}
	proposed := "false"
	if pass == "fuzzy_ref" {
		proposed = "true"
	}
	if split {
		n, err := b.exec(ctx, pass+": single candidates",
			`CREATE OR REPLACE TEMP TABLE lmul AS SELECT lk AS k FROM cand GROUP BY lk HAVING count(*) > 1`,
			`CREATE OR REPLACE TEMP TABLE rmul AS SELECT rk AS k FROM cand GROUP BY rk HAVING count(*) > 1`,
			`CREATE OR REPLACE TEMP TABLE single AS SELECT lk, rk, score FROM cand
				WHERE lk NOT IN (SELECT k FROM lmul) AND rk NOT IN (SELECT k FROM rmul)`,
			fmt.Sprintf(`INSERT INTO pairs SELECT %s, lk, rk, %s, score FROM single`, quote(pass), proposed),
		)
		if err != nil {
			return pc, err
		}
		pc.Pairs += n
		if _, err := b.exec(ctx, pass+": close single",
			"INSERT INTO lclosed SELECT lk FROM single",
			"INSERT INTO rclosed SELECT rk FROM single",
			"DELETE FROM cand WHERE lk IN (SELECT lk FROM single)",
		); err != nil {
			return pc, err
		}
	}
	// Ties: the engine's definition, word for word.
	if _, err := b.exec(ctx, pass+": ties",
		`CREATE OR REPLACE TEMP TABLE amb AS
		WITH lt AS (
			SELECT lk, rk FROM cand
			QUALIFY rank() OVER (PARTITION BY lk ORDER BY r1, damt, ddays) = 1
				AND count(*) OVER (PARTITION BY lk, r1, damt, ddays) > 1),
		rt AS (
			SELECT lk, rk FROM cand
			WHERE lk NOT IN (SELECT lk FROM lt) AND rk NOT IN (SELECT rk FROM lt)
			QUALIFY rank() OVER (PARTITION BY rk ORDER BY r1, damt, ddays) = 1
				AND count(*) OVER (PARTITION BY rk, r1, damt, ddays) > 1)
		SELECT 'left' AS anchor, lk, rk FROM lt UNION ALL SELECT 'right', lk, rk FROM rt`,
	); err != nil {
		return pc, err
	}
	for _, anchor := range []string{"left", "right"} {
		one, many, oneT, manyT := "lk", "rk", "l", "r"
		if anchor == "right" {
			one, many, oneT, manyT = "rk", "lk", "r", "l"
		}
		br := breakRow{typ: "ambiguous", side: "'both'", leftSystem: quote(leftDS), rightSystm: quote(rightDS), pass: quote(pass),
			partner: "any_value(x.partner_id)", entity: "any_value(x.legal_entity)", cur: "any_value(x.currency)", pname: "any_value(x.partner_name)",
			detail: fmt.Sprintf(`any_value(x.id) || ' has ' || count(*) || ' equally good candidates in pass `+"`%s`"+` (amount difference ' || fr_amt(any_value(c.damt)) || ', ' || any_value(c.ddays) || CASE WHEN any_value(c.ddays) = 1 THEN ' day' ELSE ' days' END || ' apart): ' || string_agg(y.id, '|' ORDER BY y.id) || '; none was picked, a person decides'`, pass),
		}
		if anchor == "left" {
			br.leftID, br.rightID, br.lamt, br.lorigin = "any_value(x.id)", "string_agg(y.id, '|' ORDER BY y.id)", "any_value(x.amt)", "any_value(x.origin)"
		} else {
			br.leftID, br.rightID, br.ramt, br.rorigin = "string_agg(y.id, '|' ORDER BY y.id)", "any_value(x.id)", "any_value(x.amt)", "any_value(x.origin)"
		}
		n, err := b.exec(ctx, pass+": ambiguous breaks", b.insertBreaks(br, fmt.Sprintf(
			`FROM amb a JOIN cand c ON c.lk = a.lk AND c.rk = a.rk JOIN %[1]s x ON x.k = a.%[2]s JOIN %[3]s y ON y.k = a.%[4]s
			WHERE a.anchor = '%[5]s' GROUP BY a.%[2]s`, oneT, one, manyT, many, anchor)))
		if err != nil {
			return pc, err
		}
		pc.Ambiguous += n
	}
	if _, err := b.exec(ctx, pass+": set aside ties",
		"INSERT INTO lclosed SELECT DISTINCT lk FROM amb",
		"INSERT INTO rclosed SELECT DISTINCT rk FROM amb",
		"DELETE FROM cand WHERE lk IN (SELECT lk FROM amb) OR rk IN (SELECT rk FROM amb)",
	); err != nil {
		return pc, err
	}
	for {
		n, err := b.exec(ctx, pass+": rounds",
			`CREATE OR REPLACE TEMP TABLE pick AS
				SELECT lk, rk, score FROM cand
				QUALIFY row_number() OVER (PARTITION BY lk ORDER BY r1, damt, ddays, lid, rid, lo, ro) = 1
					AND row_number() OVER (PARTITION BY rk ORDER BY r1, damt, ddays, lid, rid, lo, ro) = 1`,
			fmt.Sprintf(`INSERT INTO pairs SELECT %s, lk, rk, %s, score FROM pick`, quote(pass), proposed))
		if err != nil {
			return pc, err
		}
		if n == 0 {
			break
		}
		pc.Pairs += n
		if _, err := b.exec(ctx, pass+": rounds",
			"INSERT INTO lclosed SELECT lk FROM pick",
			"INSERT INTO rclosed SELECT rk FROM pick",
			"DELETE FROM cand WHERE lk IN (SELECT lk FROM pick) OR rk IN (SELECT rk FROM pick)",
		); err != nil {
			return pc, err
		}
	}
	return pc, nil
}

// comparisons are the recon's compare list as conditions over a pair's
// left and right columns, named with prefixes l and r.
func comparisons(l, r string) []struct{ typ, cond string } {
	status := func(c string) string { return "CASE " + c + " WHEN 'partial' THEN 'open' ELSE " + c + " END" }
	return []struct{ typ, cond string }{
		{"amount_mismatch", fmt.Sprintf("%[1]samt IS DISTINCT FROM %[2]samt AND NOT coalesce(abs(%[1]samt - %[2]samt) <= 0.01, false)", l, r)},
		{"tax_mismatch", fmt.Sprintf("%[1]stax IS DISTINCT FROM %[2]stax AND NOT coalesce(abs(%[1]stax - %[2]stax) <= 0.01, false)", l, r)},
		{"currency_mismatch", fmt.Sprintf("%[1]scurrency IS DISTINCT FROM %[2]scurrency", l, r)},
		{"partner_mismatch", fmt.Sprintf("%[1]spartner_id IS DISTINCT FROM %[2]spartner_id", l, r)},
		{"date_mismatch", fmt.Sprintf("%[1]sd IS DISTINCT FROM %[2]sd AND NOT coalesce(abs(date_diff('day', %[1]sd, %[2]sd)) <= 3, false)", l, r)},
		{"status_mismatch", status(l+"status") + " IS DISTINCT FROM " + status(r+"status")},
	}
}

// pairBreaks joins every pair to its two rows once, keeping what
// matches.parquet needs and whether any comparison fails; only the pairs
// that raise a break are joined again for their other columns.
func (b *baseline) pairBreaks(ctx context.Context) error {
	var any []string
	for _, c := range comparisons("l.", "r.") {
		any = append(any, "("+c.cond+")")
	}
	if _, err := b.exec(ctx, "pairs joined to their rows",
		`CREATE OR REPLACE TEMP TABLE pm AS
			SELECT p.pass, p.proposed, p.score, p.lk, p.rk, l.id AS lid, r.id AS rid, l.amt AS lamt, r.amt AS ramt, l.origin AS lo, r.origin AS ro,
				p.proposed OR `+strings.Join(any, " OR ")+` AS flagged
			FROM pairs p JOIN l ON l.k = p.lk JOIN r ON r.k = p.rk`); err != nil {
		return err
	}
	if _, err := b.exec(ctx, "pairs with a difference",
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE diff AS
			SELECT p.pass, p.proposed, p.score, %s, %s
			FROM (SELECT pass, proposed, score, lk, rk FROM pm WHERE flagged) p JOIN l ON l.k = p.lk JOIN r ON r.k = p.rk`,
			prefixed("l", "l_"), prefixed("r", "r_"))); err != nil {
		return err
	}
	how := "'matched in pass `' || pass || '` ' || CASE pass " + caseHow() + " END"
	for _, c := range comparisons("l_", "r_") {
		br := pairBreak(c.typ)
		br.fixIn = quote(rightDS)
		var detail string
		switch c.typ {
		case "amount_mismatch", "tax_mismatch":
			col, name := "amt", "amount_total"
			if c.typ == "tax_mismatch" {
				col, name = "tax", "amount_tax"
			}
			br.lamt, br.ramt, br.diff = "l_"+col, "r_"+col, "l_"+col+" - r_"+col
			detail = fmt.Sprintf(`'%s differs by ' || coalesce(fr_amt(l_%[2]s - r_%[2]s), 'a missing value') || ' (tolerance 0.01); '`, name, col)
		case "date_mismatch":
			br.diff = ""
			detail = fmt.Sprintf(`'issue_date is ' || coalesce(CAST(l_d AS VARCHAR), 'empty') || ' in %s but ' || coalesce(CAST(r_d AS VARCHAR), 'empty') || ' in %s' || coalesce(' (' || date_diff('day', l_d, r_d) || ' days, tolerance 3); ', '; ')`, leftDS, rightDS)
		default:
			col := map[string]string{"currency_mismatch": "currency", "partner_mismatch": "partner_id", "status_mismatch": "status"}[c.typ]
			if c.typ == "status_mismatch" {
				br.fixIn = quote(leftDS)
			}
			br.diff = ""
			detail = fmt.Sprintf(`'%[1]s is ' || coalesce(CAST(l_%[1]s AS VARCHAR), 'empty') || ' in %[2]s but ' || coalesce(CAST(r_%[1]s AS VARCHAR), 'empty') || ' in %[3]s; '`, col, leftDS, rightDS)
		}
		br.detail = detail + " || " + how
		if _, err := b.exec(ctx, c.typ, b.insertBreaks(br, "FROM diff WHERE "+c.cond)); err != nil {
			return err
		}
	}
	br := pairBreak("proposed_match")
	br.detail = `'proposed, not confirmed: invoice_number "' || coalesce(l_invoice_number, '') || '" looks like external_ref "' || coalesce(r_external_ref, '') || '" (jaro_winkler similarity ' || score || ', threshold 0.93); ' || ` + how + ` || '; confirm or reject it in review'`
	_, err := b.exec(ctx, "proposed_match", b.insertBreaks(br, "FROM diff WHERE proposed"))
	return err
}

func caseHow() string {
	var b strings.Builder
	for _, p := range []string{"exact", "amount_date", "fuzzy_ref"} {
		fmt.Fprintf(&b, " WHEN %s THEN %s", quote(p), quote(passHow[p]))
	}
	return b.String()
}

func pairBreak(typ string) breakRow {
	return breakRow{typ: typ, side: "'both'", leftSystem: quote(leftDS), rightSystm: quote(rightDS), pass: "pass",
		leftID: "l_id", rightID: "r_id", partner: "coalesce(l_partner_id, r_partner_id)", entity: "coalesce(l_legal_entity, r_legal_entity)",
		cur: "coalesce(l_currency, r_currency)", lamt: "l_amt", ramt: "r_amt", diff: "l_amt - r_amt",
		pname: "coalesce(l_partner_name, r_partner_name)", lorigin: "l_origin", rorigin: "r_origin"}
}

// unmatched reports what is still open on both sides.
func (b *baseline) unmatched(ctx context.Context) error {
	for _, side := range []string{"left", "right"} {
		t, ds, other := "lopen", leftDS, rightDS
		br := breakRow{typ: "unmatched", side: quote(side), leftSystem: quote(leftDS), rightSystm: quote(rightDS), fixIn: quote(rightDS),
			partner: "partner_id", entity: "legal_entity", cur: "currency", pname: "partner_name"}
		if side == "left" {
			br.leftID, br.lamt, br.diff, br.lorigin = "id", "amt", "amt", "origin"
		} else {
			t, ds, other = "ropen", rightDS, leftDS
			br.rightID, br.ramt, br.diff, br.rorigin = "id", "amt", "-amt", "origin"
		}
		br.detail = fmt.Sprintf(`'no %s record matched %s ' || id || ' in passes %s'`, other, ds, passNames)
		if _, err := b.exec(ctx, "unmatched "+side, b.insertBreaks(br, "FROM "+t)); err != nil {
			return err
		}
	}
	return nil
}

// write finishes the breaks (ids, ageing) and writes the run's files, each
// ordered by a unique key as the engine does.
func (b *baseline) write(ctx context.Context, out string) error {
	cols := strings.Join(append(append([]string(nil), model.BreakColumns...), "partner_name", "left_origin", "right_origin", "fix_in",
		"occurrences", "reopened", "review_status", "review_owner", "review_comment"), ", ")
	if _, err := b.exec(ctx, "break ids",
		`UPDATE breaks SET break_id = substr(sha256(concat_ws('|', recon, break_type, coalesce(left_id, ''), coalesce(right_id, ''), group_key)), 1, 16),
			first_seen = DATE `+duck.Quote(b.asOf)+`, age_days = 0, occurrences = 1, reopened = false`); err != nil {
		return err
	}
	if _, err := b.exec(ctx, "write breaks",
		fmt.Sprintf("COPY (SELECT %s FROM breaks ORDER BY recon, break_type, break_id) TO %s (FORMAT parquet, COMPRESSION zstd)", cols, duck.Quote(filepath.Join(out, run.BreaksParquet))),
		fmt.Sprintf("COPY (SELECT %s FROM breaks ORDER BY recon, break_type, break_id) TO %s (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')", cols, duck.Quote(filepath.Join(out, run.BreaksCSV))),
	); err != nil {
		return err
	}
	if _, err := b.exec(ctx, "write matches",
		fmt.Sprintf(`COPY (
			SELECT 'invoices' AS recon, pass, substr(sha256('invoices|' || lid || '|' || rid), 1, 16) AS match_group,
				lid AS left_id, rid AS right_id, lamt AS left_amount, ramt AS right_amount, lo AS left_origin, ro AS right_origin,
				CASE WHEN proposed THEN 'proposed' ELSE 'confirmed' END AS status, score
			FROM pm ORDER BY left_id, right_id, left_origin, right_origin) TO %s (FORMAT parquet, COMPRESSION zstd)`,
			duck.Quote(filepath.Join(out, run.MatchesParquet)))); err != nil {
		return err
	}
	rows, err := b.db.QueryContext(ctx, "SELECT break_type, count(*) FROM breaks GROUP BY ALL")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return err
		}
		b.res.Breaks[t] = n
	}
	return rows.Err()
}

// breakRow is one INSERT INTO breaks: SQL expressions, empty for NULL.
type breakRow struct {
	typ                                  string
	side, leftSystem, rightSystm, pass   string
	leftID, rightID, partner, entity     string
	cur, lamt, ramt, diff, detail, pname string
	lorigin, rorigin, fixIn, group       string
}

func (b *baseline) insertBreaks(r breakRow, from string) string {
	orNull := func(e string) string {
		if e == "" {
			return "NULL"
		}
		return e
	}
	cols := [][2]string{
		{"recon", quote(recon)}, {"pass", r.pass}, {"break_type", quote(r.typ)}, {"severity", quote(severities[r.typ])},
		{"side", r.side}, {"left_system", r.leftSystem}, {"left_id", r.leftID}, {"right_system", r.rightSystm}, {"right_id", r.rightID},
		{"partner_id", r.partner}, {"legal_entity", r.entity}, {"currency", r.cur},
		{"left_amount", r.lamt}, {"right_amount", r.ramt}, {"difference", r.diff}, {"detail", r.detail},
		{"partner_name", r.pname}, {"left_origin", r.lorigin}, {"right_origin", r.rorigin}, {"fix_in", r.fixIn}, {"group_key", r.group},
	}
	var names, exprs []string
	for _, c := range cols {
		names = append(names, c[0])
		exprs = append(exprs, orNull(c[1]))
	}
	return fmt.Sprintf("INSERT INTO breaks (%s)\nSELECT %s\n%s", strings.Join(names, ", "), strings.Join(exprs, ",\n\t"), from)
}

func quote(s string) string { return duck.Quote(s) }

// CPUTime is the CPU time (user and system, all threads) this process has
// used so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
