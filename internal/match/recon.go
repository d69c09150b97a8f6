package match

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
)

// recon runs one rule. Every step is one set-based SQL statement; Go only
// sequences them. Work tables: l and r (views of the sides' rows, each
// with a surrogate _k), lopen and ropen (what is still unmatched), lclosed
// and rclosed (what was taken), and pairs (matches so far, shared by all
// recons).
type recon struct {
	db     *sql.DB
	rule   *rules.Rule
	asOf   string
	sum    run.ReconSummary
	tables map[model.Dataset]string
	log    *slog.Logger
	// matchTable keeps the recon's pairs for matches.parquet once matched
	// says there are any (see recordMatches).
	matchTable string
	matched    bool
}

// exec runs one statement of the recon, logging its duration at debug
// level: `--log-level debug` is the profile of a slow rule.
func (rc *recon) exec(ctx context.Context, step, q string, args ...any) (int64, error) {
	start := time.Now()
	res, err := rc.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("recon %s: %s: %w", rc.rule.Recon, step, err)
	}
	n, _ := res.RowsAffected()
	if rc.log != nil {
		rc.log.Debug("sql", "recon", rc.rule.Recon, "step", step, "rows", n, "ms", time.Since(start).Milliseconds())
	}
	return n, nil
}

// execAll runs statements in order.
func (rc *recon) execAll(ctx context.Context, step string, stmts ...string) error {
	for _, q := range stmts {
		if _, err := rc.exec(ctx, step, q); err != nil {
			return err
		}
	}
	return nil
}

func (rc *recon) severity(breakType string) string { return rc.rule.SeverityOf(breakType).String() }

func (rc *recon) run(ctx context.Context) error {
	r := rc.rule
	rc.sum = run.ReconSummary{Recon: r.Recon, Left: r.Left.Dataset, Right: r.Right.Dataset}
	hasRight := r.Right.Dataset != ""
	if err := rc.loadSide(ctx, "l", r.Left); err != nil {
		return err
	}
	if hasRight {
		if err := rc.loadSide(ctx, "r", r.Right); err != nil {
			return err
		}
	}
	if err := rc.checks(ctx, hasRight); err != nil {
		return err
	}
	// A recon without passes only checks and proves: nothing is unmatched.
	if hasRight && len(r.Passes) > 0 {
		if err := rc.match(ctx); err != nil {
			return err
		}
	}
	if hasRight {
		if err := rc.proofs(ctx); err != nil {
			return err
		}
	}
	return rc.counts(ctx, hasRight)
}

// checks runs the checks on one dataset: duplicates (which also take the
// extra copies out of matching), unbalanced entries and version conflicts.
func (rc *recon) checks(ctx context.Context, hasRight bool) error {
	r := rc.rule
	for _, d := range r.Duplicates {
		for _, side := range []string{"left", "right"} {
			if (d.Side == side || d.Side == "both") && (side == "left" || hasRight) {
				if err := rc.duplicates(ctx, side, d); err != nil {
					return err
				}
			}
		}
	}
	for _, u := range r.Unbalanced {
		if err := rc.unbalanced(ctx, u); err != nil {
			return err
		}
	}
	for _, v := range r.VersionConflicts {
		if err := rc.versionConflicts(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// match runs the waterfall of passes, then reports on what it left: the
// pairs' comparisons, timing differences, proposals and the unmatched.
func (rc *recon) match(ctx context.Context) error {
	r := rc.rule
	for _, p := range r.Passes {
		var err error
		if p.SubsetSum != nil {
			err = rc.subsetSum(ctx, p)
		} else {
			err = rc.pass(ctx, p)
		}
		if err != nil {
			return err
		}
	}
	if err := rc.joinPairs(ctx); err != nil {
		return err
	}
	if err := rc.recordMatches(ctx); err != nil {
		return err
	}
	if err := rc.proposed(ctx); err != nil {
		return err
	}
	if err := rc.unmatched(ctx); err != nil {
		return err
	}
	if err := rc.timing(ctx); err != nil {
		return err
	}
	for _, c := range r.Compare {
		if err := rc.compare(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// side returns a side's table alias and dataset name.
func (rc *recon) side(side string) (alias, dataset string) {
	if side == "right" {
		return "r", rc.rule.Right.Dataset
	}
	return "l", rc.rule.Left.Dataset
}

// loadSide defines a side's rows with a surrogate key _k (the row's place in
// the snapshot file), the id as text, the main amount, the partner name and,
// under a period, whether the row is dated after the period end (_late).
// Ties between candidates are broken by ids, never by _k.
func (rc *recon) loadSide(ctx context.Context, alias string, s rules.Side) error {
	ds := s.DatasetName()
	t, _ := model.LookupTable(ds.Table)
	conds := []string{"true"}
	if strings.TrimSpace(s.Where) != "" {
		conds = append(conds, "("+s.Where+"\n)")
	}
	late := "false"
	if p := rc.rule.Period; p != nil {
		col := p.Left
		if alias == "r" {
			col = p.Right
		}
		end := "DATE " + duck.Quote(rc.asOf)
		late = fmt.Sprintf("coalesce(%s > %s, false)", duck.Ident(col), end)
		conds = append(conds, fmt.Sprintf("coalesce(%s <= %s + %d, true)", duck.Ident(col), end, p.InTransitDays))
	}
	pname := "NULL::VARCHAR"
	if _, ok := t.Column("partner_name"); ok {
		pname = "partner_name"
	}
	// A view, not a copy: the side is its dataset's rows under the rule's
	// filters, with the columns every pass uses computed on the fly.
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP VIEW %[1]s AS
		SELECT _row AS _k, CAST(%[2]s AS VARCHAR) AS _id,
			CAST(%[3]s AS %[4]s) AS _amt, %[5]s AS _pname, %[8]s AS _late, * EXCLUDE (_row)
		FROM %[6]s WHERE %[7]s`,
		alias, duck.Ident(t.Key), t.Amount, model.Money, pname, rc.tables[ds], strings.Join(conds, " AND "), late)
	if _, err := rc.exec(ctx, "load "+s.Dataset, q); err != nil {
		return err
	}
	return rc.execAll(ctx, "open "+s.Dataset,
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %[1]sopen AS SELECT _k FROM %[1]s", alias),
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %sclosed (_k BIGINT)", alias))
}

// openRows is the FROM of a side's rows still open. A side keeps both
// what is open (lopen) and what was taken (lclosed); whichever is smaller
// is joined, so the first pass over a side scans it without a join and a
// late pass joins the few rows left.
func (rc *recon) openRows(ctx context.Context, alias string) (string, error) {
	var open, closed int64
	q := fmt.Sprintf("SELECT (SELECT count(*) FROM %[1]sopen), (SELECT count(*) FROM %[1]sclosed)", alias)
	if err := rc.db.QueryRowContext(ctx, q).Scan(&open, &closed); err != nil {
		return "", fmt.Errorf("recon %s: open rows: %w", rc.rule.Recon, err)
	}
	switch {
	case closed == 0:
		return alias, nil
	case closed < open:
		return fmt.Sprintf("%[1]s ANTI JOIN %[1]sclosed USING (_k)", alias), nil
	default:
		return fmt.Sprintf("%[1]s SEMI JOIN %[1]sopen USING (_k)", alias), nil
	}
}

// closeRows returns the statements that take a side's open rows out of
// matching: keys is a query of their _k.
func closeRows(alias, keys string) []string {
	return append([]string{
		"CREATE OR REPLACE TEMP TABLE taking AS " + keys,
		fmt.Sprintf("INSERT INTO %sclosed SELECT _k FROM taking", alias)},
		rebuild(alias+"open", fmt.Sprintf("SELECT * FROM %sopen ANTI JOIN taking USING (_k)", alias))...)
}

// drop returns the statements that take the rows matching cond out of
// table t.
func drop(t, cond string) []string {
	return rebuild(t, fmt.Sprintf("SELECT * FROM %s WHERE (%s) IS NOT TRUE", duck.Ident(t), cond))
}

// rebuild returns the statements that replace table t with the rows of
// query (which reads t). Work tables are rebuilt rather than deleted
// from: DuckDB keeps a table's row-count estimate after a DELETE, and a
// work table that still claims its original million rows after most were
// taken makes the optimiser build its joins on the wrong side (measured:
// 5–10× slower semi joins of a side with what is still open).
func rebuild(t, query string) []string {
	next := duck.Ident(t + "_next")
	return []string{
		fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", next, query),
		"DROP TABLE " + duck.Ident(t),
		fmt.Sprintf("ALTER TABLE %s RENAME TO %s", next, duck.Ident(t)),
	}
}

// concat joins lists of statements.
func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// breakRow is one INSERT INTO breaks: each field is a SQL expression over
// the FROM clause (empty means NULL), except the constants set from Go.
type breakRow struct {
	typ, side              string // constants
	leftSystem, rightSystm string // constants: dataset names, or empty
	pass                   string
	leftID, rightID        string
	partner, entity, cur   string
	lamt, ramt, diff       string
	detail                 string
	pname                  string
	lorigin, rorigin       string
	group                  string
	fixIn                  string // constant: a dataset name, or empty
}

// insertBreaks inserts one break per row of from.
func (rc *recon) insertBreaks(ctx context.Context, step string, b breakRow, from string, args ...any) (int64, error) {
	orNull := func(e string) string {
		if e == "" {
			return "NULL"
		}
		return e
	}
	constant := func(s string) string {
		if s == "" {
			return "NULL"
		}
		return duck.Quote(s)
	}
	cols := []struct{ name, expr string }{
		{"recon", duck.Quote(rc.rule.Recon)},
		{"pass", orNull(b.pass)},
		{"break_type", duck.Quote(b.typ)},
		{"severity", duck.Quote(rc.severity(b.typ))},
		{"side", duck.Quote(b.side)},
		{"left_system", constant(b.leftSystem)},
		{"left_id", orNull(b.leftID)},
		{"right_system", constant(b.rightSystm)},
		{"right_id", orNull(b.rightID)},
		{"partner_id", orNull(b.partner)},
		{"legal_entity", orNull(b.entity)},
		{"currency", orNull(b.cur)},
		{"left_amount", orNull(b.lamt)},
		{"right_amount", orNull(b.ramt)},
		{"difference", orNull(b.diff)},
		{"detail", orNull(b.detail)},
		{"partner_name", orNull(b.pname)},
		{"left_origin", orNull(b.lorigin)},
		{"right_origin", orNull(b.rorigin)},
		{"group_key", orNull(b.group)},
		{"fix_in", constant(b.fixIn)},
	}
	names := make([]string, len(cols))
	exprs := make([]string, len(cols))
	for i, c := range cols {
		names[i], exprs[i] = c.name, c.expr
	}
	q := fmt.Sprintf("INSERT INTO breaks (%s)\nSELECT %s\n%s", strings.Join(names, ", "), strings.Join(exprs, ",\n\t"), from)
	return rc.exec(ctx, step, q, args...)
}

// fixIn returns the dataset a break about field should be fixed in: the
// side that is not authoritative for it.
func (rc *recon) fixIn(field string) string {
	if rc.rule.AuthoritativeFor(field) == "right" {
		return rc.rule.Left.Dataset
	}
	return rc.rule.Right.Dataset
}

func (rc *recon) passNames() string {
	names := make([]string, len(rc.rule.Passes))
	for i, p := range rc.rule.Passes {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// counts fills the recon's row and match counts.
func (rc *recon) counts(ctx context.Context, hasRight bool) error {
	s := &rc.sum
	q := "SELECT (SELECT count(*) FROM l)"
	if hasRight {
		q += `, (SELECT count(*) FROM r), (SELECT count(DISTINCT lk) FROM pairs WHERE recon = $1),
			(SELECT count(DISTINCT rk) FROM pairs WHERE recon = $1), (SELECT count(*) FROM pairs WHERE recon = $1),
			(SELECT count(*) FROM l SEMI JOIN lopen USING (_k) WHERE _late) + (SELECT count(*) FROM r SEMI JOIN ropen USING (_k) WHERE _late)`
		if err := rc.db.QueryRowContext(ctx, q, rc.rule.Recon).Scan(&s.LeftRows, &s.RightRows, &s.LeftMatched, &s.RightMatched, &s.Pairs, &s.Deferred); err != nil {
			return fmt.Errorf("recon %s: counts: %w", rc.rule.Recon, err)
		}
	} else if err := rc.db.QueryRowContext(ctx, q).Scan(&s.LeftRows); err != nil {
		return fmt.Errorf("recon %s: counts: %w", rc.rule.Recon, err)
	}
	// A recon without passes (a proof or limit) matches nothing: no rate.
	if s.LeftRows > 0 && hasRight && len(rc.rule.Passes) > 0 {
		// Exact ratio to four places, computed in integers.
		basisPoints := (s.LeftMatched*100000/s.LeftRows + 5) / 10
		s.MatchRate = fmt.Sprintf("%d.%04d", basisPoints/10000, basisPoints%10000)
	}
	return nil
}
