package main

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/snapshot"
)

func newSnapshotCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Inspect and verify snapshots",
	}
	cmd.AddCommand(newSnapshotVerifyCmd(), newSnapshotShowCmd())
	return cmd
}

func newSnapshotVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify SNAPSHOT",
		Short: "Check that no byte of a snapshot changed since it was published",
		Long: `Verify re-hashes every file of a snapshot against its manifest and checks
that the snapshot id still follows from the content. It names every file
that changed and exits 1 if any did.

` + exitCodesHelp,
		Example: `  finrecon snapshot verify out/demo/snapshots/s-0123456789abcdef0123`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := snapshot.Resolve(args[0])
			if err != nil {
				return fail.ConfigErr(err)
			}
			m, err := snapshot.Verify(dir)
			if errors.Is(err, snapshot.ErrTampered) {
				fmt.Fprintf(cmd.OutOrStdout(), "snapshot %s: CHANGED\n%v\n", dir, err)
				return errFindings
			}
			if err != nil {
				return fail.ConfigErr(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "snapshot %s: ok (%d datasets, every hash matches)\n", m.ID, len(m.Datasets))
			return nil
		},
	}
}

func newSnapshotShowCmd() *cobra.Command {
	var rejects bool
	cmd := &cobra.Command{
		Use:   "show SNAPSHOT",
		Short: "Show a snapshot's datasets, counts and rejected rows",
		Example: `  finrecon snapshot show out/demo/snapshots            # the latest
  finrecon snapshot show --rejects out/demo/snapshots/s-0123456789abcdef0123`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := snapshot.Resolve(args[0])
			if err != nil {
				return fail.ConfigErr(err)
			}
			m, err := snapshot.Open(dir)
			if err != nil {
				return fail.ConfigErr(err)
			}
			printSnapshot(cmd.OutOrStdout(), dir, m)
			if !rejects {
				return nil
			}
			return printRejects(cmd, dir)
		},
	}
	cmd.Flags().BoolVar(&rejects, "rejects", false, "list every rejected row with file, line, column and reason")
	return cmd
}

func printRejects(cmd *cobra.Command, dir string) error {
	db, err := duck.Open(cmd.Context(), duck.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(cmd.Context(), `SELECT file, line, coalesce("column", ''), reason FROM read_parquet(`+
		duck.Quote(filepath.Join(dir, snapshot.RejectsFile))+`) ORDER BY dataset, file, line`)
	if err != nil {
		return fmt.Errorf("read rejects: %w", err)
	}
	defer rows.Close()
	w := cmd.OutOrStdout()
	fmt.Fprintln(w, "rejected rows (file:line: column: reason):")
	for rows.Next() {
		var file, col, reason string
		var line sql.NullInt64
		if err := rows.Scan(&file, &line, &col, &reason); err != nil {
			return err
		}
		if col != "" {
			col += ": "
		}
		fmt.Fprintf(w, "  %s:%d: %s%s\n", file, line.Int64, col, reason)
	}
	return rows.Err()
}
