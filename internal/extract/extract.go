// Package extract reads every configured source into the canonical model and
// publishes a snapshot. Sources are files (CSV, JSONL, XLSX, Parquet) mapped
// by the config; each row is checked in DuckDB, set-based, and a row that
// fails is kept in the snapshot's rejects with file, line, column and reason
// while the rest goes on. Extract knows nothing of rules or matching.
package extract

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/snapshot"
	"github.com/finrecon/finrecon/internal/version"
)

// Options for one extraction.
type Options struct {
	Config *config.Config
	// OutDir is the snapshots folder; default the config's snapshots.
	OutDir string
	AsOf   string // YYYY-MM-DD, recorded in the manifest
	Duck   duck.Options
	Log    *slog.Logger
}

// Result is the published snapshot.
type Result struct {
	Dir      string
	Manifest *snapshot.Manifest
}

// source is one configured source during extraction.
type source struct {
	cfg     config.Source
	n       int
	rel     string // path shown in _origin and rejects, relative to the config
	st      *staged
	mapping *mapping
	table   string // DuckDB table of checked rows
}

// Run extracts every source of the config and publishes one snapshot.
func Run(ctx context.Context, opts Options) (*Result, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := opts.Config
	srcs, err := cfg.AllSources()
	if err != nil {
		return nil, fail.ConfigErr(err)
	}
	out := opts.OutDir
	if out == "" {
		out = cfg.Path(cfg.Snapshots)
	}
	if out == "" {
		return nil, fail.ConfigErr(fmt.Errorf("no snapshots folder: set snapshots: in %s or pass --out", cfg.File))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fail.SourceErr(fmt.Errorf("snapshots folder: %w", err))
	}
	staging, err := os.MkdirTemp(out, ".staging-")
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("snapshots folder: %w", err))
	}
	published := false
	defer func() {
		if !published {
			os.RemoveAll(staging) // a failed extraction never leaves a partial snapshot
		}
	}()

	db, err := duck.Open(ctx, opts.Duck)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := createSupportTables(ctx, db); err != nil {
		return nil, err
	}

	var sources []*source
	for i, sc := range srcs {
		s := &source{cfg: sc, n: i, rel: relPath(cfg.Dir, sc.File), table: fmt.Sprintf("checked_%d", i)}
		log.Info("extract source", "dataset", sc.Dataset().String(), "file", s.rel)
		if err := s.load(ctx, db); err != nil {
			return nil, err
		}
		sources = append(sources, s)
	}

	m := &snapshot.Manifest{SchemaVersion: model.SchemaVersion, ToolVersion: version.Version, AsOf: opts.AsOf}
	for _, group := range byDataset(sources) {
		ds, err := writeDataset(ctx, db, staging, group)
		if err != nil {
			return nil, err
		}
		m.Datasets = append(m.Datasets, *ds)
	}
	rejects, err := writeRejects(ctx, db, staging, sources)
	if err != nil {
		return nil, err
	}
	m.Rejects = *rejects
	dir, err := snapshot.Publish(staging, out, m)
	if err != nil {
		return nil, fail.SourceErr(err)
	}
	published = true
	return &Result{Dir: dir, Manifest: m}, nil
}

func createSupportTables(ctx context.Context, db *sql.DB) error {
	codes := model.Currencies()
	quoted := make([]string, len(codes))
	for i, c := range codes {
		quoted[i] = "(" + duck.Quote(c) + ")"
	}
	stmts := []string{
		"CREATE TABLE currencies AS SELECT * FROM (VALUES " + strings.Join(quoted, ", ") + ") AS t(code)",
		`CREATE TABLE rejects (dataset VARCHAR, file VARCHAR, line BIGINT, "column" VARCHAR, reason VARCHAR, record VARCHAR)`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("extract: %w", err)
		}
	}
	return nil
}

// load stages the source, checks every row in one statement, and records
// the rejects.
func (s *source) load(ctx context.Context, db *sql.DB) error {
	if _, err := os.Stat(s.cfg.File); err != nil {
		return fail.SourceErr(fmt.Errorf("source %s (%s): %w", s.rel, s.cfg.Dataset(), err))
	}
	st, err := stage(ctx, db, s.cfg, s.n)
	if err != nil {
		return err
	}
	s.st = st
	if s.mapping, err = buildMapping(s.cfg, st.headers); err != nil {
		return err
	}
	q := fmt.Sprintf("CREATE TABLE %s AS %s", s.table, s.mapping.checkedSQL(st, s.cfg))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fail.SourceErr(fmt.Errorf("source %s: %w", s.rel, err))
	}
	if st.after != nil {
		if err := st.after(ctx, db); err != nil {
			return fail.SourceErr(fmt.Errorf("source %s: %w", s.rel, err))
		}
	}
	return s.recordRejects(ctx, db)
}

func (s *source) recordRejects(ctx context.Context, db *sql.DB) error {
	ds := s.cfg.Dataset().String()
	q := fmt.Sprintf(`INSERT INTO rejects SELECT %s, %s, c._ord + g.c, struct_extract(c._err, 'column'), struct_extract(c._err, 'reason'), c._record
		FROM %s c ASOF JOIN %s g ON c._ord >= g.j0 WHERE c._err IS NOT NULL`,
		duck.Quote(ds), duck.Quote(s.rel), s.table, s.st.segTable)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("source %s: rejects: %w", s.rel, err)
	}
	for _, r := range s.st.rejects {
		if _, err := db.ExecContext(ctx, "INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?)",
			ds, s.rel, r.line, r.column, r.reason, r.record); err != nil {
			return fmt.Errorf("source %s: rejects: %w", s.rel, err)
		}
	}
	return nil
}

func byDataset(sources []*source) [][]*source {
	var groups [][]*source
	for _, s := range sources {
		if n := len(groups); n > 0 && groups[n-1][0].cfg.Dataset() == s.cfg.Dataset() {
			groups[n-1] = append(groups[n-1], s)
			continue
		}
		groups = append(groups, []*source{s})
	}
	return groups
}

// writeDataset writes the accepted rows of a dataset's sources as one
// Parquet file: canonical columns in model order, _origin, then extra
// columns sorted by name. Rows are ordered by source and line, a unique key,
// which keeps the file byte-identical from run to run.
func writeDataset(ctx context.Context, db *sql.DB, dir string, group []*source) (*snapshot.Dataset, error) {
	name := group[0].cfg.Dataset().String()
	extraSet := map[string]bool{}
	for _, s := range group {
		for _, e := range s.mapping.extras {
			extraSet[e.name] = true
		}
	}
	extras := make([]string, 0, len(extraSet))
	for e := range extraSet {
		extras = append(extras, e)
	}
	sort.Strings(extras)
	canon := group[0].mapping.table.ColumnNames()

	var selects []string
	for i, s := range group {
		have := map[string]bool{}
		for _, e := range s.mapping.extras {
			have[e.name] = true
		}
		cols := make([]string, 0, len(canon)+len(extras)+3)
		for _, c := range canon {
			cols = append(cols, "c."+duck.Ident(c))
		}
		cols = append(cols, fmt.Sprintf("%s || ':' || (c._ord + g.c) AS %s", duck.Quote(s.rel), model.Origin))
		for _, e := range extras {
			if have[e] {
				cols = append(cols, "c."+duck.Ident(e))
			} else {
				cols = append(cols, "NULL::VARCHAR AS "+duck.Ident(e))
			}
		}
		cols = append(cols, fmt.Sprintf("%d AS _src", i), "c._ord + g.c AS _line")
		selects = append(selects, fmt.Sprintf("SELECT %s FROM %s c ASOF JOIN %s g ON c._ord >= g.j0 WHERE c._err IS NULL",
			strings.Join(cols, ", "), s.table, s.st.segTable))
	}
	file := name + ".parquet"
	q := fmt.Sprintf("COPY (SELECT * EXCLUDE (_src, _line) FROM (%s) ORDER BY _src, _line) TO %s (FORMAT parquet, COMPRESSION zstd)",
		strings.Join(selects, " UNION ALL "), duck.Quote(filepath.Join(dir, file)))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("write %s: %w", file, err)
	}
	ds := &snapshot.Dataset{Name: name, File: snapshot.File{File: file}}
	for _, s := range group {
		src, err := s.counts(ctx, db)
		if err != nil {
			return nil, err
		}
		ds.Rows += src.Accepted
		ds.Sources = append(ds.Sources, *src)
	}
	return ds, nil
}

// counts returns the source's read, accepted and rejected rows; read is
// their sum by construction, counted from two independent places.
func (s *source) counts(ctx context.Context, db *sql.DB) (*snapshot.Source, error) {
	src := &snapshot.Source{Path: s.rel, Format: s.cfg.FormatOf(), SHA256: s.st.sha256}
	q := fmt.Sprintf("SELECT count(*) FILTER (WHERE _err IS NULL), count(*) FILTER (WHERE _err IS NOT NULL) FROM %s", s.table)
	var bad int64
	if err := db.QueryRowContext(ctx, q).Scan(&src.Accepted, &bad); err != nil {
		return nil, fmt.Errorf("count %s: %w", s.rel, err)
	}
	src.Rejected = bad + int64(len(s.st.rejects))
	src.Read = src.Accepted + src.Rejected
	return src, nil
}

func writeRejects(ctx context.Context, db *sql.DB, dir string, sources []*source) (*snapshot.File, error) {
	path := filepath.Join(dir, snapshot.RejectsFile)
	q := "COPY (SELECT * FROM rejects ORDER BY dataset, file, line) TO " + duck.Quote(path) + " (FORMAT parquet, COMPRESSION zstd)"
	if _, err := db.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("write rejects: %w", err)
	}
	f := &snapshot.File{File: snapshot.RejectsFile}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM rejects").Scan(&f.Rows); err != nil {
		return nil, fmt.Errorf("count rejects: %w", err)
	}
	return f, nil
}

// relPath shows a source path relative to the config's folder, with forward
// slashes, so that _origin is the same on every machine.
func relPath(base, path string) string {
	if rel, err := filepath.Rel(base, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(path)
}
