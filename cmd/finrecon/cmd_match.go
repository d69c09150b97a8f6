package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/match"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
	"github.com/finrecon/finrecon/internal/store"
)

type matchOptions struct {
	config   string
	snapshot string
	rules    []string
	out      string
	asOf     string
	failOn   string
	duck     duckFlags
	// store is the break store; noStore runs without history.
	store       string
	noStore     bool
	signingKey  string
	metricsFile string
}

func newMatchCmd(g *globals) *cobra.Command {
	opts := &matchOptions{}
	cmd := &cobra.Command{
		Use:   "match",
		Short: "Match a snapshot with the rules and write a run of breaks",
		Long: `Match loads a snapshot into DuckDB, applies every rule (duplicates, passes,
comparisons), and writes runs/<run_id>/ with breaks.csv, breaks.parquet,
matches.parquet, summary.json and run.json. The same snapshot, rules,
version and --as-of give byte-identical files.

Without --config, give --snapshot, --rules and --out.

` + exitCodesHelp,
		Example: `  finrecon match --config fixtures/demo/finrecon.yaml --as-of 2026-11-30
  finrecon match --snapshot snapshots/ --rules rules/ --out runs/ --fail-on medium`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rm := &runMetrics{path: opts.metricsFile, stages: stages{}}
			res, err := runMatch(cmd, g, opts, rm)
			if err == nil {
				err = verdict(res.Summary)
			}
			rm.write(cmd.Context(), err, g.logger().Warn)
			return err
		},
	}
	addMatchFlags(cmd, opts)
	cmd.Flags().StringVar(&opts.snapshot, "snapshot", "", "snapshot folder, or a snapshots folder for its latest (default: the config's snapshots:)")
	cmd.Flags().StringSliceVar(&opts.rules, "rules", nil, "rule files or folders (default: the config's rules:)")
	cmd.Flags().StringVar(&opts.out, "out", "", "runs folder (default: the config's runs:)")
	return cmd
}

// addMatchFlags adds the flags match shares with run.
func addMatchFlags(cmd *cobra.Command, opts *matchOptions) {
	cmd.Flags().StringVar(&opts.config, "config", "", "config file")
	cmd.Flags().StringVar(&opts.asOf, "as-of", "", "as-of date for ageing, YYYY-MM-DD (default: today, UTC)")
	cmd.Flags().StringVar(&opts.failOn, "fail-on", "", "lowest severity that makes the exit code 1: low, medium, high or critical (default: the config's fail_on:, else high)")
	cmd.Flags().StringVar(&opts.store, "store", "", "break store: history and review notes across runs (default: the config's store:, else breaks.duckdb in the runs folder)")
	cmd.Flags().BoolVar(&opts.noStore, "no-store", false, "run without break history: every break is new, no review notes")
	cmd.Flags().StringVar(&opts.signingKey, "sign-key", "", "ed25519 private key file to sign run.json with (default: the config's signing_key:)")
	cmd.Flags().StringVar(&opts.metricsFile, "metrics-file", "", "write Prometheus text-format metrics here, atomically (for node_exporter's textfile collector)")
	opts.duck.add(cmd)
}

func runMatch(cmd *cobra.Command, g *globals, opts *matchOptions, rm *runMetrics) (*match.Result, error) {
	day, err := asOf(opts.asOf)
	if err != nil {
		return nil, err
	}
	snapRef, rulePaths, out, failOn := opts.snapshot, opts.rules, opts.out, opts.failOn
	storePath, signingKey := opts.store, opts.signingKey
	if opts.config != "" {
		cfg, err := loadConfig(opts.config)
		if err != nil {
			return nil, err
		}
		if storePath == "" && cfg.Store != "" {
			storePath = cfg.Path(cfg.Store)
		}
		if signingKey == "" && cfg.SigningKey != "" {
			signingKey = cfg.Path(cfg.SigningKey)
		}
		if snapRef == "" {
			snapRef = cfg.Path(cfg.Snapshots)
		}
		if len(rulePaths) == 0 {
			for _, r := range cfg.Rules {
				rulePaths = append(rulePaths, cfg.Path(r))
			}
		}
		if out == "" {
			out = cfg.Path(cfg.Runs)
		}
		if failOn == "" {
			failOn = cfg.FailOn
		}
	}
	switch {
	case snapRef == "":
		return nil, usageError{fmt.Errorf("no snapshot: pass --snapshot or --config")}
	case len(rulePaths) == 0:
		return nil, usageError{fmt.Errorf("no rules: pass --rules or --config")}
	case out == "":
		return nil, usageError{fmt.Errorf("no runs folder: pass --out or --config")}
	}
	sev := model.High
	if failOn != "" {
		if sev, err = model.ParseSeverity(failOn); err != nil {
			return nil, usageError{fmt.Errorf("--fail-on: %w", err)}
		}
	}
	set, err := rules.Load(rulePaths...)
	if err != nil {
		return nil, fail.ConfigErr(err)
	}
	dir, err := snapshot.Resolve(snapRef)
	if err != nil {
		return nil, fail.ConfigErr(err)
	}
	if storePath == "" {
		storePath = filepath.Join(out, defaultStore)
	}
	mo := match.Options{SnapshotDir: dir, Rules: set, RunsDir: out, AsOf: day, FailOn: sev,
		SigningKey: signingKey, Duck: opts.duck.options(), Log: g.logger(), Progress: g.progress(g.stderr, "matched")}
	rm.snapshot = dir
	if opts.noStore {
		var res *match.Result
		if err := rm.stages.time("match", func() (err error) {
			res, err = match.Run(cmd.Context(), mo)
			return err
		}); err != nil {
			return nil, err
		}
		rm.result = res
		printRun(cmd.OutOrStdout(), res)
		return res, nil
	}
	var res *match.Result
	var changes *store.Changes
	if err := rm.stages.time("match", func() (err error) {
		res, changes, err = matchWithHistory(cmd.Context(), storePath, mo)
		return err
	}); err != nil {
		return nil, err
	}
	rm.result = res
	printRun(cmd.OutOrStdout(), res)
	fmt.Fprintf(cmd.OutOrStdout(), "  history: %d new, %d still open, %d reopened, %d resolved since the previous run (store %s)\n",
		changes.New, changes.Open, changes.Reopened, changes.Resolved, storePath)
	return res, nil
}

func printRun(w io.Writer, res *match.Result) {
	s := res.Summary
	fmt.Fprintf(w, "run %s (snapshot %s, as of %s)\n", s.RunID, s.SnapshotID, s.AsOf)
	for _, r := range s.Recons {
		var n int64
		for _, b := range r.Breaks {
			n += b.Count
		}
		rate := r.MatchRate
		if rate == "" {
			rate = "-"
		}
		fmt.Fprintf(w, "  %-12s %6d left %6d right %6d pairs  match rate %s  %d breaks\n", r.Recon, r.LeftRows, r.RightRows, r.Pairs, rate, n)
		for _, b := range r.Breaks {
			fmt.Fprintf(w, "    %-20s %-8s %6d\n", b.Type, b.Severity, b.Count)
		}
	}
	fmt.Fprintf(w, "  %d breaks, %d at or above %s\n", s.Breaks, s.Failing, s.FailOn)
	fmt.Fprintf(w, "  breaks: %s\n", filepath.Join(res.Dir, run.BreaksCSV))
}

// verdict turns a run's failing breaks into exit code 1.
func verdict(s *run.Summary) error {
	if s.Failing > 0 {
		return errFindings
	}
	return nil
}
