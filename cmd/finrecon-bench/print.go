package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the numbers were taken.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemTotal  int64  `json:"mem_total_bytes"`
	Go        string `json:"go"`
	DuckDB    string `json:"duckdb"`
	DuckDBGo  string `json:"duckdb_go"`
	Kernel    string `json:"kernel"`
	LoadStart string `json:"loadavg_start"`
}

func (m Machine) String() string {
	return fmt.Sprintf("machine: %d CPUs (%s), %s RAM, %s, DuckDB %s (duckdb-go %s), kernel %s, loadavg %s\n",
		m.CPUs, m.CPUModel, gib(m.MemTotal), m.Go, m.DuckDB, m.DuckDBGo, m.Kernel, m.LoadStart)
}

// Build identifies the finrecon that was measured: the working tree it was
// built from and the binary's digest.
type Build struct {
	Commit string    `json:"commit"`
	Dirty  []string  `json:"dirty,omitempty"` // uncommitted Go files and rules at the time of the run
	SHA256 string    `json:"binary_sha256"`
	Built  time.Time `json:"binary_mtime"`
}

func (b Build) String() string {
	dirty := ""
	if len(b.Dirty) > 0 {
		dirty = fmt.Sprintf(" + %d uncommitted files", len(b.Dirty))
	}
	return fmt.Sprintf("finrecon: commit %s%s, binary %s built %s\n", b.Commit, dirty, b.SHA256, b.Built.UTC().Format(time.DateTime))
}

func describeBuild(finrecon string) Build {
	var b Build
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		b.Commit = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "status", "--porcelain", "--", "cmd", "internal", "rules").Output(); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" {
				b.Dirty = append(b.Dirty, strings.TrimSpace(line))
			}
		}
	}
	if f, err := os.Open(finrecon); err == nil {
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		b.SHA256 = hex.EncodeToString(h.Sum(nil))[:12]
	}
	if fi, err := os.Stat(finrecon); err == nil {
		b.Built = fi.ModTime()
	}
	return b
}

func describeMachine(ctx context.Context, self string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				m.MemTotal = kb * 1024
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadStart = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	// Asked of a child: DuckDB in this process would raise the RSS floor
	// of every child measured after it.
	if out, err := exec.CommandContext(ctx, self, "duckdb-version").Output(); err == nil {
		m.DuckDB = strings.TrimSpace(string(out))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/duckdb/duckdb-go/v2" {
				m.DuckDBGo = d.Version
			}
		}
	}
	return m
}

func mib(b int64) string { return fmt.Sprintf("%.0fM", float64(b)/(1<<20)) }

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

func rate(rows int64, d time.Duration) string {
	if rows == 0 || d == 0 {
		return "-"
	}
	r := float64(rows) / d.Seconds()
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM/s", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.0fk/s", r/1e3)
	}
	return fmt.Sprintf("%.0f/s", r)
}

// print writes the size's table: per stage the median wall and CPU time,
// rows per second, peak RSS; then the ratios the issue sets targets on,
// and the engine's and the baseline's findings side by side.
func (r *SizeResult) print(w io.Writer) {
	fmt.Fprintf(w, "== results: %d invoices, %d CSV rows (%s), %d snapshot rows; median of %d run(s)\n",
		r.Invoices, r.CSVRows, gib(r.CSVBytes), r.SnapRows, r.Runs)
	fmt.Fprintf(w, "%-38s %4s %10s %10s %12s %11s %9s %6s\n", "stage", "runs", "wall", "cpu", "rows", "rows/s", "peak RSS", "load")
	for _, s := range r.Stages {
		m := s.Median()
		fmt.Fprintf(w, "%-38s %4d %9.2fs %9.2fs %12d %11s %9s %6.1f\n", s.Name, len(s.Samples), m.Wall.Seconds(), m.CPU.Seconds(), s.Rows, rate(s.Rows, m.Wall), mib(m.MaxRSS), m.Load1)
		if e := s.Failed(); e != "" {
			fmt.Fprintf(w, "    FAILED: %s\n", firstLine(e))
		}
	}
	if r.ParentMaxRSS > 0 {
		fmt.Fprintf(w, "(peak RSS is each child's; the bench process itself peaked at %s, a floor under every child's figure)\n", mib(r.ParentMaxRSS))
	}
	ex, cp, ma := r.stage(stExtract), r.stage(stCopy), r.stage(stMatch)
	fmt.Fprintln(w)
	if ex != nil && cp != nil {
		fmt.Fprintf(w, "extraction / bare DuckDB copy:        %.2fx wall, %.2fx cpu   (target 1.5x)\n",
			ratio(ex.Median().Wall, cp.Median().Wall), ratio(ex.Median().CPU, cp.Median().CPU))
	}
	if ex != nil && ma != nil {
		csv := ex.Median().Wall + ma.Median().Wall
		fmt.Fprintf(w, "CSV path (extract + match):           %.2fs; from the snapshot (match only) %.2fs: %.1fx faster\n",
			csv.Seconds(), ma.Median().Wall.Seconds(), ratio(csv, ma.Median().Wall))
	}
	eng, base := r.stage(stInvoices), r.stage(stBaseline)
	if eng != nil && base != nil {
		fmt.Fprintf(w, "invoices recon, engine / SQL baseline: %.2fx wall (process), %.2fx in-process (match.Run %.2fs vs load → write %.2fs), %.2fx cpu   (target 1.3x)\n",
			ratio(eng.Median().Wall, base.Median().Wall), ratio(eng.InnerMedian(), base.InnerMedian()),
			eng.InnerMedian().Seconds(), base.InnerMedian().Seconds(), ratio(eng.Median().CPU, base.Median().CPU))
		r.printAgreement(w)
	}
	if rep := r.stage(stReport); rep != nil {
		fmt.Fprintf(w, "report: %d breaks in %.2fs, peak RSS %s   (target: 1M breaks < 30 s, bounded memory)\n", rep.Rows, rep.Median().Wall.Seconds(), mib(rep.Median().MaxRSS))
	}
	for _, mem := range r.Stages {
		if !strings.Contains(mem.Name, ", limit ") {
			continue
		}
		m := mem.Median()
		outcome := "matched"
		if mem.Failed() != "" {
			outcome = "FAILED to match"
		}
		fmt.Fprintf(w, "memory (%s): %d rows %s in %.2fs, peak RSS %s, peak spill %s   (target: 100M rows under 2 GB)\n",
			mem.Name, mem.Rows, outcome, m.Wall.Seconds(), mib(m.MaxRSS), mib(mem.PeakSpill))
	}
}

func (r *SizeResult) printAgreement(w io.Writer) {
	fmt.Fprintf(w, "\n%-14s %14s %14s %12s %12s\n", "invoices pass", "engine pairs", "baseline pairs", "engine amb.", "baseline amb.")
	bad := false
	for i, e := range r.Engine {
		var b struct{ Pairs, Ambiguous int64 }
		if i < len(r.Baseline) && r.Baseline[i].Pass == e.Pass {
			b.Pairs, b.Ambiguous = r.Baseline[i].Pairs, r.Baseline[i].Ambiguous
		}
		flag := "ok"
		if b.Pairs != e.Pairs || b.Ambiguous != e.Ambiguous {
			flag, bad = "!!! MISMATCH !!!", true
		}
		fmt.Fprintf(w, "%-14s %14d %14d %12d %12d  %s\n", e.Pass, e.Pairs, b.Pairs, e.Ambiguous, b.Ambiguous, flag)
	}
	if len(r.Engine) != len(r.Baseline) {
		fmt.Fprintf(w, "!!! MISMATCH !!! the engine ran %d passes, the baseline %d\n", len(r.Engine), len(r.Baseline))
		bad = true
	}
	types := map[string]bool{}
	for t := range r.EngineBreaks {
		types[t] = true
	}
	for t := range r.BaselineBreaks {
		types[t] = true
	}
	var sorted []string
	for t := range types {
		sorted = append(sorted, t)
	}
	sort.Strings(sorted)
	var diffs []string
	for _, t := range sorted {
		if r.EngineBreaks[t] != r.BaselineBreaks[t] {
			diffs = append(diffs, fmt.Sprintf("%s engine %d baseline %d", t, r.EngineBreaks[t], r.BaselineBreaks[t]))
		}
	}
	if len(diffs) > 0 {
		fmt.Fprintf(w, "!!! MISMATCH !!! break counts differ: %s\n", strings.Join(diffs, "; "))
		bad = true
	} else {
		fmt.Fprintf(w, "break counts by type agree (%d types)\n", len(sorted))
	}
	if a := r.Agreement; a != nil {
		if a.Same() {
			fmt.Fprintf(w, "row by row: identical matches.parquet and breaks.parquet (all columns but detail; %d details worded differently)\n", a.DetailsDiffer)
		} else {
			fmt.Fprintf(w, "!!! MISMATCH !!! row by row: %s\n", a)
			bad = true
		}
	}
	if bad {
		fmt.Fprintln(w, "!!! THE BASELINE AND THE ENGINE DISAGREE: the ratio compares different work !!!")
	}
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func printDemo(w io.Writer, s *Stage) {
	m := s.Median()
	fmt.Fprintf(w, "\nfixed overhead: finrecon run on the demo fixtures, median of %d: %.2fs wall, %.2fs cpu, peak RSS %s   (target < 2 s)\n",
		len(s.Samples), m.Wall.Seconds(), m.CPU.Seconds(), mib(m.MaxRSS))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
