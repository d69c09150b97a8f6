package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/run"

	"github.com/finrecon/finrecon/internal/report"
)

func newReportCmd(g *globals) *cobra.Command {
	var out string
	var maxBreaks int64
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Write the Excel break report of a run",
		Long: `Report writes report.xlsx for a run: a Summary sheet (counts per recon and
break type, amounts at stake per currency, ageing buckets, match rates,
charts), one sheet per reconciliation with its breaks (frozen header,
filters, money in each currency's decimals, the review columns status,
owner and comment carried over from earlier runs), and an About sheet that
explains every break type and column. Past --max-breaks it holds the
breaks with the largest amounts and says so; breaks.csv has them all.
Edit the review columns and bring them back with finrecon review import.

` + exitCodesHelp,
		Example: `  finrecon report out/demo/runs/r-20261130-0123456789ab`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := run.Resolve(args[0])
			if err != nil {
				return fail.ConfigErr(err)
			}
			res, err := report.Write(cmd.Context(), report.Options{RunDir: dir, Out: out, MaxBreaks: maxBreaks})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s (%d breaks)\n", res.Path, res.Breaks)
			if res.Breaks < res.Total {
				fmt.Fprintf(cmd.OutOrStdout(), "  the run has %d breaks: the workbook holds the %d with the largest amounts at stake; breaks.csv has them all\n", res.Total, res.Breaks)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "workbook path (default: RUN_DIR/report.xlsx)")
	cmd.Flags().Int64Var(&maxBreaks, "max-breaks", report.DefaultMaxBreaks, "most breaks the workbook holds (the largest amounts at stake first)")
	return cmd
}
