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
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Write the Excel break report of a run",
		Long: `Report writes report.xlsx for a run: a summary sheet (counts per recon and
break type, match rates) and the breaks, with a frozen header, filters and
money formats in each currency's decimals. breaks.csv is already in the run.

` + exitCodesHelp,
		Example: `  finrecon report out/demo/runs/r-20261130-0123456789ab`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := run.Resolve(args[0])
			if err != nil {
				return fail.ConfigErr(err)
			}
			res, err := report.Write(cmd.Context(), report.Options{RunDir: dir, Out: out})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s (%d breaks)\n", res.Path, res.Breaks)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "workbook path (default: RUN_DIR/report.xlsx)")
	return cmd
}
