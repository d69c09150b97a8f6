package report

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/run"
)

// kind says how a column's cells are written and how a cell read back from a
// reviewed workbook is compared with the run.
type kind int

const (
	textKind     kind = iota
	severityKind      // text, highlighted by severity
	moneyKind         // exact decimal in the break's currency
	dateKind          // a real Excel date
	intKind           // a whole number
	flagKind          // "yes" or "no"
	reviewKind        // the accountants' own: the only cells they may edit
)

// column is one column of a recon sheet. Exactly one of the getters is set,
// the one its kind uses. The same definition writes the cell, explains the
// column on the About sheet and checks the cell when a workbook comes back,
// so the three cannot drift apart.
type column struct {
	name   string
	width  float64
	kind   kind
	about  string // what the column means, in plain words
	text   func(*run.Break) string
	amount func(*run.Break) decimal.NullDecimal
	date   func(*run.Break) time.Time
	number func(*run.Break) int64
	flag   func(*run.Break) bool
}

// Names of the review columns, the last three of every recon sheet.
const (
	statusColumn  = "status"
	ownerColumn   = "owner"
	commentColumn = "comment"
)

// Review statuses an accountant may give a break. A break nobody has
// reviewed yet is open.
const (
	StatusOpen          = "open"
	StatusInvestigating = "investigating"
	StatusAccepted      = "accepted"
	StatusFixedInSource = "fixed-in-source"
)

// ReviewStatuses lists the review statuses in the order a break usually
// moves through them.
var ReviewStatuses = []string{StatusOpen, StatusInvestigating, StatusAccepted, StatusFixedInSource}

// reviewStatus is the status a break shows: the one carried over from
// earlier runs, or open.
func reviewStatus(b *run.Break) string {
	if b.ReviewStatus == "" {
		return StatusOpen
	}
	return b.ReviewStatus
}

// afterDesignColumns follow DESIGN §6's columns (model.BreakColumns) on a
// recon sheet, in this order.
var afterDesignColumns = []string{
	"partner_name", "fix_in", "left_origin", "right_origin", "occurrences", "reopened",
	statusColumn, ownerColumn, commentColumn,
}

func text(width float64, about string, get func(*run.Break) string) column {
	return column{width: width, kind: textKind, about: about, text: get}
}

func money(about string, get func(*run.Break) decimal.NullDecimal) column {
	return column{width: 16, kind: moneyKind, about: about, amount: get}
}

func review(width float64, about string, get func(*run.Break) string) column {
	return column{width: width, kind: reviewKind, about: about, text: get}
}

// columnsByName knows every column a recon sheet may have.
var columnsByName = map[string]column{
	"break_id": text(18, "The break's identifier. It stays the same from one run to the next for the same "+
		"problem, so a break can be followed over days. Do not change it: it is how your review is matched back.",
		func(b *run.Break) string { return b.ID }),
	"recon": text(14, "The reconciliation (the rule file in rules/) that found the break.",
		func(b *run.Break) string { return b.Recon }),
	"pass": text(12, "For a matched pair, the matching step that paired the two records; empty for unmatched "+
		"records and for checks on one dataset.", func(b *run.Break) string { return b.Pass }),
	"break_type": text(18, "What kind of problem it is: see \"Break types\" above.",
		func(b *run.Break) string { return b.Type }),
	"severity": {width: 10, kind: severityKind, about: "How much it matters, as the rule says: critical, high " +
		"(both red), medium (amber) or low.", text: func(b *run.Break) string { return b.Severity }},
	"side": text(7, "Which side the problem is on: left (only the first dataset), right (only the second) or both.",
		func(b *run.Break) string { return b.Side }),
	"left_system": text(18, "The first dataset compared, as system.table (e.g. billing.invoices).",
		func(b *run.Break) string { return b.LeftSystem }),
	"left_id": text(16, "The record(s) in the first dataset; several are joined with |.",
		func(b *run.Break) string { return b.LeftID }),
	"right_system": text(18, "The second dataset compared (e.g. odoo.invoices); empty for a check on one dataset.",
		func(b *run.Break) string { return b.RightSystem }),
	"right_id": text(16, "The record(s) in the second dataset; several are joined with |.",
		func(b *run.Break) string { return b.RightID }),
	"partner_id": text(12, "The customer or supplier.", func(b *run.Break) string { return b.PartnerID }),
	"legal_entity": text(10, "The company of the group the records belong to.",
		func(b *run.Break) string { return b.LegalEntity }),
	"currency": text(9, "The currency of the amounts (ISO 4217 code).",
		func(b *run.Break) string { return b.Currency }),
	"left_amount": money("The amount on the first dataset's side, in the currency's decimals.",
		func(b *run.Break) decimal.NullDecimal { return b.LeftAmount }),
	"right_amount": money("The amount on the second dataset's side.",
		func(b *run.Break) decimal.NullDecimal { return b.RightAmount }),
	"difference": money("left_amount minus right_amount, when both sides have one.",
		func(b *run.Break) decimal.NullDecimal { return b.Difference }),
	"first_seen": {width: 12, kind: dateKind, about: "The as-of date of the first run that reported the break.",
		date: func(b *run.Break) time.Time { return b.FirstSeen }},
	"age_days": {width: 9, kind: intKind, about: "Days from first_seen to this run's as-of date.",
		number: func(b *run.Break) int64 { return b.AgeDays }},
	"detail": text(60, "What differs, in words, with the values found.",
		func(b *run.Break) string { return b.Detail }),
	"partner_name": text(28, "The partner's name, to help find the records.",
		func(b *run.Break) string { return b.PartnerName }),
	"fix_in": text(16, "Where the rule says the correction belongs (the system that is not authoritative for "+
		"this field); empty when a person decides.", func(b *run.Break) string { return b.FixIn }),
	"left_origin": text(26, "Where the left record came from: file and line, or the source system's record.",
		func(b *run.Break) string { return b.LeftOrigin }),
	"right_origin": text(26, "Where the right record came from.",
		func(b *run.Break) string { return b.RightOrigin }),
	"occurrences": {width: 11, kind: intKind, about: "How many runs have reported this break, this one included.",
		number: func(b *run.Break) int64 { return b.Occurrences }},
	"reopened": {width: 9, kind: flagKind, about: "yes when the break had been resolved in an earlier run and came back.",
		flag: func(b *run.Break) bool { return b.Reopened }},
	statusColumn: review(16, "Yours to edit: open, investigating, accepted (a known, explained difference) or "+
		"fixed-in-source (corrected in the source system; the break should go away in a later run). "+
		"Carried over from earlier runs.", reviewStatus),
	ownerColumn: review(16, "Yours to edit: who is working on the break.",
		func(b *run.Break) string { return b.ReviewOwner }),
	commentColumn: review(40, "Yours to edit: notes for your colleagues and the auditor.",
		func(b *run.Break) string { return b.ReviewComment }),
}

// sheetColumns returns the columns of a recon sheet, in order.
func sheetColumns() ([]column, error) {
	names := append(append([]string(nil), model.BreakColumns...), afterDesignColumns...)
	cols := make([]column, len(names))
	for i, name := range names {
		c, ok := columnsByName[name]
		if !ok {
			return nil, fmt.Errorf("no cell writer for break column %q", name)
		}
		c.name = name
		cols[i] = c
	}
	return cols, nil
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// maxCellChars is the most UTF-16 units an Excel cell holds.
const maxCellChars = excelize.TotalCellChars

// sheetText is s as a cell can hold it: characters XML cannot carry become
// U+FFFD, and the text is cut at Excel's limit on a character boundary. The same function serves the writer and the
// read-back, so a long or odd detail does not read back as an edit.
func sheetText(s string) string {
	if isPlainText(s) {
		return s
	}
	var b strings.Builder
	units := 0
	for _, r := range s {
		if !isXMLChar(r) {
			r = utf8.RuneError
		}
		n := utf16.RuneLen(r)
		if units+n > maxCellChars {
			break
		}
		units += n
		b.WriteRune(r)
	}
	return b.String()
}

// isPlainText reports whether s needs no change to fit in a cell; it is the
// fast path for the millions of short ASCII values of a large run.
func isPlainText(s string) bool {
	if len(s) > maxCellChars {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			return false
		}
	}
	return true
}

// isXMLChar reports whether r may appear in XML 1.0 text.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
