package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/run"

	"github.com/finrecon/finrecon/internal/adjust"
	"github.com/finrecon/finrecon/internal/config"
)

func newAdjustCmd(g *globals) *cobra.Command {
	var cfgPath, out string
	cmd := &cobra.Command{
		Use:   "adjust RUN --config FILE",
		Short: "Propose balanced write-off entries for Odoo from a run's breaks",
		Long: `Adjust reads a run's breaks and, for each break type a rule declares an
adjustment for (e.g. amount differences up to 1.00), writes a balanced draft
journal entry in two forms: adjustments.csv for Odoo's import wizard and
adjustments.jsonl of create payloads, each with an idempotency key. Import the
CSV once only: Odoo appends the lines again on a second import.

` + exitCodesHelp,
		Example: `  finrecon adjust out/demo/runs/r-20261130-0123456789ab --config fixtures/demo/finrecon.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := run.Resolve(args[0])
			if err != nil {
				return fail.ConfigErr(err)
			}
			var entities map[string]config.Entity
			if cfgPath != "" {
				cfg, err := loadConfig(cfgPath)
				if err != nil {
					return err
				}
				entities = cfg.Entities
			}
			res, err := adjust.Build(cmd.Context(), adjust.Options{RunDir: dir, OutDir: out, Entities: entities})
			if err != nil {
				return err
			}
			printAdjust(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "config file: its entities: give each legal entity's company currency")
	cmd.Flags().StringVar(&out, "out", "", "output folder (default: RUN_DIR/adjustments)")
	return cmd
}

func printAdjust(w io.Writer, res *adjust.Result) {
	fmt.Fprintf(w, "adjustment batch %s: %d entries, %d breaks skipped\n", res.BatchID, res.Entries, len(res.Skipped))
	for _, t := range res.Totals {
		fmt.Fprintf(w, "  %s debit %s = credit %s\n", t.Currency, t.Debit, t.Credit)
	}
	for _, f := range res.Files {
		fmt.Fprintf(w, "  %s\n", f)
	}
}
