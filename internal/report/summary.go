package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/run"
)

// Summary sheet layout: column A holds labels and recon names; the tables
// spread to the right of it. The two charts sit side by side between the
// run's identity and the tables, in chartRows reserved rows.
const (
	summaryLabelWidth = 26
	summaryValueWidth = 14
	summaryCols       = 30 // columns given summaryValueWidth
	chartRows         = 17
	chartWidth        = 520
	chartHeight       = 320
	secondChartCol    = "F"
)

// exactNumber is a number given as its exact decimal digits; it is written
// as a numeric cell without passing through float64.
type exactNumber string

// summaryData is everything the Summary sheet shows.
type summaryData struct {
	man   *run.Manifest
	sum   *run.Summary
	asOf  time.Time
	tally *tally
	sel   *selection
}

// summarySheet writes the Summary sheet top to bottom with the normal
// (non-stream) excelize API: it is small, whatever the number of breaks.
type summarySheet struct {
	f      *excelize.File
	st     *styles
	recons map[string]*reconTally
	row    int // last row written
}

// matrix locates a table written on the Summary sheet, for a chart: the
// header row, the data rows (totals excluded) and the data columns.
type matrix struct {
	header            int
	firstRow, lastRow int
	firstCol, lastCol int
	title             string
}

func writeSummary(f *excelize.File, st *styles, d *summaryData) error {
	if err := summaryWidths(f); err != nil {
		return err
	}
	s := &summarySheet{f: f, st: st, recons: d.tally.recons}
	if err := s.write(d); err != nil {
		return fmt.Errorf("%s sheet: %w", SummarySheet, err)
	}
	return nil
}

func summaryWidths(f *excelize.File) error {
	last, _ := excelize.ColumnNumberToName(summaryCols)
	if err := f.SetColWidth(SummarySheet, "A", "A", summaryLabelWidth); err != nil {
		return err
	}
	return f.SetColWidth(SummarySheet, "B", last, summaryValueWidth)
}

func (s *summarySheet) write(d *summaryData) error {
	if err := s.identity(d); err != nil {
		return err
	}
	chartTop := s.row + 2
	s.row += chartRows + 1
	recons := d.tally.reconNames(d.sum)
	byType, err := s.countMatrix("Breaks by type", d.tally.typeNames(), recons,
		func(r *reconTally, k string) int64 { return r.byType[k] }, nil)
	if err != nil {
		return err
	}
	_, err = s.countMatrix("Breaks by severity", d.tally.severityNames(), recons,
		func(r *reconTally, k string) int64 { return r.bySeverity[k] }, func(k string) int { return s.st.severity[k] })
	if err != nil {
		return err
	}
	ageing, err := s.ageing(recons)
	if err != nil {
		return err
	}
	if err := s.stakes(d.tally, recons); err != nil {
		return err
	}
	_, err = s.countMatrix("Review status", d.tally.statusNames(), recons,
		func(r *reconTally, k string) int64 { return r.byStatus[k] }, nil)
	if err != nil {
		return err
	}
	if err := s.matching(d.sum); err != nil {
		return err
	}
	return s.charts(chartTop, d.tally, byType, ageing)
}

// identity writes the title, what identifies the run, and how much of it
// the workbook holds.
func (s *summarySheet) identity(d *summaryData) error {
	if err := s.add(s.st.title, "Break report"); err != nil {
		return err
	}
	s.row++
	fields := []struct {
		label string
		value any
		style int
	}{
		{"Run", d.man.RunID, 0},
		{"Snapshot", d.man.SnapshotID, 0},
		{"As of", d.asOf, s.st.date},
		{"Rules hash", d.man.RulesHash, 0},
		{"Tool version", d.man.ToolVersion, 0},
		{"Fail on", d.sum.FailOn, 0},
		{"Breaks", d.sum.Breaks, 0},
		{"Failing", d.sum.Failing, 0},
		{"In this workbook", contents(d.sel), 0},
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

// contents says which breaks the workbook holds.
func contents(sel *selection) string {
	if !sel.truncated() {
		return fmt.Sprintf("all %s breaks of the run", thousands(sel.total))
	}
	return fmt.Sprintf("the %s breaks with the largest amounts at stake, of %s: every break is in %s in the run folder. "+
		"The counts and totals below cover all of them.", thousands(sel.kept()), thousands(sel.total), run.BreaksCSV)
}

// countMatrix writes a section: one row per recon, one column per key, a
// total column and a total row. keyStyle, when set, styles each key's header.
func (s *summarySheet) countMatrix(title string, keys, recons []string, count func(*reconTally, string) int64, keyStyle func(string) int) (matrix, error) {
	m, err := s.matrixHeader(title, "Recon", keys, keyStyle)
	if err != nil {
		return m, err
	}
	totals := make([]int64, len(keys)+1)
	for _, recon := range recons {
		values := []any{recon}
		var sum int64
		for i, k := range keys {
			n := s.count(recon, k, count)
			values = append(values, n)
			totals[i] += n
			sum += n
		}
		totals[len(keys)] += sum
		if err := s.add(0, append(values, sum)...); err != nil {
			return m, err
		}
	}
	m.lastRow = s.row
	total := []any{"Total"}
	for _, n := range totals {
		total = append(total, n)
	}
	return m, s.add(s.st.bold, total...)
}

// count is count(recon's tally, key), 0 for a recon without breaks.
func (s *summarySheet) count(recon, key string, count func(*reconTally, string) int64) int64 {
	if r := s.tally(recon); r != nil {
		return count(r, key)
	}
	return 0
}

// matrixHeader writes a section title and a table header: corner, the
// keys, Total.
func (s *summarySheet) matrixHeader(title, corner string, keys []string, keyStyle func(string) int) (matrix, error) {
	if err := s.section(title); err != nil {
		return matrix{}, err
	}
	if err := s.header(append(append([]string{corner}, keys...), "Total")); err != nil {
		return matrix{}, err
	}
	for i, k := range keys {
		if keyStyle == nil || keyStyle(k) == 0 {
			continue
		}
		if err := s.style(i+2, keyStyle(k)); err != nil {
			return matrix{}, err
		}
	}
	return matrix{title: title, header: s.row, firstRow: s.row + 1, firstCol: 2, lastCol: len(keys) + 1}, nil
}

// ageing writes the ageing buckets per recon.
func (s *summarySheet) ageing(recons []string) (matrix, error) {
	labels := make([]string, len(ageBuckets))
	index := map[string]int{}
	for i, b := range ageBuckets {
		labels[i] = b.label
		index[b.label] = i
	}
	m, err := s.countMatrix("Ageing (days since first seen)", labels, recons,
		func(r *reconTally, k string) int64 { return r.byAge[index[k]] }, nil)
	if err != nil {
		return m, err
	}
	return m, s.note("90+ is more than 90 days. Age is counted from the first run that reported the break to this run's as-of date.")
}

// stakes writes the amounts at stake: one row per currency, one column per
// recon and a total. Amounts of different currencies are never added up.
func (s *summarySheet) stakes(t *tally, recons []string) error {
	if err := s.section("Amounts at stake by currency"); err != nil {
		return err
	}
	if err := s.header(append(append([]string{"Currency"}, recons...), "Total")); err != nil {
		return err
	}
	for _, cur := range sortedKeys(t.currencies) {
		style, err := s.st.forMoney(cur)
		if err != nil {
			return err
		}
		if err := s.add(0, cur); err != nil {
			return err
		}
		var total decimal.Decimal
		for i, recon := range recons {
			r := s.tally(recon)
			if r == nil {
				continue
			}
			amt, ok := r.stake[cur]
			if !ok {
				continue
			}
			total = total.Add(amt)
			if err := s.set(i+2, exactNumber(amt.String()), style); err != nil {
				return err
			}
		}
		if err := s.set(len(recons)+2, exactNumber(total.String()), style); err != nil {
			return err
		}
	}
	return s.note("Amount at stake: the absolute difference of a break; for a break without a difference " +
		"(unmatched, duplicate, …) the absolute amount of its left side, else of its right side. " +
		"Breaks without any amount are not counted.")
}

var reconHeader = []string{"Recon", "Left", "Right", "Left rows", "Right rows",
	"Left matched", "Right matched", "Pairs", "Match rate"}

// matching writes one row per reconciliation from summary.json: its
// datasets, rows, pairs and match rate (empty when it has no left rows).
func (s *summarySheet) matching(sum *run.Summary) error {
	if err := s.section("Matching"); err != nil {
		return err
	}
	if err := s.header(reconHeader); err != nil {
		return err
	}
	recons := slices.Clone(sum.Recons)
	slices.SortFunc(recons, func(a, b run.ReconSummary) int { return strings.Compare(a.Recon, b.Recon) })
	for _, r := range recons {
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
	return s.note("Match rate: matched left rows over left rows.")
}

// charts draws breaks by type and the ageing buckets as stacked columns,
// one series per recon, from the cells of the two tables.
func (s *summarySheet) charts(top int, t *tally, byType, ageing matrix) error {
	if len(t.recons) == 0 {
		s.row = top - 1
		return s.add(0, "No breaks in this run: nothing to chart.")
	}
	if err := s.chart("A"+strconv.Itoa(top), byType); err != nil {
		return err
	}
	return s.chart(secondChartCol+strconv.Itoa(top), ageing)
}

func (s *summarySheet) chart(cell string, m matrix) error {
	categories := absRange(m.firstCol, m.header, m.lastCol, m.header)
	var series []excelize.ChartSeries
	for row := m.firstRow; row <= m.lastRow; row++ {
		series = append(series, excelize.ChartSeries{
			Name:       absRange(1, row, 1, row),
			Categories: categories,
			Values:     absRange(m.firstCol, row, m.lastCol, row),
		})
	}
	chart := &excelize.Chart{
		Type:      excelize.ColStacked,
		Series:    series,
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: m.title}}},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		Dimension: excelize.ChartDimension{Width: chartWidth, Height: chartHeight},
		Format:    excelize.GraphicOptions{AltText: m.title},
	}
	if err := s.f.AddChart(SummarySheet, cell, chart); err != nil {
		return fmt.Errorf("chart %s: %w", m.title, err)
	}
	return nil
}

// absRange is an absolute reference to a range of the Summary sheet, as a
// chart series wants it: Summary!$B$20:$F$20.
func absRange(col1, row1, col2, row2 int) string {
	a, _ := excelize.CoordinatesToCellName(col1, row1, true)
	b, _ := excelize.CoordinatesToCellName(col2, row2, true)
	return SummarySheet + "!" + a + ":" + b
}

// tally returns recon's tally, nil for a recon without breaks.
func (s *summarySheet) tally(recon string) *reconTally { return s.recons[recon] }

// section leaves a blank row and writes a section title.
func (s *summarySheet) section(title string) error {
	s.row++
	return s.add(s.st.section, title)
}

// note writes a line of explanation under a table.
func (s *summarySheet) note(text string) error {
	return s.add(0, text)
}

// header writes a table's header row.
func (s *summarySheet) header(names []string) error {
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

// thousands formats n with comma separators: 1,000,000.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
