// Package report writes a run's Excel workbook and reads back the review
// accountants make in it.
//
// The workbook has a Summary sheet (the run's identity, counts by recon and
// break type, severity, ageing, amounts at stake by currency, review status,
// match rates, two charts), one sheet per reconciliation streamed break by
// break (rolling over to "<recon> (2)" at Excel's row limit), an About sheet
// that explains every break type and column in plain words, and a hidden
// sheet that ties the workbook to its run. docs/workbook.md describes it.
//
// The package only reads a run directory written by match. It does not
// match or re-age breaks; past Options.MaxBreaks it keeps those with the
// largest amounts at stake, and breaks.csv stays the complete list. It
// writes nothing but the workbook: ReadReview returns the edits and the
// caller stores them. Amounts stay exact on the way out and back: they are
// written as the decimal's own digits, never through float64 (see rows.go),
// and compared as decimals.
package report

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// Options for writing a run's workbook.
type Options struct {
	RunDir string // a run directory written by match
	Out    string // output path; default <RunDir>/report.xlsx
	// MaxRowsPerSheet is the number of rows, header included, a recon sheet
	// holds before the next one starts. 0 means Excel's limit (1,048,576).
	MaxRowsPerSheet int
	// MaxBreaks is the most breaks the workbook holds across all its
	// sheets; 0 means DefaultMaxBreaks. Past it the workbook holds the
	// breaks with the largest amounts at stake, and its Summary says so and
	// points to breaks.csv, which always has every break.
	MaxBreaks int64
}

// Result describes a written workbook.
type Result struct {
	Path   string   // the workbook written
	Breaks int64    // breaks written to the workbook
	Total  int64    // breaks in the run; more than Breaks past Options.MaxBreaks
	Sheets []string // sheet names, in order, the hidden identity sheet included
}

// Names of the workbook's fixed sheets. The recon sheets come between
// Summary and About.
const (
	SummarySheet = "Summary"
	AboutSheet   = "About"
)

// Write writes the workbook of the run in opts.RunDir. The workbook appears
// atomically: a failure leaves no partial file at opts.Out.
func Write(ctx context.Context, opts Options) (*Result, error) {
	res, err := write(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	return res, nil
}

// runInfo is what a workbook needs from the run besides its breaks.
type runInfo struct {
	man  *run.Manifest
	sum  *run.Summary
	asOf time.Time
}

func readRunInfo(dir string) (*runInfo, error) {
	man, err := run.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	sum, err := run.ReadSummary(dir)
	if err != nil {
		return nil, err
	}
	if sum.RunID != man.RunID {
		return nil, fmt.Errorf("%s names run %q but %s names %q", run.SummaryJSON, sum.RunID, run.ManifestJSON, man.RunID)
	}
	asOf, err := time.Parse(time.DateOnly, sum.AsOf)
	if err != nil {
		return nil, fmt.Errorf("%s: as_of %q is not a YYYY-MM-DD date", filepath.Join(dir, run.SummaryJSON), sum.AsOf)
	}
	return &runInfo{man: man, sum: sum, asOf: asOf}, nil
}

func write(ctx context.Context, opts Options) (*Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	info, err := readRunInfo(opts.RunDir)
	if err != nil {
		return nil, err
	}
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	sel, err := selectBreaks(ctx, db, opts.RunDir, opts.MaxBreaks)
	if err != nil {
		return nil, err
	}

	wb, err := newWorkbook(opts, info)
	if err != nil {
		return nil, err
	}
	defer wb.close()
	if err := wb.fill(ctx, db, opts.RunDir, info, sel); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := save(wb.f, opts.Out, wb.rw.spools); err != nil {
		return nil, err
	}
	return &Result{Path: opts.Out, Breaks: wb.rw.total, Total: sel.total, Sheets: wb.f.GetSheetList()}, nil
}

// workbook is a workbook being written.
type workbook struct {
	f    *excelize.File
	st   *styles
	cols []column
	rw   *reconWriter
}

// newWorkbook starts a workbook with the sheets before the recon sheets;
// the caller closes it.
func newWorkbook(opts Options, info *runInfo) (*workbook, error) {
	f := excelize.NewFile()
	wb := &workbook{f: f}
	err := prepareSheets(f)
	if err == nil {
		wb.st, err = newStyles(f)
	}
	if err == nil {
		wb.cols, err = sheetColumns()
	}
	if err == nil {
		names := newSheetNames(SummarySheet, AboutSheet, IdentitySheet)
		wb.rw, err = newReconWriter(f, wb.st, names, wb.cols, opts.MaxRowsPerSheet, reconsOf(info.sum), filepath.Dir(opts.Out))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return wb, nil
}

// fill streams the breaks into the recon sheets, then writes the sheets
// that sum them up or describe them.
func (wb *workbook) fill(ctx context.Context, db *sql.DB, dir string, info *runInfo, sel *selection) error {
	t := newTally()
	if err := writeBreaks(ctx, db, dir, sel, t, wb.rw); err != nil {
		return err
	}
	if err := writeSummary(wb.f, wb.st, &summaryData{man: info.man, sum: info.sum, asOf: info.asOf, tally: t, sel: sel}); err != nil {
		return err
	}
	if err := writeAbout(wb.f, wb.st, wb.cols, t.customTypes()); err != nil {
		return err
	}
	if err := writeIdentity(wb.f, newIdentity(info.man, wb.rw.sheets)); err != nil {
		return err
	}
	return setDocProps(wb.f, info.sum, info.asOf)
}

// close removes the row spools and releases excelize's temporary files.
func (wb *workbook) close() {
	wb.rw.removeSpools()
	wb.f.Close()
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
	if o.MaxBreaks == 0 {
		o.MaxBreaks = DefaultMaxBreaks
	}
	if o.MaxBreaks < 0 {
		return o, fmt.Errorf("max breaks %d: want a positive number", o.MaxBreaks)
	}
	return o, nil
}

// ctxCheckEvery is how many breaks stream between checks for cancellation.
const ctxCheckEvery = 4096

// writeBreaks streams every break of the run past the tally, and those the
// selection keeps into the recon sheets, in one pass in file order.
func writeBreaks(ctx context.Context, db *sql.DB, dir string, sel *selection, t *tally, rw *reconWriter) error {
	var n int
	err := run.EachBreak(ctx, db, dir, "", func(b *run.Break) error {
		if n++; n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		t.add(b)
		if !sel.keep(b) {
			return nil
		}
		return rw.add(b)
	})
	if err != nil {
		return err
	}
	return rw.close()
}

// reconsOf returns the recons summary.json names, sorted.
func reconsOf(sum *run.Summary) []string {
	recons := make(map[string]bool, len(sum.Recons))
	for _, r := range sum.Recons {
		recons[r.Recon] = true
	}
	return sortedKeys(recons)
}

// prepareSheets creates the sheets that precede the recon sheets, and makes
// Summary the active sheet and the identity sheet hidden, all before any
// sheet is streamed: excelize's SetActiveSheet and SetSheetVisible read
// every worksheet of the file, and reading a streamed one parses its whole
// XML into memory (seconds and gigabytes for a million rows). The hidden
// identity sheet thus sits second; a reader never sees it among the tabs.
func prepareSheets(f *excelize.File) error {
	if err := f.SetSheetName(f.GetSheetName(0), SummarySheet); err != nil {
		return err
	}
	if _, err := f.NewSheet(IdentitySheet); err != nil {
		return err
	}
	if err := f.SetSheetVisible(IdentitySheet, false); err != nil {
		return fmt.Errorf("sheet %s: %w", IdentitySheet, err)
	}
	f.SetActiveSheet(0)
	return nil
}

// setDocProps fixes the document properties, which excelize would otherwise
// leave at its template's values, to the run's as-of date so the same run
// gives the same workbook.
func setDocProps(f *excelize.File, sum *run.Summary, asOf time.Time) error {
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

// emptyOnly is an io.Writer that accepts nothing but empty writes.
type emptyOnly struct{}

func (emptyOnly) Write(p []byte) (int, error) {
	if len(p) > 0 {
		return 0, errors.New("excelize wrote workbook bytes outside the package writer")
	}
	return 0, nil
}

// save writes the workbook to a temporary file next to path and renames it
// into place, so a reader never sees a partial report. rows holds the rows
// of the recon sheets by worksheet part name, for the package writer.
func save(f *excelize.File, path string, rows map[string]*rowSpool) (err error) {
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
	out := bufio.NewWriterSize(tmp, 1<<20)
	zw := newPackageWriter(dir, rows, out)
	defer zw.removeSpool()
	f.SetZipWriter(zw.bind)
	// The archive goes to out through zw; what excelize writes itself is its
	// buffer, which zw left empty.
	if err := f.Write(emptyOnly{}); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := out.Flush(); err != nil {
		return err
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
