// Package report writes a run's break report: an Excel workbook with a
// "Summary" sheet (the run's identity, break counts per reconciliation, type
// and severity, rows and match rates per reconciliation) followed by the
// breaks themselves, streamed into "Breaks" sheets that roll over at Excel's
// row limit.
//
// It only reads a run directory written by match. It does not match, filter,
// re-rank or re-age breaks, and it writes nothing but the workbook. Amounts
// stay exact on the way: they are written as the decimal's own digits, never
// through float64 (see zip.go).
package report

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// Options for writing a run's report.
type Options struct {
	RunDir string // a run directory written by match
	Out    string // output path; default <RunDir>/report.xlsx
	// MaxRowsPerSheet is the number of rows, header included, a Breaks sheet
	// holds before the next one starts. 0 means Excel's limit (1,048,576).
	MaxRowsPerSheet int
}

// Result describes a written report.
type Result struct {
	Path   string   // the workbook written
	Breaks int64    // breaks written
	Sheets []string // sheet names, in order
}

// SummarySheet is the name of the first sheet; BreaksSheet is the name of
// the first breaks sheet; later ones are "Breaks (2)", "Breaks (3)", …
const (
	SummarySheet = "Summary"
	BreaksSheet  = "Breaks"
)

// Write writes the report of the run in opts.RunDir. The workbook appears
// atomically: a failure leaves no partial file at opts.Out.
func Write(ctx context.Context, opts Options) (*Result, error) {
	res, err := write(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	return res, nil
}

func write(ctx context.Context, opts Options) (*Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	sum, err := run.ReadSummary(opts.RunDir)
	if err != nil {
		return nil, err
	}
	asOf, err := time.Parse(time.DateOnly, sum.AsOf)
	if err != nil {
		return nil, fmt.Errorf("%s: as_of %q is not a YYYY-MM-DD date", filepath.Join(opts.RunDir, run.SummaryJSON), sum.AsOf)
	}
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()

	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	if err := writeSummary(f, st, sum, asOf); err != nil {
		return nil, err
	}
	bw, err := writeBreaks(ctx, f, st, db, opts)
	if err != nil {
		return nil, err
	}
	if err := finishWorkbook(f, sum, asOf); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := save(f, opts.Out, st.moneyStyleIDs()); err != nil {
		return nil, err
	}
	return &Result{Path: opts.Out, Breaks: bw.total, Sheets: f.GetSheetList()}, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.RunDir == "" {
		return o, fmt.Errorf("no run directory given")
	}
	if fi, err := os.Stat(o.RunDir); err != nil {
		return o, fmt.Errorf("run directory: %w", err)
	} else if !fi.IsDir() {
		return o, fmt.Errorf("run directory %s is not a directory", o.RunDir)
	}
	if o.Out == "" {
		o.Out = filepath.Join(o.RunDir, run.ReportXLSX)
	}
	if o.MaxRowsPerSheet == 0 {
		o.MaxRowsPerSheet = excelize.TotalRows
	}
	if o.MaxRowsPerSheet < 2 || o.MaxRowsPerSheet > excelize.TotalRows {
		return o, fmt.Errorf("max rows per sheet %d: want 2 to %d (a header and at least one break)", o.MaxRowsPerSheet, excelize.TotalRows)
	}
	return o, nil
}

// writeBreaks streams every break of the run into Breaks sheets.
func writeBreaks(ctx context.Context, f *excelize.File, st *styles, db *sql.DB, opts Options) (*breaksWriter, error) {
	bw, err := newBreaksWriter(f, st, opts.MaxRowsPerSheet)
	if err != nil {
		return nil, err
	}
	if err := run.EachBreak(ctx, db, opts.RunDir, "", bw.add); err != nil {
		return nil, err
	}
	if err := bw.close(); err != nil {
		return nil, err
	}
	return bw, nil
}

// finishWorkbook makes Summary the active sheet and fixes the document
// properties, which excelize would otherwise leave at its template's values,
// to the run's as-of date so the same run gives the same workbook.
func finishWorkbook(f *excelize.File, sum *run.Summary, asOf time.Time) error {
	idx, err := f.GetSheetIndex(SummarySheet)
	if err != nil {
		return err
	}
	f.SetActiveSheet(idx)
	stamp := asOf.UTC().Format(time.RFC3339)
	return f.SetDocProps(&excelize.DocProperties{
		Title:          "finrecon break report",
		Subject:        "run " + sum.RunID,
		Identifier:     sum.RunID,
		Creator:        "finrecon",
		LastModifiedBy: "finrecon",
		Created:        stamp,
		Modified:       stamp,
	})
}

// save writes the workbook to a temporary file next to path and renames it
// into place, so a reader never sees a partial report.
func save(f *excelize.File, path string, money map[string]bool) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw := newPackageWriter(dir, money)
	defer zw.removeSpool()
	f.SetZipWriter(zw.bind)
	if err := f.Write(tmp); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
