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
			day, err := asOf(opts.asOf)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(opts.config)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			snap, err := extract.Run(cmd.Context(), extract.Options{Config: cfg, AsOf: day, Duck: opts.duck.options(), Log: g.logger()})
			if err != nil {
				return err
			}
			printSnapshot(w, snap.Dir, snap.Manifest)
			opts.snapshot, opts.asOf = snap.Dir, day
			res, err := runMatch(cmd, g, opts)
			if err != nil {
				return err
			}
			rep, err := report.Write(cmd.Context(), report.Options{RunDir: res.Dir})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  report: %s\n", rep.Path)
			adj, err := adjust.Build(cmd.Context(), adjust.Options{RunDir: res.Dir, Entities: cfg.Entities})
			if err != nil {
				return err
			}
			printAdjust(w, adj)
			return verdict(res.Summary)
		},
	}
	addMatchFlags(cmd, opts)
	cmd.MarkFlagRequired("config")
	return cmd
}
