// Package match runs declarative reconciliation rules over a snapshot in
// DuckDB and writes a run: breaks, matches, a summary and run.json
// (DESIGN §6). Rules compile to set-based SQL; Go only sequences the
// statements. A run is a pure function of the snapshot, the rules, the tool
// version and the as-of date: nothing reads the clock. Match does not extract
// data and does not render reports.
package match

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/evidence"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
	"github.com/finrecon/finrecon/internal/sqlexpr"
	"github.com/finrecon/finrecon/internal/version"
)

// Options for one run.
type Options struct {
	SnapshotDir string
	Rules       *rules.Set
	// RunsDir is the folder runs are written into, as <RunsDir>/<run_id>.
	RunsDir string
	AsOf    string // YYYY-MM-DD
	FailOn  model.Severity
	// History, when set, is a break history file (store.HistoryColumns) the
	// run starts from: first_seen, age_days, occurrences, reopened and the
	// review columns come from it. The run keeps a copy as an input.
	History string
	// SigningKey, when set, is an ed25519 private key file: the run's
	// run.json is signed with it (run.json.sig).
	SigningKey string
	Duck       duck.Options
	Log        *slog.Logger
	// Progress, when set, is told after each reconciliation how many of
	// the total are done (for a progress bar on a terminal).
	Progress func(done, total int, recon string)
}

// Result is a finished run.
type Result struct {
	Dir     string
	Summary *run.Summary
}

// Run matches the snapshot against the rules and writes the run.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if _, err := time.Parse(time.DateOnly, opts.AsOf); err != nil {
		return nil, fail.ConfigErr(fmt.Errorf("as-of %q: want YYYY-MM-DD", opts.AsOf))
	}
	if opts.FailOn == 0 {
		opts.FailOn = model.High
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	snap, err := snapshot.Open(opts.SnapshotDir)
	if err != nil {
		return nil, fail.ConfigErr(err)
	}
	historyHash := ""
	if opts.History != "" {
		if historyHash, err = snapshot.HashFile(opts.History); err != nil {
			return nil, fail.SourceErr(fmt.Errorf("break history: %w", err))
		}
	}
	runID := runID(snap.ID, historyHash, opts)
	link, err := evidence.LinkFor(opts.RunsDir, runID)
	if err != nil {
		return nil, fail.ConfigErr(err)
	}
	if err := os.MkdirAll(opts.RunsDir, 0o755); err != nil {
		return nil, fail.SourceErr(fmt.Errorf("runs folder: %w", err))
	}
	staging, err := os.MkdirTemp(opts.RunsDir, ".staging-")
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("runs folder: %w", err))
	}
	defer os.RemoveAll(staging)
	stagingAbs, err := filepath.Abs(staging)
	if err != nil {
		return nil, err
	}
	if opts.History != "" {
		if err := copyFile(opts.History, filepath.Join(stagingAbs, run.HistoryParquet)); err != nil {
			return nil, fail.SourceErr(fmt.Errorf("break history: %w", err))
		}
	}
	snapAbs, err := filepath.Abs(opts.SnapshotDir)
	if err != nil {
		return nil, err
	}

	db, err := duck.Open(ctx, opts.Duck)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// Rule expressions are parsed and checked before anything runs them.
	if err := opts.Rules.CheckExprs(func(expr string, cols []string) error {
		return sqlexpr.Check(ctx, db, expr, cols)
	}); err != nil {
		return nil, fail.ConfigErr(err)
	}
	phase := time.Now()
	tables, err := load(ctx, db, snapAbs, snap, opts.Rules)
	if err != nil {
		return nil, err
	}
	log.Debug("phase", "step", "load snapshot", "ms", time.Since(phase).Milliseconds())
	// From here on, SQL (rule expressions included) can read the snapshot
	// and write the run, nothing else, and cannot change settings.
	if err := duck.LockDown(ctx, db, snapAbs, stagingAbs); err != nil {
		return nil, err
	}
	sum := &run.Summary{RunID: runID, SnapshotID: snap.ID, AsOf: opts.AsOf, RulesHash: opts.Rules.Hash(), FailOn: opts.FailOn.String()}
	var matched []*recon // recons whose pairs go to matches.parquet
	for i, r := range opts.Rules.Rules {
		log.Info("match recon", "recon", r.Recon, "left", r.Left.Dataset, "right", r.Right.Dataset)
		rc := &recon{db: db, rule: r, tables: tables, asOf: opts.AsOf, log: log, matchTable: fmt.Sprintf("pm_%d", i)}
		if err := rc.run(ctx); err != nil {
			return nil, classifyRuleError(err)
		}
		sum.Recons = append(sum.Recons, rc.sum)
		if rc.matched {
			matched = append(matched, rc)
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(opts.Rules.Rules), r.Recon)
		}
	}
	history := ""
	if opts.History != "" {
		history = filepath.Join(stagingAbs, run.HistoryParquet)
	}
	phase = time.Now()
	if err := finishBreaks(ctx, db, opts.AsOf, history); err != nil {
		return nil, err
	}
	log.Debug("phase", "step", "finish breaks", "ms", time.Since(phase).Milliseconds())
	if err := breakCounts(ctx, db, sum, opts.FailOn); err != nil {
		return nil, err
	}
	phase = time.Now()
	if err := writeOutputs(ctx, db, stagingAbs, matched); err != nil {
		return nil, err
	}
	log.Debug("phase", "step", "write outputs", "ms", time.Since(phase).Milliseconds())
	if err := writeRunFiles(stagingAbs, sum, snap, historyHash, link, opts); err != nil {
		return nil, err
	}
	if opts.SigningKey != "" {
		if err := evidence.SignRun(stagingAbs, opts.SigningKey); err != nil {
			return nil, fail.ConfigErr(err)
		}
	}
	dir := filepath.Join(opts.RunsDir, runID)
	if err := replaceDir(staging, dir); err != nil {
		return nil, fail.SourceErr(err)
	}
	if err := run.WriteLatest(opts.RunsDir, runID); err != nil {
		return nil, fail.SourceErr(fmt.Errorf("runs folder: %w", err))
	}
	return &Result{Dir: dir, Summary: sum}, nil
}

// runID is derived from the inputs, so the same inputs give the same run.
func runID(snapshotID, historyHash string, opts Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%s\n", snapshotID, opts.Rules.Hash(), version.Version, opts.AsOf, opts.FailOn)
	if historyHash != "" {
		fmt.Fprintf(h, "history %s\n", historyHash)
	}
	return "r-" + strings.ReplaceAll(opts.AsOf, "-", "") + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

// classifyRuleError treats SQL errors raised by a rule's own expressions as
// configuration problems: the rule file must change, not the data.
func classifyRuleError(err error) error {
	msg := err.Error()
	for _, s := range []string{"Binder Error", "Parser Error", "Catalog Error", "Permission Error", "Conversion Error"} {
		if strings.Contains(msg, s) {
			return fail.ConfigErr(err)
		}
	}
	return err
}

// load creates one table per dataset the rules use, plus the work tables.
func load(ctx context.Context, db *sql.DB, dir string, snap *snapshot.Manifest, set *rules.Set) (map[model.Dataset]string, error) {
	tables := map[model.Dataset]string{}
	for _, r := range set.Rules {
		names := []string{r.Left.Dataset, r.Right.Dataset}
		if r.Rates != nil {
			names = append(names, r.Rates.Dataset)
		}
		for _, name := range names {
			if name == "" {
				continue
			}
			ds, _ := model.ParseDataset(name)
			if _, ok := tables[ds]; ok {
				continue
			}
			entry, ok := snap.Dataset(ds.String())
			if !ok {
				have := make([]string, len(snap.Datasets))
				for i, d := range snap.Datasets {
					have[i] = d.Name
				}
				return nil, fail.ConfigErr(fmt.Errorf("%s: recon %s needs dataset %s, which snapshot %s does not have (it has %s)",
					r.File, r.Recon, ds, snap.ID, strings.Join(have, ", ")))
			}
			name := "ds_" + ds.System + "_" + ds.Table
			file := duck.Quote(filepath.Join(dir, entry.File.File))
			cols, err := columnsRead(ctx, db, file, ds, set)
			if err != nil {
				return nil, fmt.Errorf("load %s: %w", ds, err)
			}
			// _row, the row's place in the snapshot file, is the rows'
			// surrogate key: fixed by the immutable file, so no sort is
			// needed to make it deterministic.
			q := fmt.Sprintf("CREATE TABLE %s AS SELECT %s, file_row_number AS _row FROM read_parquet(%s, file_row_number = true)",
				name, cols, file)
			if _, err := db.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("load %s: %w", ds, err)
			}
			tables[ds] = name
		}
		if err := checkDeclaredColumns(ctx, db, r, tables); err != nil {
			return nil, err
		}
	}
	var descs []string
	for _, r := range set.Rules {
		for _, p := range r.Passes {
			descs = append(descs, fmt.Sprintf("(%s, %s, %s)", duck.Quote(r.Recon), duck.Quote(p.Name), duck.Quote(passDescription(p))))
		}
	}
	stmts := []string{
		`CREATE TABLE breaks (break_id VARCHAR, recon VARCHAR, pass VARCHAR, break_type VARCHAR, severity VARCHAR, side VARCHAR,
			left_system VARCHAR, left_id VARCHAR, right_system VARCHAR, right_id VARCHAR,
			partner_id VARCHAR, legal_entity VARCHAR, currency VARCHAR,
			left_amount ` + model.Money + `, right_amount ` + model.Money + `, difference ` + model.Money + `,
			first_seen DATE, age_days BIGINT, detail VARCHAR,
			partner_name VARCHAR, left_origin VARCHAR, right_origin VARCHAR, fix_in VARCHAR, group_key VARCHAR,
			occurrences BIGINT, reopened BOOLEAN, review_status VARCHAR, review_owner VARCHAR, review_comment VARCHAR)`,
		// grp is the match group of a many-sided match, NULL for one to one.
		`CREATE TABLE pairs (recon VARCHAR, pass VARCHAR, lk BIGINT, rk BIGINT, grp VARCHAR, proposed BOOLEAN, score DECIMAL(9,4))`,
		`CREATE TABLE matches (recon VARCHAR, pass VARCHAR, match_group VARCHAR, left_id VARCHAR, right_id VARCHAR,
			left_amount ` + model.Money + `, right_amount ` + model.Money + `, left_origin VARCHAR, right_origin VARCHAR,
			status VARCHAR, score DECIMAL(9,4))`,
		// Items a subset-sum pass could not search completely.
		`CREATE TABLE unsearched (recon VARCHAR, pass VARCHAR, side VARCHAR, k BIGINT, searched BIGINT, total BIGINT)`,
		`CREATE TABLE pass_desc (recon VARCHAR, pass VARCHAR, how VARCHAR)`,
		// Amounts in words: exact, trailing zeros past the cents dropped.
		`CREATE MACRO fr_amt(x) AS regexp_replace(CAST(x AS VARCHAR), '(\.[0-9]{2}[0-9]*?)0+$', '\1')`,
	}
	if len(descs) > 0 {
		stmts = append(stmts, "INSERT INTO pass_desc VALUES "+strings.Join(descs, ", "))
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("prepare run: %w", err)
		}
	}
	return tables, nil
}

// columnsRead is the select list of the columns of a snapshot file that
// the rules reading dataset ds may use: every column whose name appears
// anywhere in those rules (fields, expressions, declared columns), and the
// ones the engine itself reads. Matching names in the rules' text rather
// than parsing every expression keeps this conservative: a name that only
// appears in a description loads a column for nothing, never the reverse.
// Skipping the rest makes the load faster and the run smaller.
func columnsRead(ctx context.Context, db *sql.DB, file string, ds model.Dataset, set *rules.Set) (string, error) {
	var text strings.Builder
	enc := json.NewEncoder(&text)
	enc.SetEscapeHTML(false)
	for _, r := range set.Rules {
		reads := r.Left.DatasetName() == ds || (r.Right.Dataset != "" && r.Right.DatasetName() == ds)
		if r.Rates != nil && r.Rates.DatasetName() == ds {
			return "* EXCLUDE (file_row_number)", nil // rates are small: all of them
		}
		if reads {
			if err := enc.Encode(r); err != nil {
				return "", err
			}
		}
	}
	words := strings.ToLower(text.String())
	always := map[string]bool{model.Origin: true, "partner_id": true, "partner_name": true, "legal_entity": true,
		"currency": true, "debit": true, "credit": true}
	if t, ok := model.LookupTable(ds.Table); ok {
		always[t.Key], always[t.Amount] = true, true
	}
	rows, err := db.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet("+file+"))")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var keep []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return "", err
		}
		if always[c] || strings.Contains(words, strings.ToLower(c)) {
			keep = append(keep, duck.Ident(c))
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(keep) == 0 {
		return "", fmt.Errorf("the snapshot file has no columns: re-extract it")
	}
	return strings.Join(keep, ", "), nil
}

// checkDeclaredColumns makes sure the extra columns a rule declares on a
// side exist in the snapshot, so a missing one is a clear configuration
// error instead of a SQL error halfway through the run.
func checkDeclaredColumns(ctx context.Context, db *sql.DB, r *rules.Rule, tables map[model.Dataset]string) error {
	for _, side := range []rules.Side{r.Left, r.Right} {
		if len(side.Columns) == 0 {
			continue
		}
		have := map[string]bool{}
		rows, err := db.QueryContext(ctx, "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", tables[side.DatasetName()])
		if err != nil {
			return fmt.Errorf("load %s: %w", side.Dataset, err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			have[c] = true
		}
		rows.Close()
		for _, c := range side.Columns {
			if !have[c] {
				return fail.ConfigErr(fmt.Errorf("%s: recon %s uses column %s of %s, which the snapshot's %s does not have: add it to the source (extra source columns are kept) or remove it from the rule",
					r.File, r.Recon, c, side.Dataset, side.Dataset))
			}
		}
	}
	return nil
}

// finishBreaks derives each break's stable id and its ageing fields. A
// break the history does not know is first seen in this run.
func finishBreaks(ctx context.Context, db *sql.DB, asOf, history string) error {
	stmts := []string{`UPDATE breaks SET
		break_id = substr(sha256(concat_ws('|', recon, break_type, coalesce(left_id, ''), coalesce(right_id, ''), group_key)), 1, 16),
		first_seen = DATE ` + duck.Quote(asOf) + `, age_days = 0, occurrences = 1, reopened = false`}
	if history != "" {
		// A break that had been resolved and is back starts its review
		// over: "fixed-in-source" or "accepted" no longer holds. Its owner
		// and comment stay, for context.
		stmts = append(stmts, `UPDATE breaks SET
			first_seen = h.first_seen,
			age_days = DATE `+duck.Quote(asOf)+` - h.first_seen,
			occurrences = h.occurrences + 1,
			reopened = h.resolved_on IS NOT NULL OR h.reopened,
			review_status = CASE WHEN h.resolved_on IS NULL THEN h.review_status END,
			review_owner = h.review_owner,
			review_comment = h.review_comment
		FROM read_parquet(`+duck.Quote(history)+`) h
		WHERE breaks.break_id = h.break_id`)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("finish breaks: %w", err)
		}
	}
	var dups int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) - count(DISTINCT break_id) FROM breaks").Scan(&dups); err != nil {
		return fmt.Errorf("finish breaks: %w", err)
	}
	if dups != 0 {
		return errors.New("finish breaks: two breaks got the same break_id; this is a bug, please report it with the rules used")
	}
	return nil
}

func breakCounts(ctx context.Context, db *sql.DB, sum *run.Summary, failOn model.Severity) error {
	rows, err := db.QueryContext(ctx, "SELECT recon, break_type, severity, count(*) FROM breaks GROUP BY ALL ORDER BY ALL")
	if err != nil {
		return fmt.Errorf("count breaks: %w", err)
	}
	defer rows.Close()
	byRecon := map[string]*run.ReconSummary{}
	for i := range sum.Recons {
		byRecon[sum.Recons[i].Recon] = &sum.Recons[i]
		sum.Recons[i].Breaks = []run.BreakCount{}
	}
	for rows.Next() {
		var recon string
		var bc run.BreakCount
		if err := rows.Scan(&recon, &bc.Type, &bc.Severity, &bc.Count); err != nil {
			return err
		}
		byRecon[recon].Breaks = append(byRecon[recon].Breaks, bc)
		sum.Breaks += bc.Count
		if sev, err := model.ParseSeverity(bc.Severity); err == nil && sev >= failOn {
			sum.Failing += bc.Count
		}
	}
	return rows.Err()
}

// outputColumns is breaks.csv's column list: DESIGN §6's, then traceability.
var outputColumns = append(append([]string(nil), model.BreakColumns...), "partner_name", "left_origin", "right_origin", "fix_in",
	"occurrences", "reopened", "review_status", "review_owner", "review_comment")

// writeOutputs writes the break and match files, each ordered by a unique
// key so they are byte-identical from run to run.
func writeOutputs(ctx context.Context, db *sql.DB, dir string, matched []*recon) error {
	cols := strings.Join(outputColumns, ", ")
	order := "recon, break_type, break_id"
	// matches.parquet reads each recon's pairs where they are (pm_<n>),
	// rather than from a copy of all of them.
	matches := []string{"SELECT * FROM matches"}
	for _, rc := range matched {
		matches = append(matches, rc.matchRows())
	}
	stmts := []string{
		fmt.Sprintf("COPY (SELECT %s FROM breaks ORDER BY %s) TO %s (FORMAT parquet, COMPRESSION zstd)", cols, order, duck.Quote(filepath.Join(dir, run.BreaksParquet))),
		fmt.Sprintf("COPY (SELECT %s FROM breaks ORDER BY %s) TO %s (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')", cols, order, duck.Quote(filepath.Join(dir, run.BreaksCSV))),
		fmt.Sprintf("COPY (%s ORDER BY recon, left_id, right_id, left_origin, right_origin) TO %s (FORMAT parquet, COMPRESSION zstd)",
			strings.Join(matches, "\nUNION ALL "), duck.Quote(filepath.Join(dir, run.MatchesParquet))),
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("write run: %w", err)
		}
	}
	return nil
}

// writeRunFiles copies the rules, writes summary.json, and last run.json
// with the hash of every other file.
func writeRunFiles(dir string, sum *run.Summary, snap *snapshot.Manifest, historyHash string, link evidence.Link, opts Options) error {
	m := &run.Manifest{RunID: sum.RunID, ToolVersion: version.Version, SchemaVersion: model.SchemaVersion,
		SnapshotID: snap.ID, AsOf: opts.AsOf, FailOn: opts.FailOn.String(), RulesHash: opts.Rules.Hash(),
		PreviousRun: link.PreviousRun, PreviousManifestSHA256: link.PreviousManifestSHA256}
	if historyHash != "" {
		m.History = &run.FileDigest{File: run.HistoryParquet, SHA256: historyHash}
	}
	if err := os.MkdirAll(filepath.Join(dir, run.RulesDir), 0o755); err != nil {
		return err
	}
	for _, r := range opts.Rules.Rules {
		name := filepath.Join(run.RulesDir, filepath.Base(r.File))
		if err := copyFile(r.File, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("write run: %w", err)
		}
		m.Rules = append(m.Rules, run.FileDigest{File: filepath.ToSlash(name), SHA256: r.SHA256})
	}
	if err := writeJSON(filepath.Join(dir, run.SummaryJSON), sum); err != nil {
		return err
	}
	for _, f := range []string{run.BreaksParquet, run.BreaksCSV, run.MatchesParquet, run.SummaryJSON} {
		h, err := snapshot.HashFile(filepath.Join(dir, f))
		if err != nil {
			return fmt.Errorf("write run: %w", err)
		}
		m.Outputs = append(m.Outputs, run.FileDigest{File: f, SHA256: h})
	}
	sort.Slice(m.Outputs, func(i, j int) bool { return m.Outputs[i].File < m.Outputs[j].File })
	return writeJSON(filepath.Join(dir, run.ManifestJSON), m)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write run: %w", err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// replaceDir moves staging to dir, replacing an earlier run of the same
// inputs (which, being a pure function of them, holds the same files).
func replaceDir(staging, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		old := dir + ".old"
		os.RemoveAll(old)
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("replace run %s: %w", dir, err)
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(staging, dir); err != nil {
		return fmt.Errorf("publish run %s: %w", dir, err)
	}
	return nil
}
