package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/sqlexpr"
)

func newRulesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Work with reconciliation rules"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check [PATH...]",
		Short: "Validate rule files and report every problem as file:line:col",
		Long: `Check parses every rule file (default: rules/) and reports each problem with
its position and, for a misspelt key or column, the closest valid name. Every
SQL expression (where, key expressions, proof sums) is parsed by DuckDB and
must be one plain expression over the side's columns using allowed functions:
nothing that reads or writes files, attaches databases, changes settings,
reads the clock, or runs a subquery.

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
			if err := checkExprs(cmd.Context(), set); err != nil {
				return err
			}
			for _, r := range set.Rules {
				checks := len(r.Duplicates) + len(r.Unbalanced) + len(r.VersionConflicts)
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (recon %s: %d checks, %d passes, %d comparisons, %d proofs and limits, %d expressions)\n",
					r.File, r.Recon, checks, len(r.Passes), len(r.Compare), len(r.Proofs)+len(r.Limits), len(r.Exprs()))
			}
			return nil
		},
	})
	return cmd
}

// checkExprs validates the rules' SQL expressions with DuckDB's parser, in
// an in-memory database that never sees data.
func checkExprs(ctx context.Context, set *rules.Set) error {
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	err = set.CheckExprs(func(expr string, cols []string) error {
		return sqlexpr.Check(ctx, db, expr, cols)
	})
	if err != nil {
		return fail.ConfigErr(err)
	}
	return nil
}
