package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/finrecon/finrecon/internal/bench"
	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
	"github.com/finrecon/finrecon/internal/synth"
)

// options are the bench's flags.
type options struct {
	finrecon     string
	dir          string
	sizes        []int
	runs         int
	seed         uint64
	asOf         string
	rules        string
	invoiceRules string
	threads      int
	memoryLimit  string
	// extractLimit bounds the extract stage's DuckDB memory (and spills to
	// <spill>-extract): at 100M rows the default, 80% of RAM, is not enough.
	extractLimit string
	spill        string
	demo         string
	demoRuns     int
	memoryRules  string
	stages       map[string]bool
	self         string
}

var allStages = []string{"extract", "copy", "match", "report", "adjust", "invoices", "memory", "demo"}

func benchMain(args []string) error {
	fs := flag.NewFlagSet("finrecon-bench", flag.ContinueOnError)
	o := &options{}
	sizes := fs.String("sizes", "1000000,10000000", "invoice counts to generate and measure, separated by commas or spaces")
	quick := fs.Bool("quick", false, "smoke run: 100k invoices, one run of each stage (unless -sizes or -runs say otherwise)")
	stages := fs.String("stages", strings.Join(allStages, ","), "stages to run: "+strings.Join(allStages, ","))
	fs.StringVar(&o.finrecon, "finrecon", "bin/finrecon", "finrecon binary to measure")
	fs.StringVar(&o.dir, "dir", "out/bench", "working folder: data sets under <dir>/<N>/, results in <dir>/results-<N>.json")
	fs.IntVar(&o.runs, "runs", 0, "runs per stage; the median is reported (default 3 up to 1M invoices, 1 above)")
	fs.Uint64Var(&o.seed, "seed", 1, "generator seed")
	fs.StringVar(&o.asOf, "as-of", "2026-11-30", "as-of date of the generated data and the runs")
	fs.StringVar(&o.rules, "rules", "rules", "rules folder the generated finrecon.yaml names")
	fs.StringVar(&o.invoiceRules, "invoice-rules", "rules/invoices.yaml", "the invoices recon, matched alone against the SQL baseline")
	fs.IntVar(&o.threads, "threads", 0, "DuckDB threads for every stage and the baselines (default: all cores)")
	fs.StringVar(&o.memoryLimit, "memory-limit", "2GB", "memory limit of the bounded-memory match")
	fs.StringVar(&o.extractLimit, "extract-memory-limit", "", "memory limit of the extract stage, spilling to <spill>-extract (default: DuckDB's, 80% of RAM)")
	fs.StringVar(&o.spill, "spill", "out/bench/spill", "spill folder of the bounded-memory match")
	fs.StringVar(&o.memoryRules, "memory-rules", "", "rules of the bounded-memory match (default: the config's, all recons)")
	fs.StringVar(&o.demo, "demo", "fixtures/demo/finrecon.yaml", "config of the fixed-overhead run (finrecon run on the demo)")
	fs.IntVar(&o.demoRuns, "demo-runs", 5, "runs of the demo")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *quick {
		if !flagSet(fs, "sizes") {
			*sizes = "100000"
		}
		if !flagSet(fs, "runs") {
			o.runs = 1
		}
		if !flagSet(fs, "demo-runs") {
			o.demoRuns = 3
		}
	}
	for _, s := range strings.FieldsFunc(*sizes, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		o.sizes = append(o.sizes, n)
	}
	o.stages = map[string]bool{}
	for _, s := range strings.Split(*stages, ",") {
		if !slices.Contains(allStages, s) {
			return fmt.Errorf("-stages: unknown stage %q (want %s)", s, strings.Join(allStages, ","))
		}
		o.stages[s] = true
	}
	var err error
	if o.self, err = os.Executable(); err != nil {
		return err
	}
	if o.finrecon, err = filepath.Abs(o.finrecon); err != nil {
		return err
	}
	if _, err := os.Stat(o.finrecon); err != nil {
		return fmt.Errorf("finrecon binary: %w (make bench builds it)", err)
	}
	ctx := context.Background()
	m := describeMachine(ctx, o.self)
	build := describeBuild(o.finrecon)
	fmt.Print(m.String() + build.String())
	for _, n := range o.sizes {
		res, err := o.measureSize(ctx, n)
		if res != nil {
			res.Machine, res.Build = m, build
			res.ParentMaxRSS = selfMaxRSS()
			path := filepath.Join(o.dir, fmt.Sprintf("results-%d.json", n))
			o.mergeEarlier(path, res)
			if werr := writeJSON(path, res); werr != nil && err == nil {
				err = werr
			}
			fmt.Println()
			res.print(os.Stdout)
			fmt.Printf("\n(results: %s)\n", path)
		}
		if err != nil {
			return err
		}
	}
	if o.stages["demo"] {
		demo, err := o.measureDemo(ctx)
		if err != nil {
			return err
		}
		printDemo(os.Stdout, demo)
		if err := writeJSON(filepath.Join(o.dir, "results-demo.json"), demo); err != nil {
			return err
		}
	}
	return nil
}

// mergeEarlier keeps, from an earlier results file of the same data set,
// the stages this run did not measure, so that a run of some stages (say
// -stages memory) completes the file instead of replacing it.
func (o *options) mergeEarlier(path string, res *SizeResult) {
	var old SizeResult
	if err := readJSON(path, &old); err != nil || old.Invoices != res.Invoices || old.Seed != res.Seed {
		return
	}
	have := map[string]bool{}
	for _, s := range res.Stages {
		have[s.Name] = true
	}
	var merged []*Stage
	for _, s := range old.Stages {
		if !have[s.Name] && len(s.Samples) > 0 {
			merged = append(merged, s)
		}
	}
	res.Stages = append(merged, res.Stages...)
	if !o.stages["invoices"] {
		res.Engine, res.Baseline, res.EngineBreaks, res.BaselineBreaks = old.Engine, old.Baseline, old.EngineBreaks, old.BaselineBreaks
		res.Agreement, res.BaselineSteps = old.Agreement, old.BaselineSteps
	}
	if !o.stages["memory"] {
		res.MemoryLimit = old.MemoryLimit
	}
	if res.ReportBreaks == 0 {
		res.ReportBreaks = old.ReportBreaks
	}
	if res.Started.After(old.Started) {
		res.Started = old.Started
	}
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// Stage is one measured stage: its runs and the rows each run processed.
type Stage struct {
	Name    string   `json:"name"`
	Rows    int64    `json:"rows"`
	Samples []Sample `json:"samples"`
	// Inner are times measured inside the process (the baseline's load to
	// write, finrecon match's own stage timer), one per sample.
	Inner []time.Duration `json:"inner_ns,omitempty"`
	// PeakSpill is the most the spill folder held (bounded-memory runs).
	PeakSpill int64 `json:"peak_spill_bytes,omitempty"`
}

// Median is the median wall and CPU time, the highest peak RSS and the
// median load average of the stage's runs.
func (s *Stage) Median() Sample {
	if len(s.Samples) == 0 {
		return Sample{}
	}
	pick := func(f func(Sample) float64) float64 {
		v := make([]float64, len(s.Samples))
		for i, x := range s.Samples {
			v[i] = f(x)
		}
		return median(v)
	}
	var m Sample
	m.Wall = time.Duration(pick(func(x Sample) float64 { return float64(x.Wall) }))
	m.CPU = time.Duration(pick(func(x Sample) float64 { return float64(x.CPU) }))
	m.Load1 = pick(func(x Sample) float64 { return x.Load1 })
	for _, x := range s.Samples {
		m.MaxRSS = max(m.MaxRSS, x.MaxRSS)
	}
	return m
}

// Failed is the error of the stage's failed run, if one failed.
func (s *Stage) Failed() string {
	for _, x := range s.Samples {
		if x.Error != "" {
			return x.Error
		}
	}
	return ""
}

// InnerMedian is the median in-process time, or 0.
func (s *Stage) InnerMedian() time.Duration {
	if len(s.Inner) == 0 {
		return 0
	}
	v := make([]float64, len(s.Inner))
	for i, d := range s.Inner {
		v[i] = float64(d)
	}
	return time.Duration(median(v))
}

func median(v []float64) float64 {
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	} else {
		return (v[n/2-1] + v[n/2]) / 2
	}
}

// SizeResult is everything measured on one data set.
type SizeResult struct {
	Machine Machine `json:"machine"`
	Build   Build   `json:"build"`
	// ParentMaxRSS is the bench process\'s own peak RSS, the floor under
	// the children\'s figures (a child starts from its parent\'s at the fork).
	ParentMaxRSS int64           `json:"bench_parent_max_rss_bytes"`
	Invoices     int             `json:"invoices"`
	Seed         uint64          `json:"seed"`
	Runs         int             `json:"runs"`
	Files        []synth.Count   `json:"files"`
	CSVRows      int64           `json:"csv_rows"`
	CSVBytes     int64           `json:"csv_bytes"`
	SnapRows     int64           `json:"snapshot_rows"`
	Stages       []*Stage        `json:"stages"`
	Engine       []run.PassCount `json:"engine_passes,omitempty"`
	Baseline     []run.PassCount `json:"baseline_passes,omitempty"`
	// EngineBreaks and BaselineBreaks count the invoices recon's breaks
	// by type.
	EngineBreaks   map[string]int64 `json:"engine_breaks,omitempty"`
	BaselineBreaks map[string]int64 `json:"baseline_breaks,omitempty"`
	Agreement      *bench.Agreement `json:"agreement,omitempty"`
	// BaselineSteps are the baseline's own step timings (last run).
	BaselineSteps []bench.Step `json:"baseline_steps,omitempty"`
	MemoryLimit   string       `json:"memory_limit,omitempty"`
	ReportBreaks  int64        `json:"report_breaks,omitempty"`
	Started       time.Time    `json:"started"`
	Finished      time.Time    `json:"finished"`
}

func (r *SizeResult) stage(name string) *Stage {
	for _, s := range r.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Stage names, as printed.
const (
	stExtract  = "extract (CSV → snapshot)"
	stCopy     = "bare DuckDB read_csv → COPY"
	stMatch    = "match, all recons (snapshot)"
	stReport   = "report (xlsx)"
	stAdjust   = "adjust"
	stInvoices = "match, invoices recon only"
	stBaseline = "SQL baseline, invoices recon"
	stMemory   = "match under --memory-limit"
)

// memoryStage names the bounded-memory stage after what it runs.
func memoryStage(o *options) string {
	what := "all recons"
	if o.memoryRules != "" {
		what = strings.TrimSuffix(filepath.Base(o.memoryRules), ".yaml")
	}
	name := fmt.Sprintf("match, %s, limit %s", what, o.memoryLimit)
	if o.threads > 0 {
		name += fmt.Sprintf(", %d thr", o.threads)
	}
	return name
}

// measureSize generates (or reuses) the data set of n invoices and
// measures every selected stage on it.
func (o *options) measureSize(ctx context.Context, n int) (*SizeResult, error) {
	dir := filepath.Join(o.dir, strconv.Itoa(n))
	runs := o.runs
	if runs == 0 {
		runs = 3
		if n > 1_000_000 {
			runs = 1
		}
	}
	res := &SizeResult{Invoices: n, Seed: o.seed, Runs: runs, Started: time.Now().UTC()}
	defer func() { res.Finished = time.Now().UTC() }()
	fmt.Printf("\n== %d invoices (seed %d), %d run(s) per stage, data in %s\n", n, o.seed, runs, dir)
	stats, err := o.generate(dir, n)
	if err != nil {
		return nil, err
	}
	res.Files = stats.Files
	res.CSVRows = stats.Rows()
	files, err := bench.CSVFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			res.CSVBytes += fi.Size()
		}
	}
	cfg := filepath.Join(dir, "finrecon.yaml")
	logs := filepath.Join(dir, "logs")
	threads := []string{}
	childThreads := []string{}
	if o.threads > 0 {
		threads = []string{"--threads", strconv.Itoa(o.threads)}
		childThreads = []string{"-threads", strconv.Itoa(o.threads)}
	}
	ok := []int{0, 1} // 1: ran and found failing breaks
	// each runs a stage; a failed run is kept (with its error) and ends
	// the stage.
	each := func(name string, rows int64, runs int, f func(i int) (Sample, error)) (*Stage, error) {
		st := &Stage{Name: name, Rows: rows}
		res.Stages = append(res.Stages, st)
		for i := range runs {
			s, err := f(i)
			if err != nil {
				s.Error = err.Error()
			}
			st.Samples = append(st.Samples, s)
			fmt.Printf("  %-34s run %d/%d  %8.2fs wall  %8.2fs cpu  %7s RSS  (load %.1f)\n", name, i+1, runs, s.Wall.Seconds(), s.CPU.Seconds(), mib(s.MaxRSS), s.Load1)
			if err != nil {
				fmt.Printf("  %-34s FAILED: %v\n", name, err)
				return st, err
			}
		}
		return st, nil
	}

	snapsDir := filepath.Join(dir, "snapshots")
	if o.stages["extract"] {
		args := append([]string{"extract", "--config", cfg, "--as-of", o.asOf}, threads...)
		if o.extractLimit != "" {
			spill := o.spill + "-extract"
			args = append(args, "--memory-limit", o.extractLimit, "--temp-dir", spill)
			defer os.RemoveAll(spill)
		}
		if _, err := each(stExtract, res.CSVRows, runs, func(i int) (Sample, error) {
			return measure(ctx, filepath.Join(logs, fmt.Sprintf("extract-%d.log", i)), ok, o.finrecon, args...)
		}); err != nil {
			return res, err
		}
	}
	snapDir, err := snapshot.Resolve(snapsDir)
	if err != nil {
		return res, fmt.Errorf("no snapshot to match (run the extract stage): %w", err)
	}
	snap, err := snapshot.Open(snapDir)
	if err != nil {
		return res, err
	}
	var invoiceRows int64
	for _, d := range snap.Datasets {
		res.SnapRows += d.File.Rows
		if d.Name == "billing.invoices" || d.Name == "odoo.invoices" {
			invoiceRows += d.File.Rows
		}
	}

	if o.stages["copy"] {
		out := filepath.Join(dir, "csvcopy")
		if _, err := each(stCopy, res.CSVRows, runs, func(i int) (Sample, error) {
			os.RemoveAll(out)
			defer os.RemoveAll(out)
			return measure(ctx, filepath.Join(logs, fmt.Sprintf("csvcopy-%d.log", i)), []int{0}, o.self,
				append([]string{"csvcopy", "-data", dir, "-out", out}, childThreads...)...)
		}); err != nil {
			return res, err
		}
	}

	runsAll := filepath.Join(dir, "runs-all")
	if o.stages["match"] {
		if _, err := each(stMatch, res.SnapRows, runs, func(i int) (Sample, error) {
			return measure(ctx, filepath.Join(logs, fmt.Sprintf("match-%d.log", i)), ok, o.finrecon,
				append([]string{"match", "--config", cfg, "--as-of", o.asOf, "--no-store", "--out", runsAll}, threads...)...)
		}); err != nil {
			return res, err
		}
	}
	if o.stages["report"] || o.stages["adjust"] {
		runDir, err := run.Resolve(runsAll)
		if err != nil {
			return res, fmt.Errorf("no run to report on (run the match stage): %w", err)
		}
		sum, err := run.ReadSummary(runDir)
		if err != nil {
			return res, err
		}
		res.ReportBreaks = sum.Breaks
		if o.stages["report"] {
			xlsx := filepath.Join(dir, "report.xlsx")
			if _, err := each(stReport, sum.Breaks, runs, func(i int) (Sample, error) {
				os.Remove(xlsx)
				return measure(ctx, filepath.Join(logs, fmt.Sprintf("report-%d.log", i)), ok, o.finrecon, "report", runDir, "--out", xlsx)
			}); err != nil {
				return res, err
			}
		}
		if o.stages["adjust"] {
			out := filepath.Join(dir, "adjust")
			if _, err := each(stAdjust, sum.Breaks, runs, func(i int) (Sample, error) {
				os.RemoveAll(out)
				return measure(ctx, filepath.Join(logs, fmt.Sprintf("adjust-%d.log", i)), ok, o.finrecon, "adjust", runDir, "--config", cfg, "--out", out)
			}); err != nil {
				return res, err
			}
		}
	}

	if o.stages["invoices"] {
		if err := o.invoicesVsBaseline(ctx, res, dir, cfg, snapDir, invoiceRows, runs, threads, childThreads); err != nil {
			return res, err
		}
	}

	if o.stages["memory"] {
		// A run that fails under the limit is a result, not a reason to
		// stop: it is recorded with its error.
		runsMem := filepath.Join(dir, "runs-memory")
		res.MemoryLimit = o.memoryLimit
		args := []string{"match", "--config", cfg, "--as-of", o.asOf, "--no-store", "--out", runsMem,
			"--memory-limit", o.memoryLimit, "--temp-dir", o.spill}
		rows := res.SnapRows
		if o.memoryRules != "" {
			args = append(args, "--rules", o.memoryRules)
			rows = invoiceRows
		}
		var spill int64
		st, _ := each(memoryStage(o), rows, 1, func(i int) (Sample, error) {
			os.RemoveAll(o.spill)
			if err := os.MkdirAll(o.spill, 0o755); err != nil {
				return Sample{}, err
			}
			stop := watchSize(o.spill, &spill)
			defer stop()
			return measure(ctx, filepath.Join(logs, "match-memory.log"), ok, o.finrecon, append(args, threads...)...)
		})
		st.PeakSpill = spill
		os.RemoveAll(o.spill)
	}
	return res, nil
}

// invoicesVsBaseline runs finrecon match on the invoices recon alone and
// the SQL baseline, alternately (so a busy moment of the machine hurts
// both alike), then checks that they found the same.
func (o *options) invoicesVsBaseline(ctx context.Context, res *SizeResult, dir, cfg, snapDir string, rows int64, runs int, threads, childThreads []string) error {
	runsInv := filepath.Join(dir, "runs-invoices")
	baseOut := filepath.Join(dir, "baseline")
	logs := filepath.Join(dir, "logs")
	metrics := filepath.Join(dir, "invoices.prom")
	eng := &Stage{Name: stInvoices, Rows: rows}
	base := &Stage{Name: stBaseline, Rows: rows}
	res.Stages = append(res.Stages, eng, base)
	for i := range runs {
		s, err := measure(ctx, filepath.Join(logs, fmt.Sprintf("match-invoices-%d.log", i)), []int{0, 1}, o.finrecon,
			append([]string{"match", "--config", cfg, "--rules", o.invoiceRules, "--as-of", o.asOf, "--no-store", "--out", runsInv,
				"--metrics-file", metrics}, threads...)...)
		if err != nil {
			return err
		}
		eng.Samples = append(eng.Samples, s)
		inner, err := stageSeconds(metrics, "match")
		if err != nil {
			return err
		}
		eng.Inner = append(eng.Inner, inner)
		fmt.Printf("  %-34s run %d/%d  %8.2fs wall  %8.2fs cpu  %7s RSS  (load %.1f; match.Run %.2fs)\n", stInvoices, i+1, runs, s.Wall.Seconds(), s.CPU.Seconds(), mib(s.MaxRSS), s.Load1, inner.Seconds())

		os.RemoveAll(baseOut)
		bjson := filepath.Join(dir, "baseline.json")
		s, err = measure(ctx, filepath.Join(logs, fmt.Sprintf("baseline-%d.log", i)), []int{0}, o.self,
			append([]string{"baseline", "-snapshot", snapDir, "-out", baseOut, "-as-of", o.asOf, "-json", bjson}, childThreads...)...)
		if err != nil {
			return err
		}
		var br bench.BaselineResult
		if err := readJSON(bjson, &br); err != nil {
			return err
		}
		base.Samples = append(base.Samples, s)
		base.Inner = append(base.Inner, br.Elapsed)
		res.Baseline, res.BaselineBreaks, res.BaselineSteps = br.Passes, br.Breaks, br.Steps
		fmt.Printf("  %-34s run %d/%d  %8.2fs wall  %8.2fs cpu  %7s RSS  (load %.1f; load → write %.2fs)\n", stBaseline, i+1, runs, s.Wall.Seconds(), s.CPU.Seconds(), mib(s.MaxRSS), s.Load1, br.Elapsed.Seconds())
	}
	runDir, err := run.Resolve(runsInv)
	if err != nil {
		return err
	}
	sum, err := run.ReadSummary(runDir)
	if err != nil {
		return err
	}
	for _, r := range sum.Recons {
		if r.Recon == "invoices" {
			res.Engine = r.Passes
			res.EngineBreaks = map[string]int64{}
			for _, b := range r.Breaks {
				res.EngineBreaks[b.Type] += b.Count
			}
		}
	}
	var a bench.Agreement
	ajson := filepath.Join(dir, "agreement.json")
	if _, err := measure(ctx, filepath.Join(logs, "compare.log"), []int{0}, o.self,
		"compare", "-engine", runDir, "-baseline", baseOut, "-recon", "invoices", "-json", ajson); err != nil {
		return err
	}
	if err := readJSON(ajson, &a); err != nil {
		return err
	}
	res.Agreement = &a
	return nil
}

// stageSeconds reads a stage's duration from a finrecon metrics file.
func stageSeconds(path, stage string) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	prefix := `finrecon_stage_duration_seconds{stage="` + stage + `"} `
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", path, err)
			}
			return time.Duration(s * float64(time.Second)), nil
		}
	}
	return 0, fmt.Errorf("%s: no duration for stage %s", path, stage)
}

// watchSize polls the total size of the files under dir until stopped and
// keeps the largest it saw in peak.
func watchSize(dir string, peak *int64) (stop func()) {
	done := make(chan struct{})
	var max atomic.Int64
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			var n int64
			filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if fi, err := d.Info(); err == nil {
						n += fi.Size()
					}
				}
				return nil
			})
			if n > max.Load() {
				max.Store(n)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		*peak = max.Load()
	}
}

// generate writes the data set of n invoices into dir, unless the one
// there was generated with the same parameters and generator source.
func (o *options) generate(dir string, n int) (*synth.Stats, error) {
	rules, err := filepath.Abs(o.rules)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("invoices=%d seed=%d as_of=%s rules=%s generator=%s\n", n, o.seed, o.asOf, rules, generatorHash())
	stamp := filepath.Join(dir, ".bench-generated")
	statsFile := filepath.Join(dir, ".bench-stats.json")
	if have, err := os.ReadFile(stamp); err == nil && string(have) == key {
		var st synth.Stats
		if err := readJSON(statsFile, &st); err == nil {
			fmt.Printf("  data set cached (%s)\n", strings.TrimSpace(key))
			return &st, nil
		}
	}
	day, err := time.Parse(time.DateOnly, o.asOf)
	if err != nil {
		return nil, fmt.Errorf("-as-of: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	log := filepath.Join(o.dir, fmt.Sprintf("generate-%d.log", n))
	s, err := measure(context.Background(), log, []int{0}, o.self, "generate", "-out", dir, "-invoices", strconv.Itoa(n),
		"-seed", strconv.FormatUint(o.seed, 10), "-as-of", day.Format(time.DateOnly), "-rules", rules, "-json", statsFile)
	if err != nil {
		return nil, err
	}
	var st synth.Stats
	if err := readJSON(statsFile, &st); err != nil {
		return nil, err
	}
	fmt.Printf("  generated %d rows in %.1fs\n", st.Rows(), s.Wall.Seconds())
	return &st, os.WriteFile(stamp, []byte(key), 0o644)
}

// generatorHash identifies the generator's source, so a changed generator
// regenerates the cached data sets.
func generatorHash() string {
	files, _ := filepath.Glob("internal/synth/*.go")
	if len(files) == 0 {
		return "unknown"
	}
	h := sha256.New()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return "unknown"
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// measureDemo times finrecon run on the demo fixtures.
func (o *options) measureDemo(ctx context.Context) (*Stage, error) {
	st := &Stage{Name: "finrecon run, demo fixtures"}
	fmt.Printf("\n== fixed overhead: finrecon run --config %s --as-of %s\n", o.demo, o.asOf)
	for i := range o.demoRuns {
		s, err := measure(ctx, filepath.Join(o.dir, "logs", fmt.Sprintf("demo-%d.log", i)), []int{0, 1}, o.finrecon,
			"run", "--config", o.demo, "--as-of", o.asOf)
		if err != nil {
			return nil, err
		}
		st.Samples = append(st.Samples, s)
		fmt.Printf("  %-34s run %d/%d  %8.2fs wall  %8.2fs cpu  %7s RSS  (load %.1f)\n", st.Name, i+1, o.demoRuns, s.Wall.Seconds(), s.CPU.Seconds(), mib(s.MaxRSS), s.Load1)
	}
	return st, nil
}
