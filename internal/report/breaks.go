package report

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/run"
)

// extraColumns follow model.BreakColumns on a Breaks sheet: they trace a
// break back to its partner and source records.
var extraColumns = []string{"partner_name", "left_origin", "right_origin", "fix_in"}

// breakColumn is one column of a Breaks sheet. cell returns what a break puts
// in it: nil (an empty cell), a string, an int64, or an excelize.Cell.
type breakColumn struct {
	name  string
	width float64
	cell  func(b *run.Break, st *styles) (any, error)
}

// breakCells knows how to fill every column a Breaks sheet may have, by name,
// so that the header and the cells cannot drift apart.
var breakCells = map[string]breakColumn{
	"break_id":     textColumn(26, func(b *run.Break) string { return b.ID }),
	"recon":        textColumn(18, func(b *run.Break) string { return b.Recon }),
	"pass":         textColumn(14, func(b *run.Break) string { return b.Pass }),
	"break_type":   textColumn(18, func(b *run.Break) string { return b.Type }),
	"severity":     {width: 10, cell: severityCell},
	"side":         textColumn(7, func(b *run.Break) string { return b.Side }),
	"left_system":  textColumn(18, func(b *run.Break) string { return b.LeftSystem }),
	"left_id":      textColumn(18, func(b *run.Break) string { return b.LeftID }),
	"right_system": textColumn(18, func(b *run.Break) string { return b.RightSystem }),
	"right_id":     textColumn(18, func(b *run.Break) string { return b.RightID }),
	"partner_id":   textColumn(14, func(b *run.Break) string { return b.PartnerID }),
	"legal_entity": textColumn(12, func(b *run.Break) string { return b.LegalEntity }),
	"currency":     textColumn(9, func(b *run.Break) string { return b.Currency }),
	"left_amount":  moneyColumn(func(b *run.Break) decimal.NullDecimal { return b.LeftAmount }),
	"right_amount": moneyColumn(func(b *run.Break) decimal.NullDecimal { return b.RightAmount }),
	"difference":   moneyColumn(func(b *run.Break) decimal.NullDecimal { return b.Difference }),
	"first_seen":   {width: 12, cell: firstSeenCell},
	"age_days":     {width: 9, cell: func(b *run.Break, _ *styles) (any, error) { return b.AgeDays, nil }},
	"detail":       textColumn(50, func(b *run.Break) string { return b.Detail }),
	"partner_name": textColumn(30, func(b *run.Break) string { return b.PartnerName }),
	"left_origin":  textColumn(28, func(b *run.Break) string { return b.LeftOrigin }),
	"right_origin": textColumn(28, func(b *run.Break) string { return b.RightOrigin }),
	"fix_in":       textColumn(18, func(b *run.Break) string { return b.FixIn }),
}

// breakSheetColumns returns the columns of a Breaks sheet, in order.
func breakSheetColumns() ([]breakColumn, error) {
	names := append(append([]string(nil), model.BreakColumns...), extraColumns...)
	cols := make([]breakColumn, len(names))
	for i, name := range names {
		c, ok := breakCells[name]
		if !ok {
			return nil, fmt.Errorf("no cell writer for break column %q", name)
		}
		c.name = name
		cols[i] = c
	}
	return cols, nil
}

func textColumn(width float64, get func(*run.Break) string) breakColumn {
	return breakColumn{width: width, cell: func(b *run.Break, _ *styles) (any, error) {
		if s := get(b); s != "" {
			return s, nil
		}
		return nil, nil
	}}
}

// moneyColumn writes an amount as its exact decimal digits with the style of
// the break's currency. The stream writer can only emit those digits as an
// inline string; the package writer (zip.go) turns every cell with a money
// style into a numeric one on the way into the file.
func moneyColumn(get func(*run.Break) decimal.NullDecimal) breakColumn {
	return breakColumn{width: 16, cell: func(b *run.Break, st *styles) (any, error) {
		d := get(b)
		if !d.Valid {
			return nil, nil
		}
		style, err := st.forMoney(b.Currency)
		if err != nil {
			return nil, err
		}
		return excelize.Cell{StyleID: style, Value: d.Decimal.String()}, nil
	}}
}

func severityCell(b *run.Break, st *styles) (any, error) {
	return excelize.Cell{StyleID: st.severity[b.Severity], Value: b.Severity}, nil
}

func firstSeenCell(b *run.Break, st *styles) (any, error) {
	if b.FirstSeen.IsZero() {
		return nil, nil
	}
	return excelize.Cell{StyleID: st.date, Value: b.FirstSeen}, nil
}

// breaksWriter streams breaks into "Breaks", "Breaks (2)", … sheets, each
// holding at most maxRows rows including its header.
type breaksWriter struct {
	f       *excelize.File
	st      *styles
	cols    []breakColumn
	header  []any
	lastCol string // column name of the last column, e.g. "V"
	maxRows int

	sheets int                    // Breaks sheets started
	sw     *excelize.StreamWriter // the current sheet's writer
	row    int                    // last row written on the current sheet
	values []any                  // reused for every row
	total  int64                  // breaks written
}

func newBreaksWriter(f *excelize.File, st *styles, maxRows int) (*breaksWriter, error) {
	cols, err := breakSheetColumns()
	if err != nil {
		return nil, err
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = excelize.Cell{StyleID: st.bold, Value: c.name}
	}
	lastCol, err := excelize.ColumnNumberToName(len(cols))
	if err != nil {
		return nil, err
	}
	return &breaksWriter{
		f: f, st: st, cols: cols, header: header, lastCol: lastCol,
		maxRows: maxRows, values: make([]any, len(cols)),
	}, nil
}

// add writes one break, starting a new sheet when the current one is full.
func (w *breaksWriter) add(b *run.Break) error {
	if w.sw == nil || w.row >= w.maxRows {
		if err := w.nextSheet(); err != nil {
			return err
		}
	}
	for i, c := range w.cols {
		v, err := c.cell(b, w.st)
		if err != nil {
			return fmt.Errorf("break %s: %s: %w", b.ID, c.name, err)
		}
		w.values[i] = v
	}
	w.row++
	if err := w.sw.SetRow("A"+strconv.Itoa(w.row), w.values); err != nil {
		return fmt.Errorf("%s: break %s: %w", w.sw.Sheet, b.ID, err)
	}
	w.total++
	return nil
}

// close finishes the last sheet; a run without breaks still gets an empty
// Breaks sheet with its header.
func (w *breaksWriter) close() error {
	if w.sw == nil {
		if err := w.nextSheet(); err != nil {
			return err
		}
	}
	return w.finishSheet()
}

// nextSheet finishes the current sheet, if any, and starts the next one with
// its column widths, frozen header row and header.
func (w *breaksWriter) nextSheet() error {
	if w.sw != nil {
		if err := w.finishSheet(); err != nil {
			return err
		}
	}
	w.sheets++
	name := breaksSheetName(w.sheets)
	if _, err := w.f.NewSheet(name); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	sw, err := w.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for i, c := range w.cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	panes := &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}
	if err := sw.SetPanes(panes); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := sw.SetRow("A1", w.header); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	w.sw, w.row = sw, 1
	return nil
}

// finishSheet adds the table (and with it the autofilter) over the rows
// written and flushes the sheet. The table must come before Flush: an
// autofilter set after it is silently lost.
func (w *breaksWriter) finishSheet() error {
	last := max(w.row, 2) // a table needs a row below its header
	table := &excelize.Table{
		Range:     "A1:" + w.lastCol + strconv.Itoa(last),
		Name:      breaksTableName(w.sheets),
		StyleName: "TableStyleLight9",
	}
	if err := w.sw.AddTable(table); err != nil {
		return fmt.Errorf("%s: table: %w", w.sw.Sheet, err)
	}
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", w.sw.Sheet, err)
	}
	return nil
}

// breaksSheetName is the name of the n-th Breaks sheet, counting from 1.
func breaksSheetName(n int) string {
	if n == 1 {
		return BreaksSheet
	}
	return fmt.Sprintf("%s (%d)", BreaksSheet, n)
}

// breaksTableName names the n-th sheet's table; table names cannot hold
// spaces or parentheses.
func breaksTableName(n int) string {
	if n == 1 {
		return BreaksSheet
	}
	return fmt.Sprintf("%s_%d", BreaksSheet, n)
}
