// Package run defines a run directory: the files a match writes
// (breaks, matches, summary, run.json) and how later stages read them back.
// match writes runs; report and adjust only read them.
package run

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/duck"
)

// Files of a run directory.
const (
	BreaksParquet  = "breaks.parquet"
	BreaksCSV      = "breaks.csv"
	MatchesParquet = "matches.parquet"
	SummaryJSON    = "summary.json"
	ManifestJSON   = "run.json"
	RulesDir       = "rules" // a copy of the rule files the run used
	// HistoryParquet is the break history the run started from (exported
	// from the break store): an input, like the snapshot.
	HistoryParquet = "history.parquet"
	ReportXLSX     = "report.xlsx" // written by report
	AdjustDir      = "adjustments" // written by adjust
)

// Manifest is run.json: everything needed to trust and replay the run. It
// holds nothing that depends on the wall clock.
type Manifest struct {
	RunID         string       `json:"run_id"`
	ToolVersion   string       `json:"tool_version"`
	SchemaVersion int          `json:"schema_version"`
	SnapshotID    string       `json:"snapshot_id"`
	AsOf          string       `json:"as_of"`
	FailOn        string       `json:"fail_on"`
	RulesHash     string       `json:"rules_hash"`
	Rules         []FileDigest `json:"rules"`
	// History is the break history the run started from, when it had one.
	History *FileDigest  `json:"history,omitempty"`
	Outputs []FileDigest `json:"outputs"`
	// The evidence chain: the run written before this one in the same runs
	// folder and the SHA-256 of its run.json; empty for the first run.
	PreviousRun            string `json:"previous_run,omitempty"`
	PreviousManifestSHA256 string `json:"previous_manifest_sha256,omitempty"`
}

// FileDigest names a file (relative to the run directory) and its SHA-256.
type FileDigest struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Summary is summary.json: counts per reconciliation.
type Summary struct {
	RunID      string         `json:"run_id"`
	SnapshotID string         `json:"snapshot_id"`
	AsOf       string         `json:"as_of"`
	RulesHash  string         `json:"rules_hash"`
	FailOn     string         `json:"fail_on"`
	Breaks     int64          `json:"breaks"`
	Failing    int64          `json:"failing"` // breaks at or above FailOn
	Recons     []ReconSummary `json:"recons"`
}

// ReconSummary counts one reconciliation's rows, matches and breaks.
type ReconSummary struct {
	Recon        string `json:"recon"`
	Left         string `json:"left"`
	Right        string `json:"right,omitempty"`
	LeftRows     int64  `json:"left_rows"`
	RightRows    int64  `json:"right_rows"`
	LeftMatched  int64  `json:"left_matched"`
	RightMatched int64  `json:"right_matched"`
	Pairs        int64  `json:"pairs"`
	// Deferred counts rows dated after the period end, within the rule's
	// in-transit days, left unmatched: they belong to the next period and
	// are not breaks.
	Deferred int64 `json:"deferred,omitempty"`
	// MatchRate is matched left rows over left rows, as a decimal string
	// with four places ("0.9731"); empty when there are no left rows.
	MatchRate string       `json:"match_rate"`
	Passes    []PassCount  `json:"passes"`
	Breaks    []BreakCount `json:"breaks"`
}

// PassCount is the number of pairs a pass matched.
type PassCount struct {
	Pass  string `json:"pass"`
	Pairs int64  `json:"pairs"`
	// Groups is the number of many-sided matches (each counts its pairs
	// under Pairs); Proposed the fuzzy pairs awaiting a person.
	Groups   int64 `json:"groups,omitempty"`
	Proposed int64 `json:"proposed,omitempty"`
	// Ambiguous is the number of ambiguous breaks the pass reported.
	Ambiguous int64 `json:"ambiguous,omitempty"`
	// Unsearched is the number of items a subset-sum pass could not search
	// completely: they had more candidates than its max_candidates.
	Unsearched int64 `json:"unsearched,omitempty"`
}

// BreakCount counts breaks of one type and severity.
type BreakCount struct {
	Type     string `json:"type"`
	Severity string `json:"severity"`
	Count    int64  `json:"count"`
}

// Break is one row of breaks.parquet. Amounts are exact; a missing amount is
// !Valid.
type Break struct {
	ID          string
	Recon       string
	Pass        string
	Type        string
	Severity    string
	Side        string
	LeftSystem  string
	LeftID      string
	RightSystem string
	RightID     string
	PartnerID   string
	LegalEntity string
	Currency    string
	LeftAmount  decimal.NullDecimal
	RightAmount decimal.NullDecimal
	Difference  decimal.NullDecimal
	FirstSeen   time.Time
	AgeDays     int64
	Detail      string
	// Extra columns after DESIGN §6's: traceability for accountants.
	PartnerName string
	LeftOrigin  string
	RightOrigin string
	// FixIn is the dataset the rule says should be fixed (the side that is
	// not authoritative); empty when a person decides.
	FixIn string
	// From the break store (the history the run was given): how many runs
	// reported the break, whether it came back after being resolved, and
	// the accountants' review columns carried over from earlier runs.
	Occurrences   int64
	Reopened      bool
	ReviewStatus  string
	ReviewOwner   string
	ReviewComment string
}

// optionalColumns are break columns later versions added, with what a run
// written before them reads as: old runs stay readable.
var optionalColumns = []struct{ name, expr, absent string }{
	{"fix_in", "coalesce(fix_in, '')", "''"},
	{"occurrences", "coalesce(occurrences, 1)", "1"},
	{"reopened", "coalesce(reopened, false)", "false"},
	{"review_status", "coalesce(review_status, '')", "''"},
	{"review_owner", "coalesce(review_owner, '')", "''"},
	{"review_comment", "coalesce(review_comment, '')", "''"},
}

// ReadManifest reads dir/run.json.
func ReadManifest(dir string) (*Manifest, error) {
	var m Manifest
	if err := readJSON(filepath.Join(dir, ManifestJSON), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ReadSummary reads dir/summary.json.
func ReadSummary(dir string) (*Summary, error) {
	var s Summary
	if err := readJSON(filepath.Join(dir, SummaryJSON), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read run: %w (is this a run directory written by finrecon match?)", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read run: %s: %w", path, err)
	}
	return nil
}

// breakColumns is the SELECT list that fills a Break, in field order.
const breakColumns = `break_id, recon, coalesce(pass, ''), break_type, severity, side,
	coalesce(left_system, ''), coalesce(left_id, ''), coalesce(right_system, ''), coalesce(right_id, ''),
	coalesce(partner_id, ''), coalesce(legal_entity, ''), coalesce(currency, ''),
	left_amount, right_amount, difference, first_seen, age_days, coalesce(detail, ''),
	coalesce(partner_name, ''), coalesce(left_origin, ''), coalesce(right_origin, ''), `

// EachBreak calls fn for every break of the run in dir, in breaks.csv order,
// streaming so that memory stays bounded. orderBy, when not empty, is a SQL
// ORDER BY list over the break columns (e.g. "abs(difference) DESC NULLS LAST,
// break_id"); the default is the file's order.
//
// duckdb-go materialises a query's whole result before the first row, so
// in file order breaks are read in batches of row numbers: memory follows
// the batch, not the run. An ordered read is one query.
func EachBreak(ctx context.Context, db *sql.DB, dir string, orderBy string, fn func(*Break) error) error {
	path := filepath.Join(dir, BreaksParquet)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("read breaks: %w (is this a run directory written by finrecon match?)", err)
	}
	extra, err := optionalSelect(ctx, db, path)
	if err != nil {
		return err
	}
	src := "read_parquet(" + duck.Quote(path) + ", file_row_number = true)"
	q := "SELECT " + breakColumns + extra + " FROM " + src
	if orderBy != "" {
		_, err := eachBreakIn(ctx, db, path, q+" ORDER BY "+orderBy, fn)
		return err
	}
	for start := int64(0); ; start += breakBatch {
		n, err := eachBreakIn(ctx, db, path, fmt.Sprintf("%s WHERE file_row_number >= %d AND file_row_number < %d ORDER BY file_row_number",
			q, start, start+breakBatch), fn)
		if err != nil || n < breakBatch {
			return err
		}
	}
}

// breakBatch is how many breaks EachBreak holds at once.
const breakBatch = 100_000

// eachBreakIn calls fn for each break q selects and returns how many.
func eachBreakIn(ctx context.Context, db *sql.DB, path, q string, fn func(*Break) error) (int64, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("read breaks %s: %w", path, err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var b Break
		var left, right, diff duck.Decimal
		if err := rows.Scan(&b.ID, &b.Recon, &b.Pass, &b.Type, &b.Severity, &b.Side,
			&b.LeftSystem, &b.LeftID, &b.RightSystem, &b.RightID,
			&b.PartnerID, &b.LegalEntity, &b.Currency,
			&left, &right, &diff, &b.FirstSeen, &b.AgeDays, &b.Detail,
			&b.PartnerName, &b.LeftOrigin, &b.RightOrigin, &b.FixIn,
			&b.Occurrences, &b.Reopened, &b.ReviewStatus, &b.ReviewOwner, &b.ReviewComment); err != nil {
			return n, fmt.Errorf("read breaks %s: %w", path, err)
		}
		b.LeftAmount = decimal.NullDecimal{Decimal: left.D, Valid: left.Valid}
		b.RightAmount = decimal.NullDecimal{Decimal: right.D, Valid: right.Valid}
		b.Difference = decimal.NullDecimal{Decimal: diff.D, Valid: diff.Valid}
		n++
		if err := fn(&b); err != nil {
			return n, err
		}
	}
	return n, rows.Err()
}

// optionalSelect returns the SELECT list of optionalColumns for the breaks
// file at path: each column it has, or the stand-in for one it lacks.
func optionalSelect(ctx context.Context, db *sql.DB, path string) (string, error) {
	have := map[string]bool{}
	rows, err := db.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet("+duck.Quote(path)+"))")
	if err != nil {
		return "", fmt.Errorf("read breaks %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", fmt.Errorf("read breaks %s: %w", path, err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read breaks %s: %w", path, err)
	}
	list := make([]string, len(optionalColumns))
	for i, c := range optionalColumns {
		list[i] = c.absent
		if have[c.name] {
			list[i] = c.expr
		}
	}
	return strings.Join(list, ", "), nil
}

// LatestFile in a runs folder names the most recent run.
const LatestFile = "LATEST"

// Resolve turns a run reference into a run folder: a run folder itself, or a
// runs folder (its latest run).
func Resolve(ref string) (string, error) {
	if _, err := os.Stat(filepath.Join(ref, ManifestJSON)); err == nil {
		return ref, nil
	}
	data, err := os.ReadFile(filepath.Join(ref, LatestFile))
	if err != nil {
		return "", fmt.Errorf("run %s: not a run folder (no %s) nor a runs folder (no %s); run finrecon match first", ref, ManifestJSON, LatestFile)
	}
	return filepath.Join(ref, strings.TrimSpace(string(data))), nil
}

// WriteLatest records id as the latest run in the runs folder.
func WriteLatest(runsDir, id string) error {
	tmp := filepath.Join(runsDir, "."+LatestFile+".tmp")
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(runsDir, LatestFile))
}

// OldestByRecon returns, per reconciliation of the run in dir, the age in
// days of its oldest break (0 for a reconciliation without breaks is the
// caller's to add).
func OldestByRecon(ctx context.Context, db *sql.DB, dir string) (map[string]int64, error) {
	path := filepath.Join(dir, BreaksParquet)
	rows, err := db.QueryContext(ctx, "SELECT recon, max(age_days) FROM read_parquet("+duck.Quote(path)+") GROUP BY recon")
	if err != nil {
		return nil, fmt.Errorf("read breaks %s: %w", path, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var recon string
		var age int64
		if err := rows.Scan(&recon, &age); err != nil {
			return nil, fmt.Errorf("read breaks %s: %w", path, err)
		}
		out[recon] = age
	}
	return out, rows.Err()
}
