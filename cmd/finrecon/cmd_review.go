package main

import (
	"archive/zip"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/report"
	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/store"
)

type reviewOptions struct {
	config string
	runs   string
	store  string
	dryRun bool
}

func newReviewCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Bring accountants' review notes from a workbook back into the break store",
	}
	cmd.AddCommand(newReviewImportCmd(g))
	return cmd
}

func newReviewImportCmd(g *globals) *cobra.Command {
	opts := &reviewOptions{}
	cmd := &cobra.Command{
		Use:   "import WORKBOOK",
		Short: "Read the status, owner and comment columns of a reviewed report.xlsx into the break store",
		Long: `Import reads the review columns (status, owner, comment) of a report.xlsx
that accountants edited, checks every row against the run that wrote the
workbook, and saves the changed reviews in the break store. The next run
carries them into its breaks.csv and workbook.

Rows are matched by break_id, so sorting and filtering are fine. Refused,
with the cell at fault: an unknown status (open, investigating, accepted,
fixed-in-source), an edit to any other column, an unknown or repeated
break_id, a renamed or missing header. A workbook written for a run that is
not in the runs folder is refused whole.

Exit code 0: imported, nothing refused; 1: imported, but some rows were
refused (listed); 2: the workbook or runs folder cannot be used.`,
		Example: `  finrecon review import ~/Downloads/report.xlsx --config fixtures/demo/finrecon.yaml
  finrecon review import reviewed.xlsx --runs out/demo/runs --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return reviewImport(cmd, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.config, "config", "", "config file (its runs: and store:)")
	cmd.Flags().StringVar(&opts.runs, "runs", "", "runs folder the workbook's run is in (default: the config's runs:)")
	cmd.Flags().StringVar(&opts.store, "store", "", "break store (default: the config's store:, else breaks.duckdb in the runs folder)")
	cmd.Flags().BoolVar(&opts.dryRun, "dry-run", false, "check and report, save nothing")
	return cmd
}

func reviewImport(cmd *cobra.Command, opts *reviewOptions, path string) error {
	runsDir, storePath := opts.runs, opts.store
	if opts.config != "" {
		cfg, err := loadConfig(opts.config)
		if err != nil {
			return err
		}
		if runsDir == "" {
			runsDir = cfg.Path(cfg.Runs)
		}
		if storePath == "" && cfg.Store != "" {
			storePath = cfg.Path(cfg.Store)
		}
	}
	if runsDir == "" {
		return usageError{errors.New("no runs folder: pass --runs or --config")}
	}
	if storePath == "" {
		storePath = filepath.Join(runsDir, defaultStore)
	}
	if _, err := os.Stat(path); err != nil {
		return fail.ConfigErr(fmt.Errorf("review import: %w", err))
	}
	rv, runDir, err := readReview(cmd, runsDir, path)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	changed := rv.Changed()
	fmt.Fprintf(w, "review %s (run %s): %d rows read, %d changed, %d refused\n", path, rv.RunID, len(rv.Edits), len(changed), len(rv.Refusals))
	for _, e := range changed {
		fmt.Fprintf(w, "  changed %s!%d break %s: status %s, owner %q, comment %q\n", e.Sheet, e.Row, e.BreakID, e.Status, e.Owner, e.Comment)
	}
	for _, r := range rv.Refusals {
		fmt.Fprintf(w, "  refused %s\n", r)
	}
	if opts.dryRun {
		fmt.Fprintln(w, "  dry run: nothing saved")
	} else if len(changed) > 0 {
		st, err := store.Open(cmd.Context(), storePath)
		if err != nil {
			return fail.SourceErr(err)
		}
		defer st.Close()
		edits := make([]store.Edit, len(changed))
		for i, e := range changed {
			edits[i] = store.Edit{BreakID: e.BreakID, Status: e.Status, Owner: e.Owner, Comment: e.Comment}
		}
		n, err := st.SaveReviews(cmd.Context(), edits, rv.RunID, filepath.Base(path))
		if err != nil {
			return fail.SourceErr(err)
		}
		fmt.Fprintf(w, "  saved %d reviews in %s; the next run carries them (run %s is unchanged)\n", n, storePath, filepath.Base(runDir))
	}
	if len(rv.Refusals) > 0 {
		return errFindings
	}
	return nil
}

// readReview reads the workbook against the latest run of the folder, or,
// for a workbook of an earlier run (accountants review yesterday's), that
// run.
func readReview(cmd *cobra.Command, runsDir, path string) (*report.Review, string, error) {
	dir, err := run.Resolve(runsDir)
	if err != nil {
		return nil, "", fail.ConfigErr(err)
	}
	for attempt := 0; ; attempt++ {
		m, err := run.ReadManifest(dir)
		if err != nil {
			return nil, "", fail.ConfigErr(err)
		}
		orig, err := report.RunBreaks(cmd.Context(), dir)
		if err != nil {
			return nil, "", fail.ConfigErr(err)
		}
		rv, err := report.ReadReview(cmd.Context(), path, m, orig)
		var other *report.OtherRunError
		if errors.As(err, &other) && attempt == 0 {
			earlier := filepath.Join(runsDir, filepath.Base(other.Got))
			if _, serr := os.Stat(filepath.Join(earlier, run.ManifestJSON)); serr == nil {
				dir = earlier
				continue
			}
			return nil, "", fail.ConfigErr(fmt.Errorf("review import: %w; run %s is not in %s: import it into the runs folder that wrote it", err, other.Got, runsDir))
		}
		if errors.Is(err, zip.ErrFormat) {
			return nil, "", fail.ConfigErr(fmt.Errorf("review import: %s is not an Excel workbook (.xlsx): import the report.xlsx finrecon report wrote, saved as .xlsx", path))
		}
		if err != nil {
			return nil, "", fail.ConfigErr(err)
		}
		return rv, dir, nil
	}
}
