package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/finrecon/finrecon/internal/bench"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/synth"
)

// Sample is one measured child process.
type Sample struct {
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"`        // user + system
	MaxRSS int64         `json:"max_rss_bytes"` // the child's peak resident set
	// Load1 is the one-minute load average when the child started: the
	// machine is shared, and a busy one slows everything down.
	Load1 float64 `json:"load1"`
	// Error says why the run failed; empty when it succeeded.
	Error string `json:"error,omitempty"`
}

// measure runs a command to completion and measures it. Exit codes in ok
// count as success (finrecon exits 1 when it finds failing breaks). Its
// output goes to logFile.
func measure(ctx context.Context, logFile string, ok []int, name string, args ...string) (Sample, error) {
	var s Sample
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		return s, err
	}
	log, err := os.Create(logFile)
	if err != nil {
		return s, err
	}
	defer log.Close()
	fmt.Fprintf(log, "$ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	s.Load1 = load1()
	start := time.Now()
	err = cmd.Run()
	s.Wall = time.Since(start)
	if cmd.ProcessState == nil {
		return s, fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	if ru, isRusage := cmd.ProcessState.SysUsage().(*syscall.Rusage); isRusage {
		s.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		s.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	code := cmd.ProcessState.ExitCode()
	for _, c := range ok {
		if code == c {
			return s, nil
		}
	}
	return s, fmt.Errorf("%s %s: exit code %d: %s (log: %s)", filepath.Base(name), strings.Join(args, " "), code, lastError(logFile), logFile)
}

// lastError is the line of a child's log that says why it failed: the
// last one that starts with the program's name, else the last line.
func lastError(logFile string) string {
	data, err := os.ReadFile(logFile)
	if err != nil {
		return "no log"
	}
	var last, named string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		last = line
		if strings.HasPrefix(line, "finrecon: ") || strings.HasPrefix(line, "finrecon-bench: ") {
			named = line
		}
	}
	if named != "" {
		return named
	}
	return last
}

// load1 is the one-minute load average, or -1.
func load1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, err := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	if err != nil {
		return -1
	}
	return f
}

// duckFlags are the DuckDB knobs a child takes, as finrecon's.
func duckFlags(fs *flag.FlagSet) *duck.Options {
	o := &duck.Options{}
	fs.IntVar(&o.Threads, "threads", 0, "DuckDB threads (default: all cores)")
	fs.StringVar(&o.MemoryLimit, "memory-limit", "", "DuckDB memory limit")
	fs.StringVar(&o.TempDir, "temp-dir", "", "DuckDB spill folder")
	return o
}

// baselineChild runs the hand-written invoices recon and prints its result
// as JSON on stdout.
func baselineChild(args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	snap := fs.String("snapshot", "", "snapshot folder")
	out := fs.String("out", "", "output folder")
	asOf := fs.String("as-of", "2026-11-30", "as-of date")
	jsonOut := fs.String("json", "", "write the result here as JSON")
	d := duckFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	res, err := bench.Baseline(context.Background(), bench.BaselineOptions{SnapshotDir: *snap, OutDir: *out, Duck: *d, AsOf: *asOf})
	if err != nil {
		return err
	}
	for _, s := range res.Steps {
		fmt.Printf("%9.3fs wall %9.3fs cpu  %s\n", s.D.Seconds(), s.CPU.Seconds(), s.Name)
	}
	fmt.Printf("%9.3fs wall %9.3fs cpu  total\n", res.Elapsed.Seconds(), res.CPU.Seconds())
	return writeJSON(*jsonOut, res)
}

// csvCopyChild runs the bare DuckDB copy of a data set's CSV files.
func csvCopyChild(args []string) error {
	fs := flag.NewFlagSet("csvcopy", flag.ContinueOnError)
	data := fs.String("data", "", "data set folder (<system>/<table>.csv)")
	out := fs.String("out", "", "output folder")
	jsonOut := fs.String("json", "", "write the result here as JSON")
	d := duckFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	files, err := bench.CSVFiles(*data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	res, err := bench.CopyCSV(context.Background(), files, *out, *d)
	if err != nil {
		return err
	}
	for _, f := range res.Files {
		fmt.Printf("%9.3fs  %10d rows  %d rejected  %s\n", f.D.Seconds(), f.Rows, f.Rejected, f.File)
	}
	return writeJSON(*jsonOut, res)
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// generateChild writes a data set with internal/synth and its statistics
// as JSON.
func generateChild(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	out := fs.String("out", "", "folder to write")
	n := fs.Int("invoices", 0, "billing invoices")
	seed := fs.Uint64("seed", 1, "seed")
	asOf := fs.String("as-of", "", "as-of date")
	rules := fs.String("rules", "", "rules folder named in finrecon.yaml")
	jsonOut := fs.String("json", "", "write the statistics here as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	day, err := time.Parse(time.DateOnly, *asOf)
	if err != nil {
		return fmt.Errorf("-as-of: %w", err)
	}
	st, err := synth.Generate(*out, synth.Options{Invoices: *n, Seed: *seed, AsOf: day, RulesDir: *rules})
	if err != nil {
		return err
	}
	return writeJSON(*jsonOut, st)
}

// compareChild compares the engine's and the baseline's outputs and
// writes the agreement as JSON.
func compareChild(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	engine := fs.String("engine", "", "engine run folder")
	baseline := fs.String("baseline", "", "baseline output folder")
	recon := fs.String("recon", "invoices", "recon")
	jsonOut := fs.String("json", "", "write the agreement here as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := bench.Compare(context.Background(), *engine, *baseline, *recon)
	if err != nil {
		return err
	}
	fmt.Println(a)
	return writeJSON(*jsonOut, a)
}

// duckdbVersionChild prints the version of the DuckDB library linked in.
func duckdbVersionChild() error {
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return err
	}
	fmt.Println(v)
	return nil
}

// selfMaxRSS is this process's own peak RSS: the floor under every
// child's figure.
func selfMaxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
