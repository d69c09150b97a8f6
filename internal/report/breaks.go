package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/run"
)

// sheetInfo describes one recon sheet as written.
type sheetInfo struct {
	name  string
	recon string
	part  int   // 1 for a recon's first sheet, 2 for "<recon> (2)", …
	rows  int64 // breaks on the sheet
}

// reconWriter streams breaks, which arrive grouped by recon, into one sheet
// per recon, rolling over to "<recon> (2)", … when a sheet is full. excelize
// writes each sheet's frame; the rows go through rowEncoder into a
// compressed spool per sheet (spool.go), which the package writer splices
// into the frame (rows.go, zip.go). Only one sheet is open at a time and
// rows go straight to disk, so memory does not grow with the number of
// breaks.
type reconWriter struct {
	f         *excelize.File
	st        *styles
	names     *sheetNames
	cols      []column
	enc       *rowEncoder
	header    []any
	lastCol   string // letter of the last column, e.g. "AB"
	statusCol string // letter of the status column
	maxRows   int
	spoolDir  string // where the row spools go

	// pending holds the run's recons (from summary.json, sorted) that have
	// no sheet yet: a recon without breaks still gets an empty sheet, in
	// its place among the others.
	pending []string
	started map[string]bool
	sw      *excelize.StreamWriter // the current sheet's frame
	rows    *rowSpool              // the current sheet's rows
	row     int                    // last row written on the current sheet
	sheets  []sheetInfo
	spools  map[string]*rowSpool // rows by worksheet part name
	total   int64                // breaks written
}

func newReconWriter(f *excelize.File, st *styles, names *sheetNames, cols []column, maxRows int, recons []string, spoolDir string) (*reconWriter, error) {
	w := &reconWriter{
		f: f, st: st, names: names, cols: cols, enc: newRowEncoder(cols, st), maxRows: maxRows, spoolDir: spoolDir,
		pending: recons, started: map[string]bool{}, spools: map[string]*rowSpool{},
	}
	w.header = make([]any, len(cols))
	for i, c := range cols {
		style := st.header
		if c.kind == reviewKind {
			style = st.editableHeader
		}
		w.header[i] = excelize.Cell{StyleID: style, Value: c.name}
		if c.name == statusColumn {
			w.statusCol, _ = excelize.ColumnNumberToName(i + 1)
		}
	}
	var err error
	if w.lastCol, err = excelize.ColumnNumberToName(len(cols)); err != nil {
		return nil, err
	}
	return w, nil
}

// add writes one break, starting its recon's sheet, or the next one when the
// current sheet is full.
func (w *reconWriter) add(b *run.Break) error {
	switch {
	case w.sw == nil || b.Recon != w.current().recon:
		if err := w.startRecon(b.Recon); err != nil {
			return err
		}
	case w.row >= w.maxRows:
		if err := w.startSheet(b.Recon, w.current().part+1); err != nil {
			return err
		}
	}
	w.row++
	var err error
	if w.rows.cur, err = w.enc.appendRow(w.rows.cur, w.row, b); err != nil {
		return fmt.Errorf("sheet %s: break %s: %w", w.sw.Sheet, b.ID, err)
	}
	w.rows.filled()
	w.current().rows++
	w.total++
	return nil
}

func (w *reconWriter) current() *sheetInfo { return &w.sheets[len(w.sheets)-1] }

// startRecon starts recon's first sheet, after the empty sheets of the
// recons without breaks that sort before it.
func (w *reconWriter) startRecon(recon string) error {
	if w.started[recon] || (w.sw != nil && recon < w.current().recon) {
		return fmt.Errorf("breaks of recon %q come after those of %q: %s must be sorted by recon, break_type, break_id",
			recon, w.current().recon, run.BreaksParquet)
	}
	for len(w.pending) > 0 && w.pending[0] <= recon {
		if w.pending[0] != recon {
			if err := w.startSheet(w.pending[0], 1); err != nil {
				return err
			}
		}
		w.pending = w.pending[1:]
	}
	return w.startSheet(recon, 1)
}

// close finishes the last sheet and gives the remaining recons without
// breaks their empty sheets.
func (w *reconWriter) close() error {
	for _, recon := range w.pending {
		if err := w.startSheet(recon, 1); err != nil {
			return err
		}
	}
	w.pending = nil
	if w.sw == nil {
		return nil
	}
	return w.finishSheet()
}

// startSheet finishes the current sheet, if any, and starts part of recon's
// sheets with its column widths, frozen header row and header.
func (w *reconWriter) startSheet(recon string, part int) error {
	if w.sw != nil {
		if err := w.finishSheet(); err != nil {
			return err
		}
	}
	w.started[recon] = true
	name := w.names.sheet(recon, part)
	if _, err := w.f.NewSheet(name); err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	sw, err := w.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	for i, c := range w.cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return fmt.Errorf("sheet %s: %w", name, err)
		}
	}
	panes := &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}
	if err := sw.SetPanes(panes); err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	if err := sw.SetRow("A1", w.header); err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	spool, err := newRowSpool(w.spoolDir)
	if err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	// The part name excelize gives a sheet made by NewSheet.
	w.spools[fmt.Sprintf("xl/worksheets/sheet%d.xml", sw.SheetID)] = spool
	w.sw, w.rows, w.row = sw, spool, 1
	w.sheets = append(w.sheets, sheetInfo{name: name, recon: recon, part: part})
	return nil
}

// finishSheet adds the table (and with it the filter buttons) and the status
// drop-down over the rows written, then flushes the sheet. Both must come
// before Flush: the stream writer writes the sheet's trailing parts from
// what is set by then, and an autofilter set after it is silently lost.
func (w *reconWriter) finishSheet() error {
	name := w.sw.Sheet
	if err := w.rows.finish(); err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	last := max(w.row, 2) // a table needs a row below its header
	table := &excelize.Table{
		Range:     "A1:" + w.lastCol + strconv.Itoa(last),
		Name:      w.names.table(name),
		StyleName: "TableStyleLight1",
	}
	if err := w.sw.AddTable(table); err != nil {
		return fmt.Errorf("sheet %s: table: %w", name, err)
	}
	if err := w.addStatusList(name, last); err != nil {
		return fmt.Errorf("sheet %s: status list: %w", name, err)
	}
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("sheet %s: %w", name, err)
	}
	w.sw = nil
	return nil
}

// removeSpools deletes the row spools; the caller defers it.
func (w *reconWriter) removeSpools() error {
	var errs []error
	for _, s := range w.spools {
		errs = append(errs, s.remove())
	}
	w.spools = nil
	return errors.Join(errs...)
}

// addStatusList puts the drop-down of review statuses on the status cells;
// Excel then refuses anything else typed there. Pasted values bypass it,
// which is why ReadReview checks the status again.
func (w *reconWriter) addStatusList(sheet string, last int) error {
	dv := excelize.NewDataValidation(true)
	dv.Sqref = w.statusCol + "2:" + w.statusCol + strconv.Itoa(last)
	if err := dv.SetDropList(ReviewStatuses); err != nil {
		return err
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, "Review status",
		"Pick one of: "+strings.Join(ReviewStatuses, ", ")+".")
	return w.f.AddDataValidation(sheet, dv)
}
