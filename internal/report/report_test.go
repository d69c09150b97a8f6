package report

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/run"
)

// fixtureBreak is one row of a fixture breaks.parquet, every value as SQL
// text; "" is NULL.
type fixtureBreak struct {
	id, recon, pass, typ, severity, side                    string
	leftSystem, leftID, rightSystem, rightID                string
	partnerID, legalEntity, currency                        string
	leftAmount, rightAmount, difference, firstSeen, ageDays string
	detail, partnerName, leftOrigin, rightOrigin            string
}

// fixtureBreaks are deliberately not in breaks.csv order: the report sorts
// them by recon, break_type, break_id.
var fixtureBreaks = []fixtureBreak{
	{"b-005", "journal_invoices", "", "unbalanced_entry", "critical", "left",
		"erp.journal_lines", "JE-9", "", "", "P3", "LE2", "KWD",
		"-12.3450", "", "-12.3450", "2025-01-02", "29",
		"entry does not balance", "Al Noor Trading", "erp/journal.csv:40", ""},
	{"b-001", "invoices_payments", "exact", "amount_mismatch", "high", "both",
		"billing.invoices", "INV-1", "bank.payments", "PAY-1", "P1", "LE1", "EUR",
		"1234.5000", "1200.0000", "34.5000", "2025-01-10", "21",
		"amount differs by 34.50", `Société "Générale", l'Île`, "billing/invoices.csv:2", "bank/payments.csv:7"},
	{"b-003", "invoices_payments", "", "unmatched", "medium", "left",
		"billing.invoices", "INV-3", "", "", "P1", "LE1", "EUR",
		"99.9900", "", "", "2025-01-30", "1",
		"no payment", `Société "Générale", l'Île`, "billing/invoices.csv:4", ""},
	{"b-002", "invoices_payments", "exact", "amount_mismatch", "critical", "both",
		"billing.invoices", "INV-2", "bank.payments", "PAY-2", "P2", "LE1", "JPY",
		"150000.0000", "149000.0000", "1000.0000", "2025-01-15", "16",
		"amount differs by 1000", "Yamada K.K.", "billing/invoices.csv:3", "bank/payments.csv:8"},
	{"b-004", "invoices_payments", "", "ambiguous", "low", "right",
		"", "", "bank.payments", "PAY-4|PAY-5", "P2", "LE1", "USD",
		"", "", "", "2025-01-31", "0",
		"2 equally good candidates", "Yamada K.K.", "", "bank/payments.csv:9"},
}

var fixtureSummary = run.Summary{
	RunID:      "run-20250131-ab12",
	SnapshotID: "snap-7f3c",
	AsOf:       "2025-01-31",
	RulesHash:  "sha256:9e1d",
	FailOn:     "high",
	Breaks:     5,
	Failing:    3,
	Recons: []run.ReconSummary{
		{Recon: "invoices_payments", Left: "billing.invoices", Right: "bank.payments",
			LeftRows: 4, RightRows: 5, LeftMatched: 3, RightMatched: 3, Pairs: 3, MatchRate: "0.7500",
			Breaks: []run.BreakCount{
				{Type: "ambiguous", Severity: "low", Count: 1},
				{Type: "amount_mismatch", Severity: "critical", Count: 1},
				{Type: "amount_mismatch", Severity: "high", Count: 1},
				{Type: "unmatched", Severity: "medium", Count: 1},
			}},
		{Recon: "journal_invoices", Left: "erp.journal_lines",
			LeftRows: 0, MatchRate: "",
			Breaks: []run.BreakCount{{Type: "unbalanced_entry", Severity: "critical", Count: 1}}},
	},
}

// breakHeader is the header row of every Breaks sheet.
var breakHeader = append(append([]string(nil), model.BreakColumns...), "partner_name", "left_origin", "right_origin", "fix_in")

// wantBreakRows are the fixture's breaks as Excel displays them, in
// breaks.csv order.
var wantBreakRows = [][]string{
	{"b-004", "invoices_payments", "", "ambiguous", "low", "right", "", "", "bank.payments", "PAY-4|PAY-5", "P2", "LE1", "USD",
		"", "", "", "2025-01-31", "0", "2 equally good candidates", "Yamada K.K.", "", "bank/payments.csv:9", ""},
	{"b-001", "invoices_payments", "exact", "amount_mismatch", "high", "both", "billing.invoices", "INV-1", "bank.payments", "PAY-1", "P1", "LE1", "EUR",
		"1,234.50", "1,200.00", "34.50", "2025-01-10", "21", "amount differs by 34.50", `Société "Générale", l'Île`, "billing/invoices.csv:2", "bank/payments.csv:7", ""},
	{"b-002", "invoices_payments", "exact", "amount_mismatch", "critical", "both", "billing.invoices", "INV-2", "bank.payments", "PAY-2", "P2", "LE1", "JPY",
		"150,000", "149,000", "1,000", "2025-01-15", "16", "amount differs by 1000", "Yamada K.K.", "billing/invoices.csv:3", "bank/payments.csv:8", ""},
	{"b-003", "invoices_payments", "", "unmatched", "medium", "left", "billing.invoices", "INV-3", "", "", "P1", "LE1", "EUR",
		"99.99", "", "", "2025-01-30", "1", "no payment", `Société "Générale", l'Île`, "billing/invoices.csv:4", "", ""},
	{"b-005", "journal_invoices", "", "unbalanced_entry", "critical", "left", "erp.journal_lines", "JE-9", "", "", "P3", "LE2", "KWD",
		"-12.345", "", "-12.345", "2025-01-02", "29", "entry does not balance", "Al Noor Trading", "erp/journal.csv:40", "", ""},
}

func TestWrite(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	wantRes := &Result{Path: filepath.Join(dir, run.ReportXLSX), Breaks: 5, Sheets: []string{"Summary", "Breaks"}}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	f := openReport(t, res.Path)

	if diff := cmp.Diff(wantRes.Sheets, f.GetSheetList()); diff != "" {
		t.Errorf("sheets (-want +got):\n%s", diff)
	}
	if got := f.GetSheetName(f.GetActiveSheetIndex()); got != SummarySheet {
		t.Errorf("active sheet = %q, want %q", got, SummarySheet)
	}
	wantSummary := [][]string{
		{"Break report"},
		{},
		{"Run", "run-20250131-ab12"},
		{"Snapshot", "snap-7f3c"},
		{"As of", "2025-01-31"},
		{"Rules hash", "sha256:9e1d"},
		{"Fail on", "high"},
		{"Breaks", "5"},
		{"Failing", "3"},
		{},
		{"Recon", "Break type", "Severity", "Count"},
		{"invoices_payments", "ambiguous", "low", "1"},
		{"invoices_payments", "amount_mismatch", "critical", "1"},
		{"invoices_payments", "amount_mismatch", "high", "1"},
		{"invoices_payments", "unmatched", "medium", "1"},
		{"journal_invoices", "unbalanced_entry", "critical", "1"},
		{},
		{"Recon", "Left", "Right", "Left rows", "Right rows", "Left matched", "Right matched", "Pairs", "Match rate"},
		{"invoices_payments", "billing.invoices", "bank.payments", "4", "5", "3", "3", "3", "75.00%"},
		{"journal_invoices", "erp.journal_lines", "", "0", "0", "0", "0", "0"},
	}
	if diff := cmp.Diff(wantSummary, rows(t, f, SummarySheet, 0)); diff != "" {
		t.Errorf("Summary sheet (-want +got):\n%s", diff)
	}

	wantBreaks := append([][]string{breakHeader}, wantBreakRows...)
	if diff := cmp.Diff(wantBreaks, rows(t, f, "Breaks", len(breakHeader))); diff != "" {
		t.Errorf("Breaks sheet (-want +got):\n%s", diff)
	}
	checkBreaksSheet(t, f, "Breaks", 6)
}

// TestWriteExactNumbers checks that amounts are numeric cells holding the
// decimal's exact digits, formatted with their currency's decimals, and that
// dates and ages are numbers too.
func TestWriteExactNumbers(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	// Row 3 is b-001 (EUR), row 4 b-002 (JPY), row 6 b-005 (KWD); N, O and P
	// are the amounts, Q first_seen, R age_days.
	cells := []struct {
		cell, raw, format string
	}{
		{"N3", "1234.5", "#,##0.00"},
		{"O3", "1200", "#,##0.00"},
		{"P3", "34.5", "#,##0.00"},
		{"N4", "150000", "#,##0"},
		{"P4", "1000", "#,##0"},
		{"N6", "-12.345", "#,##0.000"},
		{"Q3", "45667", "yyyy-mm-dd"}, // 2025-01-10
		{"R3", "21", ""},
	}
	for _, c := range cells {
		raw, err := f.GetCellValue("Breaks", c.cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if raw != c.raw {
			t.Errorf("%s = %q, want %q", c.cell, raw, c.raw)
		}
		if got := cellFormat(t, f, "Breaks", c.cell); got != c.format {
			t.Errorf("%s number format = %q, want %q", c.cell, got, c.format)
		}
	}
	for _, cell := range []string{"N3", "O3", "P3", "N4", "N6"} {
		typ, err := f.GetCellType("Breaks", cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeNumber {
			t.Errorf("%s cell type = %v, want number", cell, typ)
		}
	}
	xml := sheetXML(t, res.Path, "xl/worksheets/sheet2.xml")
	// b-004 has no amounts: its cells are absent, not zero or "".
	for _, cell := range []string{"N2", "O2", "P2"} {
		if strings.Contains(xml, `<c r="`+cell+`"`) {
			t.Errorf("sheet XML has a cell %s, want none", cell)
		}
	}
	// The money cell as written, digit for digit.
	if want := regexp.MustCompile(`<c r="N6" s="\d+" t="n"><v>-12.345</v></c>`); !want.MatchString(xml) {
		t.Errorf("sheet XML has no numeric cell N6 holding -12.345 (want %s)", want)
	}
}

func TestWriteSeverityHighlight(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	// E2..E6: low, high, critical, medium, critical.
	want := []string{"", "FFC7CE", "FFC7CE", "FFEB9C", "FFC7CE"}
	var got []string
	for row := 2; row <= 6; row++ {
		got = append(got, cellFill(t, f, "Breaks", "E"+strconv.Itoa(row)))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("severity fills (-want +got):\n%s", diff)
	}
}

func TestWriteRollsOver(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir, MaxRowsPerSheet: 3})
	if err != nil {
		t.Fatal(err)
	}
	wantSheets := []string{"Summary", "Breaks", "Breaks (2)", "Breaks (3)"}
	if diff := cmp.Diff(wantSheets, res.Sheets); diff != "" {
		t.Errorf("result sheets (-want +got):\n%s", diff)
	}
	if res.Breaks != 5 {
		t.Errorf("result breaks = %d, want 5", res.Breaks)
	}
	f := openReport(t, res.Path)
	if diff := cmp.Diff(wantSheets, f.GetSheetList()); diff != "" {
		t.Errorf("workbook sheets (-want +got):\n%s", diff)
	}
	for i, sheet := range wantSheets[1:] {
		lo, hi := 2*i, min(2*i+2, len(wantBreakRows))
		want := append([][]string{breakHeader}, wantBreakRows[lo:hi]...)
		if diff := cmp.Diff(want, rows(t, f, sheet, len(breakHeader))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", sheet, diff)
		}
		checkBreaksSheet(t, f, sheet, max(1+hi-lo, 2))
	}
}

func TestWriteNoBreaks(t *testing.T) {
	sum := fixtureSummary
	sum.Breaks, sum.Failing, sum.Recons = 0, 0, nil
	dir := writeFixture(t, sum, nil)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	if diff := cmp.Diff([][]string{breakHeader}, rows(t, f, "Breaks", len(breakHeader))); diff != "" {
		t.Errorf("Breaks (-want +got):\n%s", diff)
	}
	checkBreaksSheet(t, f, "Breaks", 2) // a table needs two rows
}

// TestWriteDeterministic writes the same run twice, rolled over to several
// sheets, and expects the same bytes.
func TestWriteDeterministic(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	var files [][]byte
	for _, name := range []string{"a.xlsx", "b.xlsx", "c.xlsx"} {
		out := filepath.Join(t.TempDir(), name)
		if _, err := Write(context.Background(), Options{RunDir: dir, Out: out, MaxRowsPerSheet: 2}); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("write %d differs from write 1", i+1)
		}
	}
	out := filepath.Join(t.TempDir(), "d.xlsx")
	if _, err := Write(context.Background(), Options{RunDir: dir, Out: out}); err != nil {
		t.Fatal(err)
	}
	f := openReport(t, out)
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	want := &excelize.DocProperties{
		Title: "finrecon break report", Subject: "run run-20250131-ab12", Identifier: "run-20250131-ab12",
		Creator: "finrecon", LastModifiedBy: "finrecon",
		Created: "2025-01-31T00:00:00Z", Modified: "2025-01-31T00:00:00Z",
	}
	if diff := cmp.Diff(want, props); diff != "" {
		t.Errorf("doc props (-want +got):\n%s", diff)
	}
}

func TestWriteMissingRunDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-run")
	_, err := Write(context.Background(), Options{RunDir: dir})
	if err == nil {
		t.Fatal("no error for a missing run directory")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name %s", err, dir)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %q: want a not-exist error inside", err)
	}
}

// TestWriteFailureLeavesNothing breaks a run (no breaks.parquet) and expects
// an error and no report, partial or temporary, in the run directory.
func TestWriteFailureLeavesNothing(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	if err := os.Remove(filepath.Join(dir, run.BreaksParquet)); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(context.Background(), Options{RunDir: dir}); err == nil {
		t.Fatal("no error without breaks.parquet")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{run.SummaryJSON}, names); diff != "" {
		t.Errorf("run directory after a failed write (-want +got):\n%s", diff)
	}
}

func TestWriteRejectsBadOptions(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	for _, max := range []int{-1, 1, excelize.TotalRows + 1} {
		if _, err := Write(context.Background(), Options{RunDir: dir, MaxRowsPerSheet: max}); err == nil {
			t.Errorf("MaxRowsPerSheet %d: no error", max)
		}
	}
	sum := fixtureSummary
	sum.AsOf = "31/01/2025"
	dir = writeFixture(t, sum, fixtureBreaks)
	if _, err := Write(context.Background(), Options{RunDir: dir}); err == nil || !strings.Contains(err.Error(), "as_of") {
		t.Errorf("bad as_of: err = %v, want an error naming as_of", err)
	}
}

// checkBreaksSheet checks a Breaks sheet's frozen header and its table, which
// must span the header and lastRow.
func checkBreaksSheet(t *testing.T, f *excelize.File, sheet string, lastRow int) {
	t.Helper()
	panes, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("%s panes = %+v, want the first row frozen", sheet, panes)
	}
	tables, err := f.GetTables(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range tables {
		got = append(got, tb.Range+" "+tb.StyleName)
	}
	want := []string{"A1:W" + strconv.Itoa(lastRow) + " TableStyleLight9"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s tables (-want +got):\n%s", sheet, diff)
	}
}

// writeFixture writes a run directory holding summary.json and a
// breaks.parquet of breaks, typed as match writes it.
func writeFixture(t *testing.T, sum run.Summary, breaks []fixtureBreak) string {
	t.Helper()
	dir := t.TempDir()
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, run.SummaryJSON), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := breaksParquetSQL(filepath.Join(dir, run.BreaksParquet), breaks)
	if _, err := db.ExecContext(ctx, q); err != nil {
		t.Fatalf("%s\n%v", q, err)
	}
	return dir
}

// breaksParquetSQL is a COPY writing breaks to path with breaks.parquet's
// column names and types.
func breaksParquetSQL(path string, breaks []fixtureBreak) string {
	where := ""
	if len(breaks) == 0 {
		breaks, where = []fixtureBreak{{}}, " WHERE false"
	}
	var values []string
	for _, b := range breaks {
		fields := []string{b.id, b.recon, b.pass, b.typ, b.severity, b.side,
			b.leftSystem, b.leftID, b.rightSystem, b.rightID, b.partnerID, b.legalEntity, b.currency,
			b.leftAmount, b.rightAmount, b.difference, b.firstSeen, b.ageDays,
			b.detail, b.partnerName, b.leftOrigin, b.rightOrigin}
		lits := make([]string, len(fields))
		for i, v := range fields {
			lits[i] = "NULL"
			if v != "" {
				lits[i] = duck.Quote(v)
			}
		}
		values = append(values, "("+strings.Join(lits, ", ")+")")
	}
	return fmt.Sprintf(`COPY (
	SELECT break_id::VARCHAR AS break_id, recon::VARCHAR AS recon, pass::VARCHAR AS pass,
		break_type::VARCHAR AS break_type, severity::VARCHAR AS severity, side::VARCHAR AS side,
		left_system::VARCHAR AS left_system, left_id::VARCHAR AS left_id,
		right_system::VARCHAR AS right_system, right_id::VARCHAR AS right_id,
		partner_id::VARCHAR AS partner_id, legal_entity::VARCHAR AS legal_entity, currency::VARCHAR AS currency,
		left_amount::DECIMAL(18,4) AS left_amount, right_amount::DECIMAL(18,4) AS right_amount,
		difference::DECIMAL(18,4) AS difference, first_seen::DATE AS first_seen, age_days::BIGINT AS age_days,
		detail::VARCHAR AS detail, partner_name::VARCHAR AS partner_name,
		left_origin::VARCHAR AS left_origin, right_origin::VARCHAR AS right_origin
	FROM (VALUES %s) AS t(break_id, recon, pass, break_type, severity, side,
		left_system, left_id, right_system, right_id, partner_id, legal_entity, currency,
		left_amount, right_amount, difference, first_seen, age_days,
		detail, partner_name, left_origin, right_origin)%s
	ORDER BY recon, break_type, break_id -- as match writes it
) TO %s (FORMAT parquet)`, strings.Join(values, ",\n\t\t"), where, duck.Quote(path))
}

func openReport(t *testing.T, path string) *excelize.File {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// rows returns a sheet's rows as displayed, each padded to width cells (0:
// as excelize returns them, trailing empty cells dropped).
func rows(t *testing.T, f *excelize.File, sheet string, width int) [][]string {
	t.Helper()
	got, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if r == nil {
			got[i] = []string{}
		}
		for len(got[i]) < width {
			got[i] = append(got[i], "")
		}
	}
	return got
}

// cellFormat returns the custom number format of a cell, "" if none.
func cellFormat(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	st := cellStyle(t, f, sheet, cell)
	if st == nil || st.CustomNumFmt == nil {
		return ""
	}
	return *st.CustomNumFmt
}

// cellFill returns the fill colour of a cell, "" if none.
func cellFill(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	st := cellStyle(t, f, sheet, cell)
	if st == nil || len(st.Fill.Color) == 0 {
		return ""
	}
	return st.Fill.Color[0]
}

func cellStyle(t *testing.T, f *excelize.File, sheet, cell string) *excelize.Style {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	if id == 0 {
		return nil
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sheetXML returns the part called name of the workbook at path.
func sheetXML(t *testing.T, path, name string) string {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	part, err := r.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Close()
	data, err := io.ReadAll(part)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
