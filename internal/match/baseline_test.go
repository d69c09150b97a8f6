package match

// Profiling the engine at scale. Run by `make profile` against the snapshot
// `make bench` caches; skipped (and free) in `make test`:
//
//	FINRECON_BENCH_SNAPSHOT=out/bench/1000000/snapshots \
//	  go test ./internal/match -run TestStatementTimes -bench BenchmarkMatch1M -benchtime 1x -cpuprofile out/bench/cpu.pprof -v
//
// TestStatementTimes times every SQL statement the engine sends to DuckDB
// (through a driver wrapper; the engine itself is unchanged) and prints
// them grouped by what they do, slowest first. A Go CPU profile shows
// little of this: DuckDB's work runs in C++ threads the Go profiler does
// not sample, and the calling goroutine's share shows as runtime.cgocall.

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/evidence"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
	"github.com/finrecon/finrecon/internal/sqlexpr"
)

// benchInputs returns the snapshot and rules the scale benchmarks use, or
// skips when FINRECON_BENCH_SNAPSHOT is not set.
func benchInputs(tb testing.TB) (string, *rules.Set) {
	tb.Helper()
	ref := os.Getenv("FINRECON_BENCH_SNAPSHOT")
	if ref == "" {
		tb.Skip("FINRECON_BENCH_SNAPSHOT not set (make profile sets it to a make bench snapshot)")
	}
	dir, err := snapshot.Resolve(ref)
	if err != nil {
		tb.Fatal(err)
	}
	rulesPath := cmp.Or(os.Getenv("FINRECON_BENCH_RULES"), "../../rules/invoices.yaml")
	set, err := rules.Load(rulesPath)
	if err != nil {
		tb.Fatal(err)
	}
	return dir, set
}

// BenchmarkMatch1M is a whole match.Run of the invoices recon on a
// generated snapshot (1M invoices with make profile): the target of
// -cpuprofile.
func BenchmarkMatch1M(b *testing.B) {
	dir, set := benchInputs(b)
	runs := b.TempDir()
	for i := 0; b.Loop(); i++ {
		_, err := Run(context.Background(), Options{SnapshotDir: dir, Rules: set, RunsDir: filepath.Join(runs, fmt.Sprint(i)),
			AsOf: "2026-11-30", FailOn: model.High})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// timing is one statement's duration.
type timing struct {
	phase, stmt string
	d, cpu      time.Duration
	rows        int64
}

// timedConn forwards to DuckDB's connection and records how long each
// statement took.
type timedConn struct {
	*duckdb.Conn
	record recorder
}

// recorder takes a statement, its wall and CPU time and the rows it
// changed (-1 for a query).
type recorder func(q string, d, cpu time.Duration, rows int64)

func (c *timedConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	start, cpu := time.Now(), cpuTime()
	res, err := c.Conn.ExecContext(ctx, q, args)
	var n int64
	if err == nil {
		n, _ = res.RowsAffected()
	}
	c.record(q, time.Since(start), cpuTime()-cpu, n)
	return res, err
}

func (c *timedConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	start, cpu := time.Now(), cpuTime()
	rows, err := c.Conn.QueryContext(ctx, q, args)
	c.record(q, time.Since(start), cpuTime()-cpu, -1)
	return rows, err
}

// cpuTime is the CPU time (user and system, all threads) the process has
// used: a busy machine disturbs it less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type timedConnector struct {
	*duckdb.Connector
	record recorder
}

func (c *timedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &timedConn{Conn: conn.(*duckdb.Conn), record: c.record}, nil
}

// openTimed is duck.Open with every statement recorded.
func openTimed(ctx context.Context, opts duck.Options, record recorder) (*sql.DB, error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(&timedConnector{Connector: connector, record: record})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	settings := []string{"SET preserve_insertion_order = true", "SET TimeZone = 'UTC'"}
	if opts.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", opts.Threads))
	}
	if opts.MemoryLimit != "" {
		settings = append(settings, "SET memory_limit = "+duck.Quote(opts.MemoryLimit))
	}
	if opts.TempDir != "" {
		settings = append(settings, "SET temp_directory = "+duck.Quote(opts.TempDir))
	}
	for _, s := range settings {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

var (
	spaces   = regexp.MustCompile(`\s+`)
	literals = regexp.MustCompile(`'[^']*'`)
	breakOf  = regexp.MustCompile(`^INSERT INTO breaks \([^)]*\) SELECT '[^']*', [^,]*, '([a-z_]+)'`)
)

// statementKind shortens a statement to what identifies it: its first
// words, with string literals elided, and for a break insert its type.
func statementKind(q string) string {
	q = strings.TrimSpace(spaces.ReplaceAllString(q, " "))
	if m := breakOf.FindStringSubmatch(q); m != nil {
		tail := q[strings.Index(q, "FROM "):]
		return "INSERT INTO breaks " + m[1] + " … " + short(literals.ReplaceAllString(tail, "'…'"), 90)
	}
	return short(literals.ReplaceAllString(q, "'…'"), 150)
}

func short(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// TestStatementTimes runs match.Run's steps with every statement timed and
// prints where the time goes: per phase (load, each check, each pass, the
// reports on pairs, output) and the slowest statements.
func TestStatementTimes(t *testing.T) {
	dir, set := benchInputs(t)
	ctx := context.Background()
	var phase string
	var times []timing
	record := func(q string, d, cpu time.Duration, rows int64) {
		times = append(times, timing{phase: phase, stmt: statementKind(q), d: d, cpu: cpu, rows: rows})
	}
	threads := 0
	if s := os.Getenv("FINRECON_BENCH_THREADS"); s != "" {
		fmt.Sscan(s, &threads)
	}
	start, startCPU := time.Now(), cpuTime()
	goSide := func(name string, f func() error) {
		t.Helper()
		s, c := time.Now(), cpuTime()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		times = append(times, timing{phase: name, stmt: "(Go) " + name, d: time.Since(s), cpu: cpuTime() - c, rows: -1})
	}
	phase = "open"
	db, err := openTimed(ctx, duck.Options{Threads: threads}, func(q string, d, cpu time.Duration, rows int64) { record(q, d, cpu, rows) })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap, err := snapshot.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	phase = "check rule expressions"
	if err := set.CheckExprs(func(expr string, cols []string) error { return sqlexpr.Check(ctx, db, expr, cols) }); err != nil {
		t.Fatal(err)
	}
	phase = "load snapshot"
	tables, err := load(ctx, db, dir, snap, set)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := duck.LockDown(ctx, db, dir, out); err != nil {
		t.Fatal(err)
	}
	sum := &run.Summary{RunID: "r-20261130-000000000000", SnapshotID: snap.ID, AsOf: "2026-11-30", RulesHash: set.Hash(), FailOn: "high"}
	var matched []*recon
	for _, r := range set.Rules {
		// The phase follows the statements: a pass starts with its left
		// units, the reports on pairs with the match records.
		passIdx, grouped := -1, false
		record = func(q string, d, cpu time.Duration, rows int64) {
			head := strings.TrimSpace(spaces.ReplaceAllString(q, " "))
			switch {
			case strings.HasPrefix(head, "CREATE OR REPLACE TEMP TABLE l AS"), strings.HasPrefix(head, "CREATE OR REPLACE TEMP VIEW l AS"):
				phase = r.Recon + " load sides"
			case strings.HasPrefix(head, "CREATE OR REPLACE TEMP TABLE dup AS"):
				phase = r.Recon + " duplicates"
			case strings.HasPrefix(head, "CREATE OR REPLACE TEMP TABLE lm AS SELECT dense_rank"):
				// A grouped left side: its members come before its units.
				passIdx++
				grouped = true
				phase = r.Recon + " pass " + r.Passes[passIdx].Name
			case strings.HasPrefix(head, "CREATE OR REPLACE TEMP TABLE lu AS"):
				if !grouped {
					passIdx++
				}
				grouped = false
				phase = r.Recon + " pass " + r.Passes[passIdx].Name
			case strings.HasPrefix(head, "CREATE OR REPLACE TEMP TABLE pj AS"), strings.HasPrefix(head, "CREATE OR REPLACE TEMP TABLE pm AS"):
				if !strings.HasSuffix(phase, "pairs: matches, compare, unmatched") {
					phase = r.Recon + " pairs: matches, compare, unmatched"
				}
			}
			times = append(times, timing{phase: phase, stmt: statementKind(q), d: d, cpu: cpu, rows: rows})
		}
		rc := &recon{db: db, rule: r, tables: tables, asOf: "2026-11-30", matchTable: fmt.Sprintf("pm_%d", len(sum.Recons))}
		if err := rc.run(ctx); err != nil {
			t.Fatal(err)
		}
		sum.Recons = append(sum.Recons, rc.sum)
		if rc.matched {
			matched = append(matched, rc)
		}
	}
	record = func(q string, d, cpu time.Duration, rows int64) {
		times = append(times, timing{phase: phase, stmt: statementKind(q), d: d, cpu: cpu, rows: rows})
	}
	phase = "finish breaks"
	if err := finishBreaks(ctx, db, "2026-11-30", ""); err != nil {
		t.Fatal(err)
	}
	if err := breakCounts(ctx, db, sum, model.High); err != nil {
		t.Fatal(err)
	}
	phase = "write outputs"
	if err := writeOutputs(ctx, db, out, matched); err != nil {
		t.Fatal(err)
	}
	goSide("write run files (hashes)", func() error {
		return writeRunFiles(out, sum, snap, "", evidence.Link{}, Options{AsOf: "2026-11-30", FailOn: model.High, Rules: set})
	})
	total, totalCPU := time.Since(start), cpuTime()-startCPU

	var byPhase []timing
	for _, x := range times {
		i := slices.IndexFunc(byPhase, func(p timing) bool { return p.phase == x.phase })
		if i < 0 {
			byPhase = append(byPhase, timing{phase: x.phase})
			i = len(byPhase) - 1
		}
		byPhase[i].d += x.d
		byPhase[i].cpu += x.cpu
		byPhase[i].rows++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "snapshot %s, rules %s: %d statements, %s wall, %s cpu in all (load average now %s)\n\nby phase (in run order):\n      wall  share       cpu\n",
		dir, ruleNames(set), len(times), total.Round(time.Millisecond), totalCPU.Round(time.Millisecond), loadavg())
	for _, p := range byPhase {
		fmt.Fprintf(&b, "  %8.3fs %5.1f%% %8.3fs  %4d stmts  %s\n", p.d.Seconds(), 100*p.d.Seconds()/total.Seconds(), p.cpu.Seconds(), p.rows, p.phase)
	}
	// The same statement text (an iteration of a pass's loop) adds up.
	type agg struct {
		timing
		n int
	}
	var stmts []agg
	for _, x := range times {
		i := slices.IndexFunc(stmts, func(s agg) bool { return s.phase == x.phase && s.stmt == x.stmt })
		if i < 0 {
			stmts = append(stmts, agg{timing: timing{phase: x.phase, stmt: x.stmt}})
			i = len(stmts) - 1
		}
		stmts[i].d += x.d
		stmts[i].cpu += x.cpu
		stmts[i].n++
		if x.rows > stmts[i].rows {
			stmts[i].rows = x.rows
		}
	}
	slices.SortStableFunc(stmts, func(a, b agg) int { return cmp.Compare(b.d, a.d) })
	fmt.Fprintf(&b, "\nslowest statements (same text summed; runs = executions, rows = most rows affected by one):\n      wall  share       cpu\n")
	for i, s := range stmts {
		if i == 25 {
			break
		}
		fmt.Fprintf(&b, "  %8.3fs %5.1f%% %8.3fs  runs %-3d rows %-9d [%s] %s\n", s.d.Seconds(), 100*s.d.Seconds()/total.Seconds(), s.cpu.Seconds(), s.n, s.rows, s.phase, s.stmt)
	}
	t.Log("\n" + b.String())
	if path := os.Getenv("FINRECON_BENCH_PROFILE_OUT"); path != "" {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func ruleNames(set *rules.Set) string {
	var names []string
	for _, r := range set.Rules {
		names = append(names, r.Recon)
	}
	return strings.Join(names, ", ")
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}
