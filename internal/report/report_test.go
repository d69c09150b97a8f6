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
	// Optional columns (run.optionalColumns): absent from an old run.
	fixIn, occurrences, reopened             string
	reviewStatus, reviewOwner, reviewComment string
}

// fixtureBreaks are deliberately not in breaks.csv order: the fixture
// writer sorts them by recon, break_type, break_id, as match does.
var fixtureBreaks = []fixtureBreak{
	{id: "b-005", recon: "journal_invoices", typ: "unbalanced_entry", severity: "critical", side: "left",
		leftSystem: "erp.journal_lines", leftID: "JE-9", partnerID: "P3", legalEntity: "LE2", currency: "KWD",
		leftAmount: "-12.3450", difference: "-12.3450", firstSeen: "2025-01-02", ageDays: "29",
		detail: "entry does not balance", partnerName: "Al Noor Trading", leftOrigin: "erp/journal.csv:40",
		occurrences: "30"},
	{id: "b-001", recon: "invoices_payments", pass: "exact", typ: "amount_mismatch", severity: "high", side: "both",
		leftSystem: "billing.invoices", leftID: "INV-1", rightSystem: "bank.payments", rightID: "PAY-1",
		partnerID: "P1", legalEntity: "LE1", currency: "EUR",
		leftAmount: "1234.5000", rightAmount: "1200.0000", difference: "34.5000", firstSeen: "2025-01-10", ageDays: "21",
		detail: "amount differs by 34.50", partnerName: `Société "Générale", l'Île`,
		leftOrigin: "billing/invoices.csv:2", rightOrigin: "bank/payments.csv:7",
		fixIn: "bank.payments", occurrences: "3", reopened: "false",
		reviewStatus: "investigating", reviewOwner: "alice", reviewComment: "asked billing"},
	{id: "b-003", recon: "invoices_payments", typ: "unmatched", severity: "medium", side: "left",
		leftSystem: "billing.invoices", leftID: "INV-3", partnerID: "P1", legalEntity: "LE1", currency: "EUR",
		leftAmount: "99.9900", firstSeen: "2025-01-30", ageDays: "1",
		detail: "no payment", partnerName: `Société "Générale", l'Île`, leftOrigin: "billing/invoices.csv:4",
		occurrences: "1", reopened: "false"},
	{id: "b-002", recon: "invoices_payments", pass: "exact", typ: "amount_mismatch", severity: "critical", side: "both",
		leftSystem: "billing.invoices", leftID: "INV-2", rightSystem: "bank.payments", rightID: "PAY-2",
		partnerID: "P2", legalEntity: "LE1", currency: "JPY",
		leftAmount: "150000.0000", rightAmount: "149000.0000", difference: "1000.0000", firstSeen: "2025-01-15", ageDays: "16",
		detail: "amount differs by 1000", partnerName: "Yamada K.K.",
		leftOrigin: "billing/invoices.csv:3", rightOrigin: "bank/payments.csv:8",
		occurrences: "2", reopened: "true",
		reviewStatus: "accepted", reviewOwner: "bob", reviewComment: "rounding, see mail of 12/01"},
	{id: "b-004", recon: "invoices_payments", typ: "ambiguous", severity: "low", side: "right",
		rightSystem: "bank.payments", rightID: "PAY-4|PAY-5", partnerID: "P2", legalEntity: "LE1", currency: "USD",
		firstSeen: "2025-01-31", ageDays: "0",
		detail: "2 equally good candidates", partnerName: "Yamada K.K.", rightOrigin: "bank/payments.csv:9"},
	{id: "b-006", recon: "journal_invoices", typ: "stale_entry", severity: "low", side: "left",
		leftSystem: "erp.journal_lines", leftID: "JE-1", partnerID: "P4", legalEntity: "LE2", currency: "GBP",
		leftAmount: "500.0000", firstSeen: "2024-10-28", ageDays: "95",
		detail: "draft entry older than 90 days", leftOrigin: "erp/journal.csv:2",
		occurrences: "95", reopened: "false", reviewStatus: "open", reviewOwner: "carol"},
}

var fixtureManifest = run.Manifest{
	RunID:         "run-20250131-ab12",
	ToolVersion:   "1.2.3-test",
	SchemaVersion: 2,
	SnapshotID:    "snap-7f3c",
	AsOf:          "2025-01-31",
	FailOn:        "high",
	RulesHash:     "sha256:9e1d",
}

var fixtureSummary = run.Summary{
	RunID:      "run-20250131-ab12",
	SnapshotID: "snap-7f3c",
	AsOf:       "2025-01-31",
	RulesHash:  "sha256:9e1d",
	FailOn:     "high",
	Breaks:     6,
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
			Breaks: []run.BreakCount{
				{Type: "stale_entry", Severity: "low", Count: 1},
				{Type: "unbalanced_entry", Severity: "critical", Count: 1},
			}},
		// A recon without breaks still gets its (empty) sheet, in order.
		{Recon: "exposure", Left: "risk.exposures", Right: "odoo.invoices",
			LeftRows: 2, RightRows: 2, LeftMatched: 2, RightMatched: 2, Pairs: 2, MatchRate: "1.0000"},
	},
}

// sheetHeader is the header row of every recon sheet.
var sheetHeader = append(append([]string(nil), model.BreakColumns...),
	"partner_name", "fix_in", "left_origin", "right_origin", "occurrences", "reopened", "status", "owner", "comment")

// wantSheets are the workbook's sheets for the fixture.
var wantSheets = []string{"Summary", "_finrecon", "exposure", "invoices_payments", "journal_invoices", "About"}

// wantRows are the fixture's breaks as Excel displays them, by sheet, in
// breaks.csv order.
var wantRows = map[string][][]string{
	"invoices_payments": {
		{"b-004", "invoices_payments", "", "ambiguous", "low", "right", "", "", "bank.payments", "PAY-4|PAY-5", "P2", "LE1", "USD",
			"", "", "", "2025-01-31", "0", "2 equally good candidates",
			"Yamada K.K.", "", "", "bank/payments.csv:9", "1", "no", "open", "", ""},
		{"b-001", "invoices_payments", "exact", "amount_mismatch", "high", "both", "billing.invoices", "INV-1", "bank.payments", "PAY-1", "P1", "LE1", "EUR",
			"1,234.50", "1,200.00", "34.50", "2025-01-10", "21", "amount differs by 34.50",
			`Société "Générale", l'Île`, "bank.payments", "billing/invoices.csv:2", "bank/payments.csv:7", "3", "no", "investigating", "alice", "asked billing"},
		{"b-002", "invoices_payments", "exact", "amount_mismatch", "critical", "both", "billing.invoices", "INV-2", "bank.payments", "PAY-2", "P2", "LE1", "JPY",
			"150,000", "149,000", "1,000", "2025-01-15", "16", "amount differs by 1000",
			"Yamada K.K.", "", "billing/invoices.csv:3", "bank/payments.csv:8", "2", "yes", "accepted", "bob", "rounding, see mail of 12/01"},
		{"b-003", "invoices_payments", "", "unmatched", "medium", "left", "billing.invoices", "INV-3", "", "", "P1", "LE1", "EUR",
			"99.99", "", "", "2025-01-30", "1", "no payment",
			`Société "Générale", l'Île`, "", "billing/invoices.csv:4", "", "1", "no", "open", "", ""},
	},
	"journal_invoices": {
		{"b-006", "journal_invoices", "", "stale_entry", "low", "left", "erp.journal_lines", "JE-1", "", "", "P4", "LE2", "GBP",
			"500.00", "", "", "2024-10-28", "95", "draft entry older than 90 days",
			"", "", "erp/journal.csv:2", "", "95", "no", "open", "carol", ""},
		{"b-005", "journal_invoices", "", "unbalanced_entry", "critical", "left", "erp.journal_lines", "JE-9", "", "", "P3", "LE2", "KWD",
			"-12.345", "", "-12.345", "2025-01-02", "29", "entry does not balance",
			"Al Noor Trading", "", "erp/journal.csv:40", "", "30", "no", "open", "", ""},
	},
	"exposure": nil,
}

func TestWrite(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	wantRes := &Result{Path: filepath.Join(dir, run.ReportXLSX), Breaks: 6, Total: 6, Sheets: wantSheets}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	f := openReport(t, res.Path)
	if diff := cmp.Diff(wantSheets, f.GetSheetList()); diff != "" {
		t.Errorf("sheets (-want +got):\n%s", diff)
	}
	if got := f.GetSheetName(f.GetActiveSheetIndex()); got != SummarySheet {
		t.Errorf("active sheet = %q, want %q", got, SummarySheet)
	}
	for _, sheet := range wantSheets {
		visible, err := f.GetSheetVisible(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if want := sheet != IdentitySheet; visible != want {
			t.Errorf("sheet %s visible = %v, want %v", sheet, visible, want)
		}
	}
	for sheet, want := range wantRows {
		want = append([][]string{sheetHeader}, want...)
		if diff := cmp.Diff(want, rows(t, f, sheet, len(sheetHeader))); diff != "" {
			t.Errorf("%s sheet (-want +got):\n%s", sheet, diff)
		}
		checkReconSheet(t, f, sheet, max(len(want), 2))
	}
}

func TestWriteSummary(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	got := rows(t, f, SummarySheet, 0)
	chartArea := make([][]string, chartRows)
	for i := range chartArea {
		chartArea[i] = []string{}
	}
	want := [][]string{
		{"Break report"},
		{},
		{"Run", "run-20250131-ab12"},
		{"Snapshot", "snap-7f3c"},
		{"As of", "2025-01-31"},
		{"Rules hash", "sha256:9e1d"},
		{"Tool version", "1.2.3-test"},
		{"Fail on", "high"},
		{"Breaks", "6"},
		{"Failing", "3"},
		{"In this workbook", "all 6 breaks of the run"},
		{},
	}
	want = append(want, chartArea...)
	want = append(want, [][]string{
		{},
		{"Breaks by type"},
		{"Recon", "unmatched", "amount_mismatch", "unbalanced_entry", "ambiguous", "stale_entry", "Total"},
		{"exposure", "0", "0", "0", "0", "0", "0"},
		{"invoices_payments", "1", "2", "0", "1", "0", "4"},
		{"journal_invoices", "0", "0", "1", "0", "1", "2"},
		{"Total", "1", "2", "1", "1", "1", "6"},
		{},
		{"Breaks by severity"},
		{"Recon", "critical", "high", "medium", "low", "Total"},
		{"exposure", "0", "0", "0", "0", "0"},
		{"invoices_payments", "1", "1", "1", "1", "4"},
		{"journal_invoices", "1", "0", "0", "1", "2"},
		{"Total", "2", "1", "1", "2", "6"},
		{},
		{"Ageing (days since first seen)"},
		{"Recon", "0–7", "8–30", "31–60", "61–90", "90+", "Total"},
		{"exposure", "0", "0", "0", "0", "0", "0"},
		{"invoices_payments", "2", "2", "0", "0", "0", "4"},
		{"journal_invoices", "0", "1", "0", "0", "1", "2"},
		{"Total", "2", "3", "0", "0", "1", "6"},
		{"90+ is more than 90 days. Age is counted from the first run that reported the break to this run's as-of date."},
		{},
		{"Amounts at stake by currency"},
		{"Currency", "exposure", "invoices_payments", "journal_invoices", "Total"},
		{"EUR", "", "134.49", "", "134.49"},
		{"GBP", "", "", "500.00", "500.00"},
		{"JPY", "", "1,000", "", "1,000"},
		{"KWD", "", "", "12.345", "12.345"},
		{stakeNote},
		{},
		{"Review status"},
		{"Recon", "open", "investigating", "accepted", "fixed-in-source", "Total"},
		{"exposure", "0", "0", "0", "0", "0"},
		{"invoices_payments", "2", "1", "1", "0", "4"},
		{"journal_invoices", "2", "0", "0", "0", "2"},
		{"Total", "4", "1", "1", "0", "6"},
		{},
		{"Matching"},
		{"Recon", "Left", "Right", "Left rows", "Right rows", "Left matched", "Right matched", "Pairs", "Match rate"},
		{"exposure", "risk.exposures", "odoo.invoices", "2", "2", "2", "2", "2", "100.00%"},
		{"invoices_payments", "billing.invoices", "bank.payments", "4", "5", "3", "3", "3", "75.00%"},
		{"journal_invoices", "erp.journal_lines", "", "0", "0", "0", "0", "0"},
		{"Match rate: matched left rows over left rows."},
	}...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summary sheet (-want +got):\n%s", diff)
	}
}

const stakeNote = "Amount at stake: the absolute difference of a break; for a break without a difference " +
	"(unmatched, duplicate, …) the absolute amount of its left side, else of its right side. " +
	"Breaks without any amount are not counted."

// TestWriteCharts checks that the Summary carries the two charts and that
// they draw from its tables.
func TestWriteCharts(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	byType := sheetXML(t, res.Path, "xl/charts/chart1.xml")
	ageing := sheetXML(t, res.Path, "xl/charts/chart2.xml")
	for _, want := range []string{"Breaks by type", "Summary!$B$32:$F$32", "Summary!$B$34:$F$34", "Summary!$A$34"} {
		if !strings.Contains(byType, want) {
			t.Errorf("chart 1 does not contain %q", want)
		}
	}
	for _, want := range []string{"Ageing (days since first seen)", "Summary!$B$46:$F$46", "Summary!$B$48:$F$48", "Summary!$A$49"} {
		if !strings.Contains(ageing, want) {
			t.Errorf("chart 2 does not contain %q", want)
		}
	}
	if xml := sheetXML(t, res.Path, "xl/worksheets/sheet1.xml"); !strings.Contains(xml, "<drawing ") {
		t.Errorf("the Summary sheet has no drawing")
	}
}

// TestWriteExactNumbers checks that amounts are numeric cells holding the
// decimal's exact digits, formatted with their currency's decimals, and that
// dates and counts are numbers too.
func TestWriteExactNumbers(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	// On invoices_payments, row 3 is b-001 (EUR), row 4 b-002 (JPY); on
	// journal_invoices row 3 is b-005 (KWD). N, O and P are the amounts, Q
	// first_seen, R age_days, X occurrences.
	cells := []struct {
		sheet, cell, raw, format string
	}{
		{"invoices_payments", "N3", "1234.5", "#,##0.00"},
		{"invoices_payments", "O3", "1200", "#,##0.00"},
		{"invoices_payments", "P3", "34.5", "#,##0.00"},
		{"invoices_payments", "N4", "150000", "#,##0"},
		{"invoices_payments", "P4", "1000", "#,##0"},
		{"journal_invoices", "N3", "-12.345", "#,##0.000"},
		{"invoices_payments", "Q3", "45667", "yyyy-mm-dd"}, // 2025-01-10
		{"invoices_payments", "R3", "21", ""},
		{"invoices_payments", "X3", "3", ""},
		// Summary: amounts at stake, exact, in their currency's decimals.
		{"Summary", "C55", "134.49", "#,##0.00"},
		{"Summary", "E56", "500", "#,##0.00"},
		{"Summary", "C57", "1000", "#,##0"},
		{"Summary", "D58", "12.345", "#,##0.000"},
	}
	for _, c := range cells {
		raw, err := f.GetCellValue(c.sheet, c.cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if raw != c.raw {
			t.Errorf("%s!%s = %q, want %q", c.sheet, c.cell, raw, c.raw)
		}
		if got := cellFormat(t, f, c.sheet, c.cell); got != c.format {
			t.Errorf("%s!%s number format = %q, want %q", c.sheet, c.cell, got, c.format)
		}
		typ, err := f.GetCellType(c.sheet, c.cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
			t.Errorf("%s!%s cell type = %v, want a number", c.sheet, c.cell, typ)
		}
	}
	xml := sheetXML(t, res.Path, "xl/worksheets/sheet4.xml") // invoices_payments
	// b-004 has no amounts: its cells are absent, not zero or "".
	for _, cell := range []string{"N2", "O2", "P2"} {
		if strings.Contains(xml, `<c r="`+cell+`"`) {
			t.Errorf("sheet XML has a cell %s, want none", cell)
		}
	}
	// The money cell as written, digit for digit.
	if want := regexp.MustCompile(`<c r="N3" s="\d+"><v>1234.5</v></c>`); !want.MatchString(xml) {
		t.Errorf("sheet XML has no numeric cell N3 holding 1234.5 (want %s)", want)
	}
}

// TestWriteStyles checks the severity highlight, the review columns'
// "type here" fill and that no other data cell is filled.
func TestWriteStyles(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	sheet := "invoices_payments"
	// E2..E5: low, high, critical, medium.
	var sev []string
	for row := 2; row <= 5; row++ {
		sev = append(sev, cellFill(t, f, sheet, "E"+strconv.Itoa(row)))
	}
	if diff := cmp.Diff([]string{"", "FFC7CE", "FFC7CE", "FFEB9C"}, sev); diff != "" {
		t.Errorf("severity fills (-want +got):\n%s", diff)
	}
	for col := 1; col <= len(sheetHeader); col++ {
		name := sheetHeader[col-1]
		editable := name == "status" || name == "owner" || name == "comment"
		header, _ := excelize.CoordinatesToCellName(col, 1)
		wantHeader := headerFill
		if editable {
			wantHeader = editableHeaderFill
		}
		if got := cellFill(t, f, sheet, header); got != wantHeader {
			t.Errorf("header %s (%s) fill = %q, want %q", header, name, got, wantHeader)
		}
		if name == "severity" {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(col, 3)
		want := ""
		if editable {
			want = editableFill
		}
		if got := cellFill(t, f, sheet, cell); got != want {
			t.Errorf("%s (%s) fill = %q, want %q", cell, name, got, want)
		}
	}
}

func TestWriteStatusDropDown(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	for sheet, lastRow := range map[string]int{"invoices_payments": 5, "journal_invoices": 3, "exposure": 2} {
		dvs, err := f.GetDataValidations(sheet)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, dv := range dvs {
			got = append(got, fmt.Sprintf("%s %s %s", dv.Sqref, dv.Type, dv.Formula1))
		}
		want := []string{fmt.Sprintf(`Z2:Z%d list "open,investigating,accepted,fixed-in-source"`, lastRow)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s data validations (-want +got):\n%s", sheet, diff)
		}
	}
}

func TestWriteAbout(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	explained := map[string]string{}
	for _, r := range rows(t, f, AboutSheet, 2) {
		explained[r[0]] = r[1]
	}
	var missing []string
	for _, name := range append(append(append([]string(nil), model.BreakTypes...), sheetHeader...), ReviewStatuses...) {
		if explained[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("About does not explain %q", missing)
	}
	if got := explained["stale_entry"]; !strings.Contains(got, "journal_invoices") {
		t.Errorf("About on the custom type stale_entry = %q, want it to name journal_invoices", got)
	}
	var steps []string
	for _, r := range rows(t, f, AboutSheet, 2) {
		steps = append(steps, r[1])
	}
	if all := strings.Join(steps, "\n"); !strings.Contains(all, "finrecon review import <file>") {
		t.Errorf("About does not say how to import a review:\n%s", all)
	}
}

func TestWriteRollsOver(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir, MaxRowsPerSheet: 3})
	if err != nil {
		t.Fatal(err)
	}
	wantSheets := []string{"Summary", "_finrecon", "exposure", "invoices_payments", "invoices_payments (2)", "journal_invoices", "About"}
	if diff := cmp.Diff(wantSheets, res.Sheets); diff != "" {
		t.Errorf("result sheets (-want +got):\n%s", diff)
	}
	if res.Breaks != 6 {
		t.Errorf("result breaks = %d, want 6", res.Breaks)
	}
	f := openReport(t, res.Path)
	if diff := cmp.Diff(wantSheets, f.GetSheetList()); diff != "" {
		t.Errorf("workbook sheets (-want +got):\n%s", diff)
	}
	ip := wantRows["invoices_payments"]
	for sheet, want := range map[string][][]string{
		"invoices_payments":     ip[:2],
		"invoices_payments (2)": ip[2:],
		"journal_invoices":      wantRows["journal_invoices"],
	} {
		want = append([][]string{sheetHeader}, want...)
		if diff := cmp.Diff(want, rows(t, f, sheet, len(sheetHeader))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", sheet, diff)
		}
		checkReconSheet(t, f, sheet, len(want))
	}
}

// TestWriteMaxBreaks caps the workbook at three breaks: it holds the three
// with the largest amounts at stake, and the Summary, which still counts all
// six, says so.
func TestWriteMaxBreaks(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir, MaxBreaks: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Breaks != 3 || res.Total != 6 {
		t.Errorf("result breaks %d of %d, want 3 of 6", res.Breaks, res.Total)
	}
	f := openReport(t, res.Path)
	// Stakes: b-002 1000 JPY, b-006 500 GBP, b-003 99.99 EUR, b-001 34.50,
	// b-005 12.345, b-004 none.
	got := map[string][]string{}
	for _, sheet := range []string{"exposure", "invoices_payments", "journal_invoices"} {
		for _, r := range rows(t, f, sheet, 1)[1:] {
			got[sheet] = append(got[sheet], r[0])
		}
	}
	want := map[string][]string{"invoices_payments": {"b-002", "b-003"}, "journal_invoices": {"b-006"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("breaks kept (-want +got):\n%s", diff)
	}
	note, err := f.GetCellValue(SummarySheet, "B11")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note, "the 3 breaks with the largest amounts at stake, of 6") || !strings.Contains(note, "breaks.csv") {
		t.Errorf("Summary B11 = %q, want it to say the workbook holds the top 3 of 6 and point to breaks.csv", note)
	}
	if total, _ := f.GetCellValue(SummarySheet, "G36"); total != "6" {
		t.Errorf("Summary total breaks by type = %q, want 6 (all breaks)", total)
	}
}

// TestSelectionTies checks the cut among equal stakes and among breaks
// without any amount: ties go by break_id, and exactly limit are kept.
func TestSelectionTies(t *testing.T) {
	var breaks []fixtureBreak
	for i, amt := range []string{"5", "5", "5", "", "", "7"} {
		breaks = append(breaks, fixtureBreak{id: fmt.Sprintf("t-%d", i), recon: "r", typ: "unmatched", severity: "low",
			side: "left", currency: "EUR", leftAmount: amt, firstSeen: "2025-01-31", ageDays: "0"})
	}
	dir := writeFixture(t, fixtureSummary, breaks)
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for limit, want := range map[int64][]string{
		1: {"t-5"},
		2: {"t-0", "t-5"},
		4: {"t-0", "t-1", "t-2", "t-5"},
		5: {"t-0", "t-1", "t-2", "t-3", "t-5"},
		6: {"t-0", "t-1", "t-2", "t-3", "t-4", "t-5"},
	} {
		sel, err := selectBreaks(context.Background(), db, dir, limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		err = run.EachBreak(context.Background(), db, dir, "break_id", func(b *run.Break) error {
			if sel.keep(b) {
				got = append(got, b.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("limit %d: kept (-want +got):\n%s", limit, diff)
		}
	}
}

func TestWriteNoBreaks(t *testing.T) {
	sum := fixtureSummary
	sum.Breaks, sum.Failing = 0, 0
	dir := writeFixture(t, sum, nil)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	for _, sheet := range []string{"exposure", "invoices_payments", "journal_invoices"} {
		if diff := cmp.Diff([][]string{sheetHeader}, rows(t, f, sheet, len(sheetHeader))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", sheet, diff)
		}
		checkReconSheet(t, f, sheet, 2) // a table needs two rows
	}
	if got, _ := f.GetCellValue(SummarySheet, "A13"); got != "No breaks in this run: nothing to chart." {
		t.Errorf("Summary A13 = %q, want the no-chart note", got)
	}
}

// TestWriteOldRun reads a run written before the optional columns existed:
// each break has been seen once and is open.
func TestWriteOldRun(t *testing.T) {
	dir := writeFixtureWith(t, fixtureSummary, fixtureBreaks, false)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	got := rows(t, f, "journal_invoices", len(sheetHeader))[1]
	// fix_in, origins, occurrences, reopened, status, owner, comment
	if diff := cmp.Diff([]string{"", "erp/journal.csv:2", "", "1", "no", "open", "", ""}, got[20:]); diff != "" {
		t.Errorf("old run's extra columns (-want +got):\n%s", diff)
	}
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
	if diff := cmp.Diff([]string{run.ManifestJSON, run.SummaryJSON}, names); diff != "" {
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
	if _, err := Write(context.Background(), Options{RunDir: dir, MaxBreaks: -1}); err == nil {
		t.Errorf("MaxBreaks -1: no error")
	}
	sum := fixtureSummary
	sum.AsOf = "31/01/2025"
	dir = writeFixture(t, sum, fixtureBreaks)
	if _, err := Write(context.Background(), Options{RunDir: dir}); err == nil || !strings.Contains(err.Error(), "as_of") {
		t.Errorf("bad as_of: err = %v, want an error naming as_of", err)
	}
	sum = fixtureSummary
	sum.RunID = "run-other"
	dir = writeFixture(t, sum, fixtureBreaks)
	if _, err := Write(context.Background(), Options{RunDir: dir}); err == nil || !strings.Contains(err.Error(), "run-other") {
		t.Errorf("summary of another run: err = %v, want an error naming both runs", err)
	}
}

// checkReconSheet checks a recon sheet's frozen header and its table, which
// must span the header and lastRow.
func checkReconSheet(t *testing.T, f *excelize.File, sheet string, lastRow int) {
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
	want := []string{"A1:AB" + strconv.Itoa(lastRow) + " TableStyleLight1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s tables (-want +got):\n%s", sheet, diff)
	}
}

// writeFixture writes a run directory holding run.json, summary.json and a
// breaks.parquet of breaks, typed as match writes it.
func writeFixture(t testing.TB, sum run.Summary, breaks []fixtureBreak) string {
	return writeFixtureWith(t, sum, breaks, true)
}

// writeFixtureWith is writeFixture; without optional, breaks.parquet lacks
// the columns later versions added, like an old run's.
func writeFixtureWith(t testing.TB, sum run.Summary, breaks []fixtureBreak, optional bool) string {
	t.Helper()
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, run.ManifestJSON), fixtureManifest)
	writeJSON(t, filepath.Join(dir, run.SummaryJSON), sum)
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := breaksParquetSQL(filepath.Join(dir, run.BreaksParquet), breaks, optional)
	if _, err := db.ExecContext(ctx, q); err != nil {
		t.Fatalf("%s\n%v", q, err)
	}
	return dir
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// breakFields are breaks.parquet's columns and their types, in order; the
// last six are optional.
var breakFields = []struct{ name, typ string }{
	{"break_id", "VARCHAR"}, {"recon", "VARCHAR"}, {"pass", "VARCHAR"}, {"break_type", "VARCHAR"},
	{"severity", "VARCHAR"}, {"side", "VARCHAR"}, {"left_system", "VARCHAR"}, {"left_id", "VARCHAR"},
	{"right_system", "VARCHAR"}, {"right_id", "VARCHAR"}, {"partner_id", "VARCHAR"},
	{"legal_entity", "VARCHAR"}, {"currency", "VARCHAR"},
	{"left_amount", model.Money}, {"right_amount", model.Money}, {"difference", model.Money},
	{"first_seen", "DATE"}, {"age_days", "BIGINT"}, {"detail", "VARCHAR"}, {"partner_name", "VARCHAR"},
	{"left_origin", "VARCHAR"}, {"right_origin", "VARCHAR"},
	{"fix_in", "VARCHAR"}, {"occurrences", "BIGINT"}, {"reopened", "BOOLEAN"},
	{"review_status", "VARCHAR"}, {"review_owner", "VARCHAR"}, {"review_comment", "VARCHAR"},
}

const optionalFields = 6

// breaksParquetSQL is a COPY writing breaks to path with breaks.parquet's
// column names and types, sorted as match writes them.
func breaksParquetSQL(path string, breaks []fixtureBreak, optional bool) string {
	fields := breakFields
	if !optional {
		fields = fields[:len(fields)-optionalFields]
	}
	where := ""
	if len(breaks) == 0 {
		breaks, where = []fixtureBreak{{}}, " WHERE false"
	}
	var values []string
	for _, b := range breaks {
		vals := []string{b.id, b.recon, b.pass, b.typ, b.severity, b.side,
			b.leftSystem, b.leftID, b.rightSystem, b.rightID, b.partnerID, b.legalEntity, b.currency,
			b.leftAmount, b.rightAmount, b.difference, b.firstSeen, b.ageDays,
			b.detail, b.partnerName, b.leftOrigin, b.rightOrigin,
			b.fixIn, b.occurrences, b.reopened, b.reviewStatus, b.reviewOwner, b.reviewComment}
		lits := make([]string, len(fields))
		for i := range fields {
			lits[i] = "NULL"
			if vals[i] != "" {
				lits[i] = duck.Quote(vals[i])
			}
		}
		values = append(values, "("+strings.Join(lits, ", ")+")")
	}
	var sel, names []string
	for _, f := range fields {
		sel = append(sel, fmt.Sprintf("%s::%s AS %s", f.name, f.typ, f.name))
		names = append(names, f.name)
	}
	return fmt.Sprintf(`COPY (
	SELECT %s
	FROM (VALUES %s) AS t(%s)%s
	ORDER BY recon, break_type, break_id -- as match writes it
) TO %s (FORMAT parquet)`, strings.Join(sel, ", "), strings.Join(values, ",\n\t\t"), strings.Join(names, ", "), where, duck.Quote(path))
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
