package report

import (
	"fmt"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/run"
)

// Widths of the Summary sheet's columns A to I.
var summaryWidths = []float64{24, 24, 24, 13, 13, 13, 13, 13, 12}

var (
	breakCountHeader = []string{"Recon", "Break type", "Severity", "Count"}
	reconHeader      = []string{"Recon", "Left", "Right", "Left rows", "Right rows",
		"Left matched", "Right matched", "Pairs", "Match rate"}
)

// exactNumber is a number given as its exact decimal digits; it is written
// as a numeric cell without passing through float64.
type exactNumber string

// summarySheet writes the Summary sheet top to bottom with the normal
// (non-stream) excelize API: it is small.
type summarySheet struct {
	f   *excelize.File
	st  *styles
	row int // last row written
}

func writeSummary(f *excelize.File, st *styles, sum *run.Summary, asOf time.Time) error {
	if err := f.SetSheetName(f.GetSheetName(0), SummarySheet); err != nil {
		return err
	}
	for i, w := range summaryWidths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(SummarySheet, col, col, w); err != nil {
			return err
		}
	}
	s := &summarySheet{f: f, st: st}
	err := s.identity(sum, asOf)
	if err == nil {
		err = s.breakCounts(sum)
	}
	if err == nil {
		err = s.recons(sum)
	}
	if err != nil {
		return fmt.Errorf("%s sheet: %w", SummarySheet, err)
	}
	return nil
}

// identity writes the title and what identifies the run.
func (s *summarySheet) identity(sum *run.Summary, asOf time.Time) error {
	if err := s.add(s.st.title, "Break report"); err != nil {
		return err
	}
	s.row++
	fields := []struct {
		label string
		value any
		style int
	}{
		{"Run", sum.RunID, 0},
		{"Snapshot", sum.SnapshotID, 0},
		{"As of", asOf, s.st.date},
		{"Rules hash", sum.RulesHash, 0},
		{"Fail on", sum.FailOn, 0},
		{"Breaks", sum.Breaks, 0},
		{"Failing", sum.Failing, 0},
	}
	for _, fl := range fields {
		if err := s.add(s.st.bold, fl.label); err != nil {
			return err
		}
		if err := s.set(2, fl.value, fl.style); err != nil {
			return err
		}
	}
	return nil
}

// breakCounts writes one row per reconciliation, break type and severity.
func (s *summarySheet) breakCounts(sum *run.Summary) error {
	if err := s.header(breakCountHeader); err != nil {
		return err
	}
	for _, r := range sum.Recons {
		for _, c := range r.Breaks {
			if err := s.add(0, r.Recon, c.Type, c.Severity, c.Count); err != nil {
				return err
			}
			if err := s.style(3, s.st.severity[c.Severity]); err != nil {
				return err
			}
		}
	}
	return nil
}

// recons writes one row per reconciliation: its datasets, rows, pairs and
// match rate.
func (s *summarySheet) recons(sum *run.Summary) error {
	if err := s.header(reconHeader); err != nil {
		return err
	}
	for _, r := range sum.Recons {
		if err := s.add(0, r.Recon, r.Left, r.Right, r.LeftRows, r.RightRows,
			r.LeftMatched, r.RightMatched, r.Pairs); err != nil {
			return err
		}
		if r.MatchRate == "" {
			continue // no left rows: no rate
		}
		if !isDecimal([]byte(r.MatchRate)) {
			return fmt.Errorf("recon %s: match_rate %q is not a decimal", r.Recon, r.MatchRate)
		}
		if err := s.set(len(reconHeader), exactNumber(r.MatchRate), s.st.percent); err != nil {
			return err
		}
	}
	return nil
}

// header leaves a blank row and writes a bold header row.
func (s *summarySheet) header(names []string) error {
	s.row++
	values := make([]any, len(names))
	for i, n := range names {
		values[i] = n
	}
	return s.add(s.st.bold, values...)
}

// add writes values from column A of the next row, each with style (0: none).
func (s *summarySheet) add(style int, values ...any) error {
	s.row++
	for i, v := range values {
		if err := s.set(i+1, v, style); err != nil {
			return err
		}
	}
	return nil
}

// set writes v in column col of the current row. The style goes first: a
// date written into an unstyled cell would get a default style of its own.
func (s *summarySheet) set(col int, v any, style int) error {
	cell, err := excelize.CoordinatesToCellName(col, s.row)
	if err != nil {
		return err
	}
	if err := s.style(col, style); err != nil {
		return err
	}
	switch v := v.(type) {
	case exactNumber:
		err = s.f.SetCellDefault(SummarySheet, cell, string(v))
	case string:
		if v == "" {
			return nil
		}
		err = s.f.SetCellStr(SummarySheet, cell, v)
	default:
		err = s.f.SetCellValue(SummarySheet, cell, v)
	}
	return err
}

// style applies style (0: none) to column col of the current row.
func (s *summarySheet) style(col, style int) error {
	if style == 0 {
		return nil
	}
	cell, err := excelize.CoordinatesToCellName(col, s.row)
	if err != nil {
		return err
	}
	return s.f.SetCellStyle(SummarySheet, cell, cell, style)
}
