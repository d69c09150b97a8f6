package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/rules"
)

func newRulesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Work with reconciliation rules"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check [PATH...]",
		Short: "Validate rule files and report every problem as file:line:col",
		Long: `Check parses every rule file (default: rules/) and reports each problem with
its position and, for a misspelt key or column, the closest valid name.

` + exitCodesHelp,
		Example: `  finrecon rules check
  finrecon rules check rules/invoices.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"rules"}
			}
			set, err := rules.Load(args...)
			if err != nil {
				return fail.ConfigErr(err)
			}
			for _, r := range set.Rules {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (recon %s: %d passes, %d comparisons)\n", r.File, r.Recon, len(r.Passes), len(r.Compare))
			}
			return nil
		},
	})
	return cmd
}
