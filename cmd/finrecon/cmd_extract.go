package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/extract"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/snapshot"
)

type extractOptions struct {
	config string
	out    string
	asOf   string
	duck   duckFlags
}

func newExtractCmd(g *globals) *cobra.Command {
	opts := &extractOptions{}
	cmd := &cobra.Command{
		Use:   "extract --config FILE",
		Short: "Extract every configured source into a new snapshot",
		Long: `Extract reads every source of the config into the canonical model and
publishes an immutable snapshot: one Parquet file per dataset, the rejected
rows (file, line, column, reason) and manifest.json. Bad rows never stop the
extraction; a missing or unreadable source does (exit 3), and no partial
snapshot is left behind.

` + exitCodesHelp,
		Example: `  finrecon extract --config fixtures/demo/finrecon.yaml
  finrecon extract --config finrecon.yaml --out /data/snapshots --as-of 2026-11-30`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExtract(cmd, g, opts)
		},
	}
	cmd.Flags().StringVar(&opts.config, "config", "", "config file (required)")
	cmd.Flags().StringVar(&opts.out, "out", "", "snapshots folder (default: the config's snapshots:)")
	cmd.Flags().StringVar(&opts.asOf, "as-of", "", "as-of date recorded in the manifest, YYYY-MM-DD (default: today, UTC)")
	opts.duck.add(cmd)
	cmd.MarkFlagRequired("config")
	return cmd
}

func runExtract(cmd *cobra.Command, g *globals, opts *extractOptions) error {
	day, err := asOf(opts.asOf)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(opts.config)
	if err != nil {
		return err
	}
	res, err := extract.Run(cmd.Context(), extract.Options{Config: cfg, OutDir: opts.out, AsOf: day, Duck: opts.duck.options(), Log: g.logger()})
	if err != nil {
		return err
	}
	printSnapshot(cmd.OutOrStdout(), res.Dir, res.Manifest)
	return nil
}

func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, fail.ConfigErr(err)
	}
	return cfg, nil
}

// printSnapshot prints where a snapshot is and what went into it.
func printSnapshot(w io.Writer, dir string, m *snapshot.Manifest) {
	fmt.Fprintf(w, "snapshot %s\n  folder   %s\n", m.ID, dir)
	var rejected int64
	for _, d := range m.Datasets {
		fmt.Fprintf(w, "  %-22s %8d rows\n", d.Name, d.Rows)
		for _, s := range d.Sources {
			fmt.Fprintf(w, "    %-32s read %d = accepted %d + rejected %d\n", s.Path, s.Read, s.Accepted, s.Rejected)
			rejected += s.Rejected
		}
	}
	if rejected > 0 {
		fmt.Fprintf(w, "  %d rejected rows: finrecon snapshot show --rejects %s\n", rejected, dir)
	}
}
