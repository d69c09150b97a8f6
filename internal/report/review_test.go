package report

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/run"
)

// The fixture workbook's recon sheets, as ReadReview sees them untouched:
// invoices_payments rows 2-5 hold b-004, b-001, b-002, b-003;
// journal_invoices rows 2-3 hold b-006, b-005. Columns: A break_id,
// D break_type, N left_amount, Q first_seen, R age_days, S detail,
// Z status, AA owner, AB comment.
var untouched = []Edit{
	{BreakID: "b-004", Status: "open", Sheet: "invoices_payments", Row: 2},
	{BreakID: "b-001", Status: "investigating", Owner: "alice", Comment: "asked billing", Sheet: "invoices_payments", Row: 3},
	{BreakID: "b-002", Status: "accepted", Owner: "bob", Comment: "rounding, see mail of 12/01", Sheet: "invoices_payments", Row: 4},
	{BreakID: "b-003", Status: "open", Sheet: "invoices_payments", Row: 5},
	{BreakID: "b-006", Status: "open", Owner: "carol", Sheet: "journal_invoices", Row: 2},
	{BreakID: "b-005", Status: "open", Sheet: "journal_invoices", Row: 3},
}

// without returns untouched without the edits of the given break ids.
func without(ids ...string) []Edit {
	return slices.DeleteFunc(slices.Clone(untouched), func(e Edit) bool { return slices.Contains(ids, e.BreakID) })
}

// replaced returns untouched with the edits of the same break ids replaced.
func replaced(edits ...Edit) []Edit {
	out := slices.Clone(untouched)
	for _, e := range edits {
		for i := range out {
			if out[i].BreakID == e.BreakID {
				out[i] = e
			}
		}
	}
	return out
}

func TestReadReview(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(t *testing.T, f *excelize.File)
		edits    []Edit
		refusals []string
	}{
		{
			name:  "untouched",
			edit:  func(*testing.T, *excelize.File) {},
			edits: untouched,
		},
		{
			name: "review columns edited",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, "invoices_payments", "Z2", "investigating")
				set(t, f, "invoices_payments", "AA2", "dave")
				set(t, f, "invoices_payments", "AB2", "called the bank")
				set(t, f, "invoices_payments", "Z3", " Accepted ") // case and spaces do not matter
				set(t, f, "journal_invoices", "Z3", "fixed-in-source")
				set(t, f, "journal_invoices", "AA2", "") // carol let go
				set(t, f, "journal_invoices", "Z2", "")  // an empty status is open
			},
			edits: replaced(
				Edit{BreakID: "b-004", Status: "investigating", Owner: "dave", Comment: "called the bank", Sheet: "invoices_payments", Row: 2, Changed: true},
				Edit{BreakID: "b-001", Status: "accepted", Owner: "alice", Comment: "asked billing", Sheet: "invoices_payments", Row: 3, Changed: true},
				Edit{BreakID: "b-006", Status: "open", Sheet: "journal_invoices", Row: 2, Changed: true},
				Edit{BreakID: "b-005", Status: "fixed-in-source", Sheet: "journal_invoices", Row: 3, Changed: true},
			),
		},
		{
			name:     "unknown status",
			edit:     func(t *testing.T, f *excelize.File) { set(t, f, "invoices_payments", "Z4", "done") },
			edits:    without("b-002"),
			refusals: []string{`invoices_payments!Z4: unknown status "done": want open, investigating, accepted, fixed-in-source`},
		},
		{
			name: "amount edited",
			edit: func(t *testing.T, f *excelize.File) {
				setNumber(t, f, "invoices_payments", "N3", "1234.51")
				set(t, f, "journal_invoices", "N3", "-12.3451") // typed as text: still compared as a number
			},
			edits: without("b-001", "b-005"),
			refusals: []string{
				`invoices_payments!N3: left_amount was edited (the run has "1234.5", the workbook "1234.51"): only status, owner and comment may change`,
				`journal_invoices!N3: left_amount was edited (the run has "-12.345", the workbook "-12.3451"): only status, owner and comment may change`,
			},
		},
		{
			name: "same values rewritten",
			edit: func(t *testing.T, f *excelize.File) {
				setNumber(t, f, "invoices_payments", "N3", "1234.50000") // the same amount
				set(t, f, "journal_invoices", "N3", "-12.345")           // the same amount, as text
				setNumber(t, f, "invoices_payments", "R3", "21")         // the same age
				set(t, f, "invoices_payments", "Q3", "2025-01-10")       // the same date, as text
				set(t, f, "invoices_payments", "Y4", "YES")              // the same flag
			},
			edits: untouched,
		},
		{
			name: "date, number and text edited",
			edit: func(t *testing.T, f *excelize.File) {
				if err := f.SetCellValue("invoices_payments", "Q3", time.Date(2025, 1, 11, 0, 0, 0, 0, time.UTC)); err != nil {
					t.Fatal(err)
				}
				setNumber(t, f, "invoices_payments", "R4", "17")
				set(t, f, "invoices_payments", "D5", "duplicate")
				set(t, f, "journal_invoices", "S2", "")
			},
			edits: without("b-001", "b-002", "b-003", "b-006"),
			refusals: []string{
				`invoices_payments!Q3: first_seen was edited (the run has "2025-01-10", the workbook "2025-01-11"): only status, owner and comment may change`,
				`invoices_payments!R4: age_days was edited (the run has "16", the workbook "17"): only status, owner and comment may change`,
				`invoices_payments!D5: break_type was edited (the run has "unmatched", the workbook "duplicate"): only status, owner and comment may change`,
				`journal_invoices!S2: detail was edited (the run has "draft entry older than 90 days", the workbook ""): only status, owner and comment may change`,
			},
		},
		{
			name: "unknown break id and added rows",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, "invoices_payments", "A2", "b-999")
				set(t, f, "invoices_payments", "A6", "b-777")
				set(t, f, "invoices_payments", "AB7", "a comment on no break")
			},
			edits: without("b-004"),
			refusals: []string{
				`invoices_payments!A2: unknown break_id "b-999": the run has no such break`,
				`invoices_payments!A6: unknown break_id "b-777": the run has no such break`,
				`invoices_payments!A7: the row has no break_id: was it added, or the id cleared?`,
			},
		},
		{
			name:     "a break on two rows",
			edit:     func(t *testing.T, f *excelize.File) { copyRow(t, f, "invoices_payments", 3, 6) },
			edits:    without("b-001"),
			refusals: []string{`invoices_payments!A6: break_id b-001 is on two rows (also invoices_payments!A3): neither was taken`},
		},
		{
			name: "header renamed",
			edit: func(t *testing.T, f *excelize.File) { set(t, f, "invoices_payments", "P1", "diff") },
			// The sheet is refused whole; the other sheet is still read.
			edits: without("b-001", "b-002", "b-003", "b-004"),
			refusals: []string{
				`invoices_payments!P1: column "difference" is missing from the header (row 1): the sheet was not read; restore the header or start from a fresh workbook`,
			},
		},
		{
			name: "column deleted",
			edit: func(t *testing.T, f *excelize.File) {
				if err := f.RemoveCol("journal_invoices", "S"); err != nil {
					t.Fatal(err)
				}
			},
			edits: without("b-005", "b-006"),
			refusals: []string{
				`journal_invoices!S1: column "detail" is missing from the header (row 1): the sheet was not read; restore the header or start from a fresh workbook`,
			},
		},
		{
			name:     "header repeated",
			edit:     func(t *testing.T, f *excelize.File) { set(t, f, "journal_invoices", "AC1", "status") },
			edits:    without("b-005", "b-006"),
			refusals: []string{`journal_invoices!AC1: column "status" is in the header twice (also Z1): the sheet was not read`},
		},
		{
			name: "own columns and blank rows",
			edit: func(t *testing.T, f *excelize.File) {
				set(t, f, "invoices_payments", "AC1", "my notes")
				set(t, f, "invoices_payments", "AC3", "call Monday")
				set(t, f, "invoices_payments", "AD1", "my notes") // twice: theirs, so no matter
				if err := f.InsertRows("journal_invoices", 3, 2); err != nil {
					t.Fatal(err)
				}
			},
			edits: replaced(Edit{BreakID: "b-005", Status: "open", Sheet: "journal_invoices", Row: 5}),
		},
		{
			name: "sheet deleted",
			edit: func(t *testing.T, f *excelize.File) {
				if err := f.DeleteSheet("journal_invoices"); err != nil {
					t.Fatal(err)
				}
			},
			edits:    without("b-005", "b-006"),
			refusals: []string{`journal_invoices: the sheet is missing or was renamed: its rows were not read`},
		},
	}
	dir, path := reviewFixture(t, Options{})
	want, orig := reviewRun(t, dir)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			edited := editWorkbook(t, path, func(f *excelize.File) { tc.edit(t, f) })
			rv, err := ReadReview(context.Background(), edited, want, orig)
			if err != nil {
				t.Fatal(err)
			}
			if rv.RunID != want.RunID {
				t.Errorf("run id = %q, want %q", rv.RunID, want.RunID)
			}
			if diff := cmp.Diff(tc.edits, rv.Edits); diff != "" {
				t.Errorf("edits (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.refusals, refusalStrings(rv)); diff != "" {
				t.Errorf("refusals (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadReviewSorted sorts a sheet (newest row first) and edits it: rows
// are matched by break_id, whatever their position.
func TestReadReviewSorted(t *testing.T) {
	dir, path := reviewFixture(t, Options{})
	want, orig := reviewRun(t, dir)
	edited := editWorkbook(t, path, func(f *excelize.File) {
		reverseRows(t, f, "invoices_payments")
		// b-001 was on row 3 and is now on row 4.
		if got, _ := f.GetCellValue("invoices_payments", "A4"); got != "b-001" {
			t.Fatalf("A4 after the sort = %q, want b-001", got)
		}
		set(t, f, "invoices_payments", "Z4", "accepted")
	})
	rv, err := ReadReview(context.Background(), edited, want, orig)
	if err != nil {
		t.Fatal(err)
	}
	wantEdits := []Edit{
		{BreakID: "b-003", Status: "open", Sheet: "invoices_payments", Row: 2},
		{BreakID: "b-002", Status: "accepted", Owner: "bob", Comment: "rounding, see mail of 12/01", Sheet: "invoices_payments", Row: 3},
		{BreakID: "b-001", Status: "accepted", Owner: "alice", Comment: "asked billing", Sheet: "invoices_payments", Row: 4, Changed: true},
		{BreakID: "b-004", Status: "open", Sheet: "invoices_payments", Row: 5},
		untouched[4], untouched[5],
	}
	if diff := cmp.Diff(wantEdits, rv.Edits); diff != "" {
		t.Errorf("edits (-want +got):\n%s", diff)
	}
	if len(rv.Refusals) > 0 {
		t.Errorf("refusals: %q", refusalStrings(rv))
	}
	if diff := cmp.Diff(wantEdits[2:3], rv.Changed()); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
}

// TestReadReviewRolledOver reads a workbook whose recon rolled over to a
// second sheet, whose name must be quoted in a reference.
func TestReadReviewRolledOver(t *testing.T) {
	dir, path := reviewFixture(t, Options{MaxRowsPerSheet: 3})
	want, orig := reviewRun(t, dir)
	edited := editWorkbook(t, path, func(f *excelize.File) { set(t, f, "invoices_payments (2)", "Z3", "later") })
	rv, err := ReadReview(context.Background(), edited, want, orig)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rv.Edits); got != 5 {
		t.Errorf("%d edits, want 5", got)
	}
	wantRefusals := []string{`'invoices_payments (2)'!Z3: unknown status "later": want open, investigating, accepted, fixed-in-source`}
	if diff := cmp.Diff(wantRefusals, refusalStrings(rv)); diff != "" {
		t.Errorf("refusals (-want +got):\n%s", diff)
	}
}

func TestReadReviewOtherRun(t *testing.T) {
	dir, path := reviewFixture(t, Options{})
	want, orig := reviewRun(t, dir)
	other := *want
	other.RunID = "run-20250201-cd34"
	_, err := ReadReview(context.Background(), path, &other, orig)
	if !errors.Is(err, ErrOtherRun) {
		t.Fatalf("err = %v, want ErrOtherRun", err)
	}
	var oe *OtherRunError
	if !errors.As(err, &oe) || oe.Want != other.RunID || oe.Got != want.RunID {
		t.Errorf("err = %#v, want an OtherRunError naming both runs", err)
	}
	// The identity sheet edited to claim the other run is no way around it:
	// the breaks are then checked against that run's.
	edited := editWorkbook(t, path, func(f *excelize.File) { set(t, f, IdentitySheet, "B2", "run-x") })
	if _, err := ReadReview(context.Background(), edited, want, orig); !errors.Is(err, ErrOtherRun) {
		t.Errorf("identity edited: err = %v, want ErrOtherRun", err)
	}
}

func TestReadReviewNotFinrecon(t *testing.T) {
	dir, path := reviewFixture(t, Options{})
	want, orig := reviewRun(t, dir)
	noIdentity := editWorkbook(t, path, func(f *excelize.File) {
		if err := f.DeleteSheet(IdentitySheet); err != nil {
			t.Fatal(err)
		}
	})
	blank := filepath.Join(t.TempDir(), "blank.xlsx")
	f := excelize.NewFile()
	if err := f.SaveAs(blank); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{noIdentity, blank} {
		if _, err := ReadReview(context.Background(), p, want, orig); !errors.Is(err, ErrNotFinreconWorkbook) {
			t.Errorf("%s: err = %v, want ErrNotFinreconWorkbook", filepath.Base(p), err)
		}
	}
	if _, err := ReadReview(context.Background(), filepath.Join(t.TempDir(), "none.xlsx"), want, orig); err == nil {
		t.Errorf("missing file: no error")
	}
}

func TestSameNumber(t *testing.T) {
	tests := []struct {
		want, raw string
		same      bool
	}{
		{"1234.5", "1234.5", true},
		{"1234.5", "1234.50", true},
		{"1234.5", "1.2345E+3", true}, // Excel may write an exponent
		{"1234.5", "1234.51", false},
		{"1234.5", "", false},
		{"1234.5", "abc", false},
		{"0.0001", "0.0001", true},
		{"0.0001", "0.0002", false},
		// 18 significant digits come back from Excel with 15.
		{"12345678901234.5678", "12345678901234.6", true},
		{"12345678901234.5678", "12345678901234.7", false},
		{"-99999999999999.9999", "-100000000000000", true},
	}
	for _, tc := range tests {
		if got := sameNumber(decimal.RequireFromString(tc.want), tc.raw); got != tc.same {
			t.Errorf("sameNumber(%s, %q) = %v, want %v", tc.want, tc.raw, got, tc.same)
		}
	}
}

func TestSheetNames(t *testing.T) {
	n := newSheetNames(SummarySheet, AboutSheet, IdentitySheet)
	tests := []struct {
		recon string
		part  int
		want  string
	}{
		{"invoices", 1, "invoices"},
		{"invoices", 2, "invoices (2)"},
		{"a:b/c\\d?e*f[g]h", 1, "a_b_c_d_e_f_g_h"},
		{"summary", 1, "summary~2"}, // Excel compares names without case
		{"summary", 2, "summary~2 (2)"},
		{"'quoted'", 1, "quoted"},
		{"history", 1, "_history"},
		{"", 1, "_"},
		{"a_very_long_reconciliation_name_indeed", 1, "a_very_long_reconciliation_name"},
		{"a_very_long_reconciliation_name_indeed", 2, "a_very_long_reconciliation_ (2)"},
		{"a_very_long_reconciliation_name_too", 1, "a_very_long_reconciliation_na~2"},
		{"ünïcødé_ëverywhere_in_this_long_name", 1, "ünïcødé_ëverywhere_in_this_long"},
	}
	for _, tc := range tests {
		got := n.sheet(tc.recon, tc.part)
		if got != tc.want {
			t.Errorf("sheet(%q, %d) = %q, want %q", tc.recon, tc.part, got, tc.want)
		}
		if f := excelize.NewFile(); f.SetSheetName("Sheet1", got) != nil {
			t.Errorf("excelize refuses sheet name %q", got)
		}
	}
	if a, b := n.table("x y"), n.table("x-y"); a != "Breaks_x_y" || b != "Breaks_x_y_2" {
		t.Errorf("tables = %q, %q, want Breaks_x_y, Breaks_x_y_2", a, b)
	}
}

func TestSheetText(t *testing.T) {
	long := strings.Repeat("é", maxCellChars+10)
	if got := sheetText(long); utf16Len(got) != maxCellChars {
		t.Errorf("sheetText of %d characters keeps %d, want %d", utf16Len(long), utf16Len(got), maxCellChars)
	}
	if got := sheetText("a\x00b\tc"); got != "a\uFFFDb\tc" {
		t.Errorf("sheetText = %q, want the NUL replaced", got)
	}
	// Two UTF-16 units each: the cut does not split one.
	emoji := strings.Repeat("😀", maxCellChars/2+1)
	if got := sheetText(emoji); utf16Len(got) != maxCellChars-1 {
		t.Errorf("sheetText of emoji keeps %d units, want %d", utf16Len(got), maxCellChars-1)
	}
}

// reviewFixture writes the fixture run and its workbook.
func reviewFixture(t *testing.T, opts Options) (dir, path string) {
	t.Helper()
	dir = writeFixture(t, fixtureSummary, fixtureBreaks)
	opts.RunDir = dir
	res, err := Write(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return dir, res.Path
}

// reviewRun returns what ReadReview needs of the run in dir.
func reviewRun(t *testing.T, dir string) (*run.Manifest, func(string) (*run.Break, bool)) {
	t.Helper()
	want, err := run.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := RunBreaks(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return want, orig
}

// editWorkbook copies the workbook at path with edit applied, as an
// accountant's spreadsheet program would save it.
func editWorkbook(t *testing.T, path string, edit func(*excelize.File)) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	edit(f)
	out := filepath.Join(t.TempDir(), "reviewed.xlsx")
	if err := f.SaveAs(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func set(t *testing.T, f *excelize.File, sheet, cell, v string) {
	t.Helper()
	if err := f.SetCellStr(sheet, cell, v); err != nil {
		t.Fatal(err)
	}
}

// setNumber writes digits as a numeric cell, as a spreadsheet stores a
// typed number.
func setNumber(t *testing.T, f *excelize.File, sheet, cell, digits string) {
	t.Helper()
	if err := f.SetCellDefault(sheet, cell, digits); err != nil {
		t.Fatal(err)
	}
}

// copyRow copies row from to row to, values only.
func copyRow(t *testing.T, f *excelize.File, sheet string, from, to int) {
	t.Helper()
	all, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	writeRow(t, f, sheet, to, all[from-1])
}

// reverseRows sorts a sheet's data rows last to first, values only, the
// way sorting moves rows around.
func reverseRows(t *testing.T, f *excelize.File, sheet string) {
	t.Helper()
	all, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	for row := len(all); row >= 2; row-- {
		if err := f.RemoveRow(sheet, row); err != nil {
			t.Fatal(err)
		}
	}
	data := all[1:]
	slices.Reverse(data)
	for i, values := range data {
		writeRow(t, f, sheet, i+2, values)
	}
}

func writeRow(t *testing.T, f *excelize.File, sheet string, row int, values []string) {
	t.Helper()
	for i, v := range values {
		if v == "" {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(i+1, row)
		// Numbers stay numbers; SetCellDefault writes anything else as text.
		if err := f.SetCellDefault(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
}

func refusalStrings(rv *Review) []string {
	var out []string
	for _, r := range rv.Refusals {
		out = append(out, r.String())
	}
	return out
}

// TestTextRoundTrip writes text that XML, Excel or a cell's limit would
// change, reads it back as displayed, and reads the workbook back as a
// review: the writer and the comparison must agree, or an untouched cell
// would be refused as edited.
func TestTextRoundTrip(t *testing.T) {
	details := []string{
		`<tag> & "quotes" 'apostrophes'`,
		"  leading and trailing spaces  ",
		"line one\nline two\r\nline three\r",
		"tab\there",
		"literal _x000D_ and _x005F_x0041_ escapes",
		"control \x01\x1f characters",
		"émoji 😀 and ünïcode",
		strings.Repeat("long ", maxCellChars/5+10),
	}
	var breaks []fixtureBreak
	for i, d := range details {
		breaks = append(breaks, fixtureBreak{id: fmt.Sprintf("t-%d", i), recon: "r", typ: "unmatched", severity: "low",
			side: "left", currency: "EUR", leftAmount: "1", firstSeen: "2025-01-31", ageDays: "0", detail: d,
			reviewComment: d})
	}
	dir := writeFixture(t, fixtureSummary, breaks)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := openReport(t, res.Path)
	for i, d := range details {
		for _, col := range []string{"S", "AB"} { // detail, comment
			cell := fmt.Sprintf("%s%d", col, i+2)
			got, err := f.GetCellValue("r", cell)
			if err != nil {
				t.Fatal(err)
			}
			if want := sheetText(d); got != want {
				t.Errorf("%s = %q, want %q", cell, got, want)
			}
		}
	}
	want, orig := reviewRun(t, dir)
	rv, err := ReadReview(context.Background(), res.Path, want, orig)
	if err != nil {
		t.Fatal(err)
	}
	if len(rv.Refusals) > 0 || len(rv.Edits) != len(details) {
		t.Errorf("%d edits, refusals %q; want %d edits and no refusal", len(rv.Edits), refusalStrings(rv), len(details))
	}
}

func TestWriteCancelled(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, Options{RunDir: dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, run.ReportXLSX)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a cancelled write left %s (stat: %v)", run.ReportXLSX, err)
	}
}
