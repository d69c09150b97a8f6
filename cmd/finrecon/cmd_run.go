package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/adjust"
	"github.com/finrecon/finrecon/internal/extract"
	"github.com/finrecon/finrecon/internal/report"
)

func newRunCmd(g *globals) *cobra.Command {
	opts := &matchOptions{}
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Extract, match, report and adjust in one command, for cron",
		Long: `Run does extract → match → report → adjust with one config: a new snapshot,
a run with its breaks, report.xlsx, and the adjustment batch. Its exit code
says whether breaks at or above the failing severity were found.

` + exitCodesHelp,
		Example: `  finrecon run --config fixtures/demo/finrecon.yaml --as-of 2026-11-30
  finrecon run --config /etc/finrecon.yaml --fail-on medium --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rm := &runMetrics{path: opts.metricsFile, stages: stages{}}
			err := runAll(cmd, g, opts, rm)
			rm.write(cmd.Context(), err, g.logger().Warn)
			return err
		},
	}
	addMatchFlags(cmd, opts)
	cmd.MarkFlagRequired("config")
	return cmd
}

// runAll is run's pipeline: extract, match, report, adjust, each timed.
func runAll(cmd *cobra.Command, g *globals, opts *matchOptions, rm *runMetrics) error {
	day, err := asOf(opts.asOf)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(opts.config)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	var snap *extract.Result
	if err := rm.stages.time("extract", func() (err error) {
		if err = pullOdoo(cmd, g, cfg, false); err != nil {
			return err
		}
		snap, err = extract.Run(cmd.Context(), extract.Options{Config: cfg, AsOf: day, Duck: opts.duck.options(), Log: g.logger()})
		return err
	}); err != nil {
		return err
	}
	printSnapshot(w, snap.Dir, snap.Manifest)
	opts.snapshot, opts.asOf = snap.Dir, day
	res, err := runMatch(cmd, g, opts, rm)
	if err != nil {
		return err
	}
	var rep *report.Result
	if err := rm.stages.time("report", func() (err error) {
		rep, err = report.Write(cmd.Context(), report.Options{RunDir: res.Dir})
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "  report: %s\n", rep.Path)
	var adj *adjust.Result
	if err := rm.stages.time("adjust", func() (err error) {
		adj, err = adjust.Build(cmd.Context(), adjust.Options{RunDir: res.Dir, Entities: cfg.Entities})
		return err
	}); err != nil {
		return err
	}
	printAdjust(w, adj)
	return verdict(res.Summary)
}
