package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/model"
)

// breakTypeAbout explains each built-in break type to an accountant.
var breakTypeAbout = map[string]string{
	model.Unmatched: "A record on one side has no counterpart on the other, e.g. an invoice in billing " +
		"that never reached Odoo, or a payment Odoo never received.",
	model.AmountMismatch: "The two records were paired, but their amounts differ by more than the rule's " +
		"tolerance.",
	model.TaxMismatch:      "The two records were paired, but their tax amounts differ.",
	model.CurrencyMismatch: "The two records were paired, but they are in different currencies.",
	model.DateMismatch: "The two records were paired, but a date (issue, due, value or posting date) " +
		"differs by more than the rule allows.",
	model.StatusMismatch: "The two records were paired, but their statuses disagree, e.g. paid in billing " +
		"and still open in Odoo.",
	model.PartnerMismatch: "The two records were paired, but they name different customers or suppliers.",
	model.Duplicate: "The same record appears more than once in one dataset, e.g. a retried event posted " +
		"twice. All copies are listed; one of them went on to matching.",
	model.VersionConflict: "A risk decision arrived that is older than one already applied: the decisions " +
		"came out of order.",
	model.LimitBreach:     "A partner's exposure is above the credit limit the risk engine set.",
	model.UnbalancedEntry: "A journal entry whose debits do not equal its credits.",
	model.Ambiguous: "Several candidates match equally well, so nothing was paired: a person must choose. " +
		"The ids of all candidates are listed.",
	model.TimingDifference: "A pair matched across the period end: one side is dated on or before it, the " +
		"other just after (a payment in transit, say). It usually clears in the next period.",
	model.ProposedMatch: "A pair that a fuzzy pass proposes because the references look alike. Confirm or " +
		"reject it.",
}

// statusAbout explains each review status.
var statusAbout = map[string]string{
	StatusOpen:          "Nobody has looked at the break yet. New breaks start here.",
	StatusInvestigating: "Someone (the owner) is finding out what happened.",
	StatusAccepted:      "The difference is understood and accepted; say why in the comment.",
	StatusFixedInSource: "It was corrected in the source system; the break should be gone in a later run.",
}

var reviewSteps = []string{
	"Open the sheet of a reconciliation. Edit only the yellow columns: status, owner and comment.",
	"Pick the status from its list: " + strings.Join(ReviewStatuses, ", ") + ".",
	"Sort, filter and hide as you like, and add your own columns to the right or your own sheets: " +
		"they are ignored. Do not change the other cells, rename the headers or the sheets, or delete the " +
		"hidden " + IdentitySheet + " sheet: it ties the workbook to its run.",
	"Save the workbook as .xlsx and run: finrecon review import <file>",
	"The import reports what changed and refuses, naming the cell, an unknown status, an edit to a " +
		"column that is not yours, an unknown break_id, or a workbook from another run. Fix those rows " +
		"and import again: rows already taken are simply taken again.",
	"The next run's workbook carries your status, owner and comment over.",
}

// aboutSheet writes the About sheet top to bottom.
type aboutSheet struct {
	f   *excelize.File
	st  *styles
	row int
}

// writeAbout writes the About sheet: the sheets, each break type (custom
// types found in the run included, with the recons that raised them), each
// column, the review statuses and the review round trip.
func writeAbout(f *excelize.File, st *styles, cols []column, custom map[string][]string) error {
	if _, err := f.NewSheet(AboutSheet); err != nil {
		return err
	}
	if err := f.SetColWidth(AboutSheet, "A", "A", 22); err != nil {
		return err
	}
	if err := f.SetColWidth(AboutSheet, "B", "B", 110); err != nil {
		return err
	}
	a := &aboutSheet{f: f, st: st}
	if err := a.write(cols, custom); err != nil {
		return fmt.Errorf("%s sheet: %w", AboutSheet, err)
	}
	return nil
}

func (a *aboutSheet) write(cols []column, custom map[string][]string) error {
	steps := []func() error{
		func() error { return a.line(a.st.title, "About this workbook", "") },
		func() error {
			return a.line(0, "", "finrecon compares your systems every night and lists here every difference "+
				"it found (a break), one sheet per reconciliation.")
		},
		func() error { return a.sheets() },
		func() error { return a.breakTypes(custom) },
		func() error { return a.columns(cols) },
		func() error { return a.statuses() },
		func() error { return a.roundTrip() },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (a *aboutSheet) sheets() error {
	a.row++
	rows := [][2]string{
		{SummarySheet, "The run (snapshot, as-of date, rules), then counts by reconciliation and break type, " +
			"severity, ageing, amounts at stake by currency, review status and match rates, with two charts."},
		{"<recon>", "One sheet per reconciliation, named after it, one row per break. A very large one " +
			"continues on \"<recon> (2)\", \"<recon> (3)\"."},
		{AboutSheet, "This page."},
	}
	return a.table("Sheets", rows)
}

func (a *aboutSheet) breakTypes(custom map[string][]string) error {
	var rows [][2]string
	for _, typ := range model.BreakTypes {
		rows = append(rows, [2]string{typ, breakTypeAbout[typ]})
	}
	for _, typ := range sortedKeys(custom) {
		rows = append(rows, [2]string{typ, "A type the rules of " + strings.Join(custom[typ], ", ") +
			" declare (see the rules folder of the run). The detail column says what was compared and found."})
	}
	return a.table("Break types", rows)
}

func (a *aboutSheet) columns(cols []column) error {
	rows := make([][2]string, len(cols))
	for i, c := range cols {
		rows[i] = [2]string{c.name, c.about}
	}
	return a.table("Columns", rows)
}

func (a *aboutSheet) statuses() error {
	rows := make([][2]string, len(ReviewStatuses))
	for i, s := range ReviewStatuses {
		rows[i] = [2]string{s, statusAbout[s]}
	}
	return a.table("Review statuses", rows)
}

func (a *aboutSheet) roundTrip() error {
	rows := make([][2]string, len(reviewSteps))
	for i, s := range reviewSteps {
		rows[i] = [2]string{strconv.Itoa(i + 1), s}
	}
	return a.table("Your review, back into finrecon", rows)
}

// table writes a section title and label/explanation rows under it.
func (a *aboutSheet) table(title string, rows [][2]string) error {
	a.row++
	if err := a.line(a.st.section, title, ""); err != nil {
		return err
	}
	for _, r := range rows {
		if err := a.line(a.st.bold, r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

// line writes label (with labelStyle) in column A and text, wrapped, in B.
func (a *aboutSheet) line(labelStyle int, label, text string) error {
	a.row++
	row := strconv.Itoa(a.row)
	if label != "" {
		if err := a.f.SetCellStr(AboutSheet, "A"+row, label); err != nil {
			return err
		}
		if labelStyle != 0 {
			if err := a.f.SetCellStyle(AboutSheet, "A"+row, "A"+row, labelStyle); err != nil {
				return err
			}
		}
	}
	if text == "" {
		return nil
	}
	if err := a.f.SetCellStyle(AboutSheet, "B"+row, "B"+row, a.st.wrap); err != nil {
		return err
	}
	return a.f.SetCellStr(AboutSheet, "B"+row, text)
}
