package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/version"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print finrecon's version and schema version",
		Example: "  finrecon version",
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "finrecon %s (schema %d)\n", version.Version, model.SchemaVersion)
		},
	}
}
