package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/extract"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/odoo"
	"github.com/finrecon/finrecon/internal/snapshot"
)

type extractOptions struct {
	config string
	out    string
	asOf   string
	full   bool
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

A system with an odoo: connection is pulled first: only what changed since
the last pull (--full: everything), into the system's mirror, from which its
canonical files are written and then loaded like any other. A failed pull
changes neither the mirror nor the snapshots (exit 3). See docs/odoo.md.

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
	cmd.Flags().BoolVar(&opts.full, "full", false, "re-sync Odoo systems from scratch instead of pulling what changed since the last pull")
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
	if err := pullOdoo(cmd, g, cfg, opts.full); err != nil {
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

// pullOdoo pulls every system that has an odoo: connection into its
// canonical folder and points the system's dir there, so that extract
// loads the pulled files like any folder of canonical files. A pull that
// fails stops the extraction before any snapshot is written.
func pullOdoo(cmd *cobra.Command, g *globals, cfg *config.Config, full bool) error {
	for _, name := range cfg.OdooSystems() {
		s, err := odoo.FromConfig(cfg, name)
		if err != nil {
			return fail.ConfigErr(err)
		}
		res, err := odoo.Extract(cmd.Context(), odoo.ExtractOptions{Settings: s, Full: full, Log: g.logger()})
		if err != nil {
			return fail.SourceErr(err)
		}
		printPull(cmd.OutOrStdout(), name, res)
		sys := cfg.Systems[name]
		sys.Dir = res.Dir
		cfg.Systems[name] = sys
	}
	return nil
}

// printPull says what an Odoo pull read and wrote.
func printPull(w io.Writer, system string, res *odoo.ExtractResult) {
	kind := "incremental pull"
	if res.Full {
		kind = "full pull (" + res.FullReason + ")"
	}
	fmt.Fprintf(w, "odoo system %s: Odoo %s over %s, %s\n", system, res.Version, res.Protocol, kind)
	for _, m := range res.Models {
		fmt.Fprintf(w, "  %-20s pulled %d, removed %d, mirror %d\n", m.Model, m.Pulled, m.Removed, m.Total)
	}
	fmt.Fprintf(w, "  canonical files in %s: invoices %d, payments %d, journal_lines %d\n",
		res.Dir, res.Rows["invoices"], res.Rows["payments"], res.Rows["journal_lines"])
	if n := len(res.UnmappedPartners); n > 0 {
		names := make([]string, 0, min(n, 5))
		for _, p := range res.UnmappedPartners[:min(n, 5)] {
			names = append(names, fmt.Sprintf("%d %s", p.ID, p.Name))
		}
		more := ""
		if n > 5 {
			more = fmt.Sprintf(", and %d more", n-5)
		}
		fmt.Fprintf(w, "  %d partners have no partner key: their rows carry partner_id odoo:<id> (%s%s)\n", n, strings.Join(names, "; "), more)
	}
	for _, warning := range res.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warning)
	}
}
