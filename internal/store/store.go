// Package store keeps the state of breaks across runs in an embedded DuckDB
// file: when each break was first and last seen, when it was resolved (the
// first run of its reconciliation that no longer reported it), how often it
// came back, and the accountants' review notes.
//
// The store is an event log, not a set of counters: it records which breaks
// each run saw (sightings) and which reconciliations each run covered. The
// state a run starts from is derived from the events dated before its
// as-of, so runs may be recorded in any order, a re-run of a day replaces
// that day's events, and the same inputs always give the same history.
//
// Match never reads the store. The CLI exports the history a run starts
// from (History) into the run folder, where it is an input like the
// snapshot: replay reads it from there, and run.json hashes it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// schemaVersion is bumped when the tables change incompatibly.
const schemaVersion = "1"

// HistoryColumns is the column list of a history file, in order.
const HistoryColumns = "break_id, first_seen, last_seen, occurrences, resolved_on, reopened, review_status, review_owner, review_comment"

// Store is an open break store.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens the store at path, creating it (and its folder) when missing.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("break store %s: %w", path, err)
	}
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("break store %s: %w", path, err)
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Path is the store's file.
func (s *Store) Path() string { return s.path }

func (s *Store) init(ctx context.Context) error {
	stmts := []string{
		"ATTACH " + duck.Quote(s.path) + " AS store",
		"USE store",
		`CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
		// One row per run recorded and reconciliation it covered: a break
		// of that recon missing from a later run is resolved.
		`CREATE TABLE IF NOT EXISTS coverage (run_id VARCHAR, as_of DATE, recon VARCHAR)`,
		`CREATE TABLE IF NOT EXISTS sightings (break_id VARCHAR, recon VARCHAR, as_of DATE, run_id VARCHAR)`,
		// Review edits in the order they were imported; the latest wins.
		`CREATE TABLE IF NOT EXISTS reviews (seq BIGINT, break_id VARCHAR, status VARCHAR, owner VARCHAR,
			comment VARCHAR, run_id VARCHAR, source VARCHAR)`,
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = s.db.ExecContext(ctx, "INSERT INTO meta VALUES ('schema_version', ?)", schemaVersion)
		return err
	case err != nil:
		return err
	case v != schemaVersion:
		return fmt.Errorf("schema version %s, this finrecon reads %s: use the finrecon that wrote it, or start a new store", v, schemaVersion)
	}
	return nil
}

// historySQL derives, for every break seen before the as-of ($1), the state
// a run on that day starts from.
const historySQL = `
WITH prior AS (
	SELECT break_id, any_value(recon) AS recon, min(as_of) AS first_seen, max(as_of) AS last_seen,
		count(DISTINCT as_of) AS occurrences
	FROM sightings WHERE as_of < $1 GROUP BY break_id
),
days AS (SELECT DISTINCT recon, as_of FROM coverage WHERE as_of < $1),
state AS (
	SELECT p.*,
		-- resolved: a later run of the recon no longer reported it
		(SELECT min(d.as_of) FROM days d WHERE d.recon = p.recon AND d.as_of > p.last_seen) AS resolved_on,
		-- reopened: some run of the recon between its first and last
		-- sighting did not report it, so it was resolved and came back
		(SELECT count(*) FROM days d WHERE d.recon = p.recon AND d.as_of BETWEEN p.first_seen AND p.last_seen) > p.occurrences AS reopened
	FROM prior p
),
review AS (
	SELECT break_id, arg_max(status, seq) AS status, arg_max(owner, seq) AS owner, arg_max(comment, seq) AS comment
	FROM reviews GROUP BY break_id
)
SELECT s.break_id, s.first_seen, s.last_seen, s.occurrences, s.resolved_on, s.reopened,
	r.status AS review_status, r.owner AS review_owner, r.comment AS review_comment
FROM state s LEFT JOIN review r USING (break_id)
ORDER BY s.break_id`

// ExportHistory writes the history a run as of asOf starts from to dst, a
// Parquet file of HistoryColumns ordered by break_id, and returns its rows.
func (s *Store) ExportHistory(ctx context.Context, asOf time.Time, dst string) (int64, error) {
	day := asOf.Format(time.DateOnly)
	q := "COPY (" + inline(historySQL, day) + ") TO " + duck.Quote(dst) + " (FORMAT parquet, COMPRESSION zstd)"
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		return 0, fmt.Errorf("break store %s: export history as of %s: %w", s.path, day, err)
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+duck.Quote(dst)+")").Scan(&n); err != nil {
		return 0, fmt.Errorf("break store %s: %w", s.path, err)
	}
	return n, nil
}

// inline puts the as-of date into q: COPY takes no parameters.
func inline(q, day string) string {
	out := []byte{}
	for i := 0; i < len(q); i++ {
		if q[i] == '$' && i+1 < len(q) && q[i+1] == '1' {
			out = append(out, "DATE "+duck.Quote(day)...)
			i++
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// Changes says how a recorded run moved the break list.
type Changes struct {
	New      int64 // first seen in this run
	Open     int64 // seen before and still there
	Reopened int64 // resolved before, back in this run
	Resolved int64 // reported by the previous run of their recon, gone from this one
}

// Record adds a finished run's breaks to the store. A run of a day already
// recorded replaces that day's events for the run's reconciliations.
func (s *Store) Record(ctx context.Context, runDir string, sum *run.Summary) (*Changes, error) {
	breaks := duck.Quote(filepath.Join(runDir, run.BreaksParquet))
	quoted := make([]string, len(sum.Recons))
	for i, r := range sum.Recons {
		quoted[i] = duck.Quote(r.Recon)
	}
	recons := "(" + strings.Join(quoted, ", ") + ")"
	if len(quoted) == 0 {
		recons = "(NULL)"
	}
	day := "DATE " + duck.Quote(sum.AsOf)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("break store %s: %w", s.path, err)
	}
	defer tx.Rollback()
	ch := &Changes{}
	// Counted before the day's events change: what the run found against
	// what the store knew before its as-of.
	count := `WITH h AS (` + inline(historySQL, sum.AsOf) + `),
		b AS (SELECT break_id, recon FROM read_parquet(` + breaks + `)),
		prev AS (SELECT recon, max(as_of) AS as_of FROM coverage WHERE as_of < ` + day + ` GROUP BY recon)
		SELECT
			(SELECT count(*) FROM b ANTI JOIN h USING (break_id)),
			(SELECT count(*) FROM b JOIN h USING (break_id) WHERE h.resolved_on IS NULL),
			(SELECT count(*) FROM b JOIN h USING (break_id) WHERE h.resolved_on IS NOT NULL),
			(SELECT count(*) FROM sightings x JOIN prev p ON p.recon = x.recon AND p.as_of = x.as_of
				WHERE x.recon IN ` + recons + ` AND x.break_id NOT IN (SELECT break_id FROM b))`
	if err := tx.QueryRowContext(ctx, count).Scan(&ch.New, &ch.Open, &ch.Reopened, &ch.Resolved); err != nil {
		return nil, fmt.Errorf("break store %s: compare run %s: %w", s.path, sum.RunID, err)
	}
	runID := duck.Quote(sum.RunID)
	stmts := []string{
		"DELETE FROM sightings WHERE as_of = " + day + " AND recon IN " + recons,
		"DELETE FROM coverage WHERE as_of = " + day + " AND recon IN " + recons,
		"INSERT INTO coverage SELECT " + runID + ", " + day + ", recon FROM (VALUES " + values(quoted) + ") t(recon)",
		"INSERT INTO sightings SELECT break_id, recon, " + day + ", " + runID + " FROM read_parquet(" + breaks + ")",
	}
	for _, q := range stmts {
		if len(quoted) == 0 && strings.HasPrefix(q, "INSERT INTO coverage") {
			continue
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("break store %s: record run %s: %w", s.path, sum.RunID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("break store %s: record run %s: %w", s.path, sum.RunID, err)
	}
	return ch, nil
}

// values is a VALUES list of one-column rows.
func values(quoted []string) string {
	rows := make([]string, len(quoted))
	for i, q := range quoted {
		rows[i] = "(" + q + ")"
	}
	return strings.Join(rows, ", ")
}

// Edit is one break's review columns as an accountant left them.
type Edit struct {
	BreakID string
	Status  string
	Owner   string
	Comment string
}

// Review is a break's latest review.
type Review struct {
	Status, Owner, Comment string
}

// Reviews returns the latest review of each break that has one.
func (s *Store) Reviews(ctx context.Context) (map[string]Review, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT break_id, arg_max(status, seq), arg_max(owner, seq), arg_max(comment, seq)
		FROM reviews GROUP BY break_id`)
	if err != nil {
		return nil, fmt.Errorf("break store %s: %w", s.path, err)
	}
	defer rows.Close()
	out := map[string]Review{}
	for rows.Next() {
		var id string
		var r Review
		if err := rows.Scan(&id, &r.Status, &r.Owner, &r.Comment); err != nil {
			return nil, fmt.Errorf("break store %s: %w", s.path, err)
		}
		out[id] = r
	}
	return out, rows.Err()
}

// SaveReviews appends the edits that change a break's latest review and
// returns how many did; an edit equal to what the store holds is not
// repeated. runID and source say where the edits came from.
func (s *Store) SaveReviews(ctx context.Context, edits []Edit, runID, source string) (int, error) {
	current, err := s.Reviews(ctx)
	if err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("break store %s: %w", s.path, err)
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM reviews").Scan(&seq); err != nil {
		return 0, fmt.Errorf("break store %s: %w", s.path, err)
	}
	changed := 0
	for _, e := range edits {
		was, ok := current[e.BreakID]
		if !ok {
			was = Review{Status: DefaultStatus}
		}
		if was == (Review{Status: e.Status, Owner: e.Owner, Comment: e.Comment}) {
			continue
		}
		seq++
		if _, err := tx.ExecContext(ctx, "INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?)",
			seq, e.BreakID, e.Status, e.Owner, e.Comment, runID, source); err != nil {
			return 0, fmt.Errorf("break store %s: save review of %s: %w", s.path, e.BreakID, err)
		}
		changed++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("break store %s: %w", s.path, err)
	}
	return changed, nil
}

// Review statuses an accountant may set.
const DefaultStatus = "open"

// Statuses lists the review statuses, in the order a break moves through them.
var Statuses = []string{"open", "investigating", "accepted", "fixed-in-source"}
