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
	"time"

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
	// lines is the DuckDB table that maps ordinals to lines, or "" when
	// one offset maps them all (see lineSQL).
	lines string
	// rows counts the checked table's rows, accepted those without a
	// problem.
	rows, accepted int64
	log            *slog.Logger
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

	done := stopwatch(log, "open duckdb")
	db, err := duck.Open(ctx, opts.Duck)
	done()
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := createSupportTables(ctx, db); err != nil {
		return nil, err
	}

	var sources []*source
	for i, sc := range srcs {
		s := &source{cfg: sc, n: i, rel: relPath(cfg.Dir, sc.File), table: fmt.Sprintf("checked_%d", i), log: log}
		log.Info("extract source", "dataset", sc.Dataset().String(), "file", s.rel)
		if err := s.load(ctx, db); err != nil {
			return nil, err
		}
		sources = append(sources, s)
	}

	m := &snapshot.Manifest{SchemaVersion: model.SchemaVersion, ToolVersion: version.Version, AsOf: opts.AsOf}
	for _, group := range byDataset(sources) {
		ds, err := writeDataset(ctx, db, log, staging, group)
		if err != nil {
			return nil, err
		}
		m.Datasets = append(m.Datasets, *ds)
	}
	rejects, err := writeRejects(ctx, db, staging)
	if err != nil {
		return nil, err
	}
	m.Rejects = *rejects
	done = stopwatch(log, "publish")
	dir, err := snapshot.Publish(staging, out, m)
	done()
	if err != nil {
		return nil, fail.SourceErr(err)
	}
	published = true
	return &Result{Dir: dir, Manifest: m}, nil
}

// currencyType is the ENUM of ISO 4217 codes that checks a currency: a cast
// to it is a hash lookup inside the row's expression. (An IN list or IN
// subquery would be planned as a join, and a join in the check query makes
// DuckDB insert rows out of file order; see staged.ord.)
const currencyType = "currency_code"

func createSupportTables(ctx context.Context, db *sql.DB) error {
	codes := model.Currencies()
	quoted := make([]string, len(codes))
	for i, c := range codes {
		quoted[i] = duck.Quote(c)
	}
	stmts := []string{
		"CREATE TYPE " + currencyType + " AS ENUM (" + strings.Join(quoted, ", ") + ")",
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
// the rejects. Each step logs its duration at debug level.
func (s *source) load(ctx context.Context, db *sql.DB) error {
	if _, err := os.Stat(s.cfg.File); err != nil {
		return fail.SourceErr(fmt.Errorf("source %s (%s): %w", s.rel, s.cfg.Dataset(), err))
	}
	steps := []struct {
		name string
		run  func(context.Context, *sql.DB) error
	}{
		{"stage", s.stage},
		{"check", s.check},
		{"reader rejects and line map", s.finish},
		{"record rejects", s.recordRejects},
	}
	for _, step := range steps {
		done := stopwatch(s.log, step.name, "source", s.rel)
		if err := step.run(ctx, db); err != nil {
			return err
		}
		done()
	}
	return nil
}

func (s *source) stage(ctx context.Context, db *sql.DB) error {
	st, err := stage(ctx, db, s.cfg, s.n)
	if err != nil {
		return err
	}
	s.st = st
	s.mapping, err = buildMapping(s.cfg, st.headers, st.trim)
	return err
}

// check creates the checked table: every row typed, with its first problem.
func (s *source) check(ctx context.Context, db *sql.DB) error {
	q := fmt.Sprintf("CREATE TABLE %s AS %s", s.table, s.mapping.checkedSQL(s.st, s.cfg))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fail.SourceErr(fmt.Errorf("source %s: %w", s.rel, err))
	}
	q = fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE _err IS NULL) FROM %s", s.table)
	if err := db.QueryRowContext(ctx, q).Scan(&s.rows, &s.accepted); err != nil {
		return fmt.Errorf("count %s: %w", s.rel, err)
	}
	return nil
}

// finish completes the staging once the checked table exists (CSV:
// reader rejects, hash, line map) and stores the line map.
func (s *source) finish(ctx context.Context, db *sql.DB) error {
	if s.st.finish != nil {
		if err := s.st.finish(ctx, db); err != nil {
			return fail.SourceErr(fmt.Errorf("source %s: %w", s.rel, err))
		}
	}
	return s.writeLines(ctx, db)
}

// bucketBits sets how many ordinals (2^bucketBits) share a key in the
// lines table, so that mapping an ordinal to its line is an equality join
// (hashed, parallel, no sort) plus a range test on a handful of rows.
const bucketBits = 10

// writeLines stores the source's ordinal -> line segments when there is
// more than one (quoted newlines, blank lines, rejected records), one row
// per segment and bucket it overlaps.
func (s *source) writeLines(ctx context.Context, db *sql.DB) error {
	segs := s.st.segs
	if len(segs) <= 1 {
		return nil
	}
	s.lines = fmt.Sprintf("lines_%d", s.n)
	var b strings.Builder
	for i, seg := range segs {
		j1 := s.rows
		if i+1 < len(segs) {
			j1 = segs[i+1].j0
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%d, %d, %d)", seg.j0, j1, seg.c)
	}
	q := fmt.Sprintf(`CREATE TABLE %s AS SELECT k.b, s.j0::BIGINT AS j0, s.j1::BIGINT AS j1, s.c::BIGINT AS c
		FROM (VALUES %s) s(j0, j1, c), range(s.j0 >> %d, ((s.j1 - 1) >> %[3]d) + 1) k(b)`, s.lines, b.String(), bucketBits)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("source %s: line map: %w", s.rel, err)
	}
	return nil
}

// lineSQL returns SQL for the line of the checked row aliased c, and the
// join clause it needs (empty when one offset maps every ordinal).
func (s *source) lineSQL() (line, join string) {
	ord := "c." + s.st.ord
	if s.lines == "" {
		return fmt.Sprintf("(%s + %d)", ord, s.st.segs[0].c), ""
	}
	return fmt.Sprintf("(%s + g.c)", ord),
		fmt.Sprintf(" JOIN %s g ON g.b = %s >> %d AND %s >= g.j0 AND %s < g.j1", s.lines, ord, bucketBits, ord, ord)
}

func (s *source) recordRejects(ctx context.Context, db *sql.DB) error {
	ds := s.cfg.Dataset().String()
	line, join := s.lineSQL()
	q := fmt.Sprintf(`INSERT INTO rejects SELECT %s, %s, %s, struct_extract(c._err, 'column'), struct_extract(c._err, 'reason'), c._record
		FROM %s c%s WHERE c._err IS NOT NULL`, duck.Quote(ds), duck.Quote(s.rel), line, s.table, join)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("source %s: rejects: %w", s.rel, err)
	}
	if err := insertRejects(ctx, db, ds, s.rel, s.st.rejects); err != nil {
		return fmt.Errorf("source %s: rejects: %w", s.rel, err)
	}
	return nil
}

// insertRejects adds structural rejects, many rows per statement. Values
// are bound, not spliced: a record may be anything, invalid UTF-8 included.
func insertRejects(ctx context.Context, db *sql.DB, ds, file string, rejects []reject) error {
	const perStatement = 500
	for len(rejects) > 0 {
		batch := rejects[:min(perStatement, len(rejects))]
		rejects = rejects[len(batch):]
		rows := make([]string, len(batch))
		args := make([]any, 0, 6*len(batch))
		for i, r := range batch {
			rows[i] = "(?, ?, ?, ?, ?, ?)"
			args = append(args, ds, file, r.line, r.column, r.reason, r.record)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO rejects VALUES "+strings.Join(rows, ", "), args...); err != nil {
			return err
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

// parquetOptions are the writer settings of every snapshot file. The
// string dictionary limit makes the writer give up early on columns whose
// values are all different (ids, _origin), where filling the default 1 MiB
// dictionary page first is wasted work; columns with up to a few thousand
// distinct values per row group (partners, accounts, currencies, statuses)
// still get a dictionary.
const parquetOptions = "FORMAT parquet, COMPRESSION zstd, STRING_DICTIONARY_PAGE_SIZE_LIMIT 65536"

// writeDataset writes the accepted rows of a dataset's sources as one
// Parquet file: canonical columns in model order, _origin, then extra
// columns sorted by name. Rows are ordered by source and line, a unique key:
// the sort is what keeps the file byte-identical from run to run and for
// any number of threads (without it, row group boundaries follow thread
// timing). The sort carries only what the sources hold: columns no source
// fills, and _origin, are added after it.
func writeDataset(ctx context.Context, db *sql.DB, log *slog.Logger, dir string, group []*source) (*snapshot.Dataset, error) {
	name := group[0].cfg.Dataset().String()
	file := name + ".parquet"
	defer stopwatch(log, "write dataset", "file", file)()
	sh := shapeOf(group)
	selects := make([]string, len(group))
	for i, s := range group {
		selects[i] = sh.sourceSelect(s, i)
	}
	order := "_line"
	if sh.multi {
		order = "_src, _line"
	}
	q := fmt.Sprintf("COPY (SELECT %s FROM (%s ORDER BY %s)) TO %s (%s)",
		strings.Join(sh.outputColumns(group), ", "), strings.Join(selects, " UNION ALL "), order,
		duck.Quote(filepath.Join(dir, file)), parquetOptions)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("write %s: %w", file, err)
	}
	ds := &snapshot.Dataset{Name: name, File: snapshot.File{File: file}}
	for _, s := range group {
		src := s.counts()
		ds.Rows += src.Accepted
		ds.Sources = append(ds.Sources, *src)
	}
	return ds, nil
}

// datasetShape is what a dataset's file holds beyond the model: which
// canonical columns some source fills, and the extra columns of all its
// sources.
type datasetShape struct {
	canon  []model.Column
	filled map[string]bool
	extras []string // sorted
	multi  bool     // more than one source
}

func shapeOf(group []*source) datasetShape {
	sh := datasetShape{canon: group[0].mapping.table.Columns, filled: map[string]bool{}, multi: len(group) > 1}
	extras := map[string]bool{}
	for _, s := range group {
		for _, c := range sh.canon {
			sh.filled[c.Name] = sh.filled[c.Name] || s.mapping.filled(c.Name)
		}
		for _, e := range s.mapping.extras {
			extras[e.name] = true
		}
	}
	for e := range extras {
		sh.extras = append(sh.extras, e)
	}
	sort.Strings(sh.extras)
	return sh
}

// sourceSelect returns the accepted rows of source i (of the dataset's
// sources) with the columns some source fills, the extras, and the sort key.
func (sh datasetShape) sourceSelect(s *source, i int) string {
	var cols []string
	for _, c := range sh.canon {
		switch {
		case !sh.filled[c.Name]:
		case s.mapping.filled(c.Name):
			cols = append(cols, "c."+duck.Ident(c.Name))
		default:
			cols = append(cols, fmt.Sprintf("NULL::%s AS %s", c.Kind.SQLType(), duck.Ident(c.Name)))
		}
	}
	have := map[string]bool{}
	for _, e := range s.mapping.extras {
		have[e.name] = true
	}
	for _, e := range sh.extras {
		if have[e] {
			cols = append(cols, "c."+duck.Ident(e))
		} else {
			cols = append(cols, "NULL::VARCHAR AS "+duck.Ident(e))
		}
	}
	if sh.multi {
		cols = append(cols, fmt.Sprintf("%d AS _src", i))
	}
	line, join := s.lineSQL()
	cols = append(cols, line+" AS _line")
	return fmt.Sprintf("SELECT %s FROM %s c%s WHERE c._err IS NULL", strings.Join(cols, ", "), s.table, join)
}

// outputColumns lists the file's columns, computed over the sorted rows.
func (sh datasetShape) outputColumns(group []*source) []string {
	var cols []string
	for _, c := range sh.canon {
		if sh.filled[c.Name] {
			cols = append(cols, duck.Ident(c.Name))
		} else {
			cols = append(cols, fmt.Sprintf("NULL::%s AS %s", c.Kind.SQLType(), duck.Ident(c.Name)))
		}
	}
	origin := duck.Quote(group[0].rel + ":")
	if sh.multi {
		whens := make([]string, len(group))
		for i, s := range group {
			whens[i] = fmt.Sprintf("WHEN %d THEN %s", i, duck.Quote(s.rel+":"))
		}
		origin = "CASE _src " + strings.Join(whens, " ") + " END"
	}
	cols = append(cols, fmt.Sprintf("%s || _line AS %s", origin, model.Origin))
	for _, e := range sh.extras {
		cols = append(cols, duck.Ident(e))
	}
	return cols
}

// counts returns the source's read, accepted and rejected rows; read is
// their sum by construction, counted from two independent places.
func (s *source) counts() *snapshot.Source {
	src := &snapshot.Source{Path: s.rel, Format: s.cfg.FormatOf(), SHA256: s.st.sha256, Accepted: s.accepted}
	src.Rejected = s.rows - s.accepted + int64(len(s.st.rejects))
	src.Read = src.Accepted + src.Rejected
	return src
}

func writeRejects(ctx context.Context, db *sql.DB, dir string) (*snapshot.File, error) {
	path := filepath.Join(dir, snapshot.RejectsFile)
	q := "COPY (SELECT * FROM rejects ORDER BY dataset, file, line) TO " + duck.Quote(path) + " (" + parquetOptions + ")"
	if _, err := db.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("write rejects: %w", err)
	}
	f := &snapshot.File{File: snapshot.RejectsFile}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM rejects").Scan(&f.Rows); err != nil {
		return nil, fmt.Errorf("count rejects: %w", err)
	}
	return f, nil
}

// stopwatch starts timing a step; calling the function it returns logs the
// step's duration at debug level (finrecon --log-level debug shows where an
// extraction spends its time).
func stopwatch(log *slog.Logger, step string, attrs ...any) func() {
	start := time.Now()
	return func() {
		log.Debug("extract timing", append([]any{"step", step, "took", time.Since(start).Round(time.Microsecond)}, attrs...)...)
	}
}

// relPath shows a source path relative to the config's folder, with forward
// slashes, so that _origin is the same on every machine.
func relPath(base, path string) string {
	if rel, err := filepath.Rel(base, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(path)
}
