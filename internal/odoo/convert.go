package odoo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/model"
)

// Origin is the extra column that traces a canonical row to its Odoo
// record, "account.move:42". (The snapshot's own _origin column names the
// file and line; this one names the record behind it.)
const Origin = "origin"

// Extra columns written after the canonical ones; extract keeps them, and
// rules may use them.
var (
	invoiceExtras = []string{Origin, "odoo_move_type", "odoo_state", "odoo_payment_state", "payment_reference", "invoice_origin"}
	paymentExtras = []string{Origin, "odoo_state", "payment_number", "payment_type", "partner_type", "journal"}
	lineExtras    = []string{Origin, "label", "odoo_display_type"}
)

// invoiceStatus maps an invoice's state and payment_state to the canonical
// status. A posted invoice is open until paid; "in_payment" (paid, the
// payment not yet matched with the bank) and "reversed" (cancelled by a
// credit note, nothing left due) count as paid, as does
// "invoicing_legacy" (marked paid when the Invoicing app was installed
// over old data); "blocked" (18+: payment on hold) is still open.
func invoiceStatus(state, paymentState string) string {
	switch state {
	case "draft":
		return "draft"
	case "cancel":
		return "cancelled"
	}
	switch paymentState {
	case "partial":
		return "partial"
	case "paid", "in_payment", "reversed", "invoicing_legacy":
		return "paid"
	}
	return "open"
}

// paymentStatus maps a payment's state to the canonical status. 17 says
// posted for every confirmed payment; 18 splits it into in_process (posted,
// not yet matched with a bank statement) and paid. Both count as settled,
// so that the same payment gets the same status on either version; the
// Odoo state stays in odoo_state for rules that need the difference. Money
// sent back to a customer (outbound, partner_type customer) that went
// through is refunded. draft is pending; cancel, canceled and rejected
// failed.
func paymentStatus(state, paymentType, partnerType string) string {
	switch state {
	case "draft":
		return "pending"
	case "cancel", "canceled", "rejected":
		return "failed"
	}
	if paymentType == "outbound" && partnerType == "customer" {
		return "refunded"
	}
	return "settled"
}

// lineStatus maps a journal item's parent_state.
func lineStatus(parentState string) string {
	if parentState == "cancel" {
		return "cancelled"
	}
	return parentState
}

// invoiceKind says whether a move is an invoice or a credit note: customer
// invoices and vendor bills are invoices, their refunds credit notes.
func invoiceKind(moveType string) string {
	if strings.HasSuffix(moveType, "_refund") {
		return "credit_note"
	}
	return "invoice"
}

// moveName drops the placeholder names of draft moves ("/" in 17, false in
// 18 and 19).
func moveName(name string) string {
	if name == "/" {
		return ""
	}
	return name
}

// converter turns mirrored records into canonical rows with the reference
// data it needs.
type converter struct {
	ref *refData
	d   dialect
	// issues counts rows with a value that could not be filled.
	issues map[string]int
}

func (x *converter) note(format string, args ...any) {
	x.issues[fmt.Sprintf(format, args...)]++
}

// invoice converts an account.move. Amounts are signed from the company's
// side (DESIGN §4): a credit note's are negated.
func (x *converter) invoice(r Record) []string {
	moveType := r.Text("move_type")
	kind := invoiceKind(moveType)
	cur := x.ref.currency(r)
	amounts := make([]string, 4)
	for i, f := range []string{"amount_untaxed", "amount_tax", "amount_total", "amount_residual"} {
		amounts[i] = x.amount(r, f, cur, kind == "credit_note")
	}
	issue := r.Text("invoice_date")
	if issue == "" {
		issue = r.Text("date") // drafts have no invoice date yet
	}
	partnerID, partnerName := x.ref.partner(r, "partner_id")
	row := []string{
		strconv.FormatInt(r.ID(), 10), moveName(r.Text("name")), r.Text("ref"), kind,
		partnerID, partnerName, x.ref.entity(r), cur.code,
		amounts[0], amounts[1], amounts[2], amounts[3],
		issue, r.Text("invoice_date_due"), invoiceStatus(r.Text("state"), r.Text("payment_state")), r.Text("write_date"),
		origin("account.move", r), moveType, r.Text("state"), r.Text("payment_state"),
		r.Text("payment_reference"), r.Text("invoice_origin"),
	}
	return row
}

// payment converts an account.payment: money received is positive, money
// paid out negative.
func (x *converter) payment(r Record) []string {
	cur := x.ref.currency(r)
	amount := x.amount(r, "amount", cur, r.Text("payment_type") == "outbound")
	partnerID, _ := x.ref.partner(r, "partner_id")
	_, method := r.Many2One("payment_method_line_id")
	journalID, _ := r.Many2One("journal_id")
	row := []string{
		strconv.FormatInt(r.ID(), 10), r.Text(x.d.paymentMemo), x.ref.invoiceRefs(r.IDs("reconciled_invoice_ids")),
		partnerID, x.ref.entity(r), cur.code, amount, r.Text("date"),
		paymentStatus(r.Text("state"), r.Text("payment_type"), r.Text("partner_type")), method, r.Text("write_date"),
		origin("account.payment", r), r.Text("state"), r.Text("name"), r.Text("payment_type"), r.Text("partner_type"),
		x.ref.journals[journalID],
	}
	return row
}

// line converts an account.move.line. Debit and credit are in the
// company's currency, amount_currency in the line's (DESIGN §4; file 16).
func (x *converter) line(r Record) []string {
	companyID, _ := r.Many2One("company_id")
	companyCur := x.ref.companyCurrency(companyID)
	lineCur := x.ref.currency(r)
	var amounts [3]string
	for i, f := range []struct {
		field string
		cur   currency
	}{{"debit", companyCur}, {"credit", companyCur}, {"amount_currency", lineCur}} {
		amounts[i] = x.amount(r, f.field, f.cur, false)
	}
	moveID, _ := r.Many2One("move_id")
	journalID, _ := r.Many2One("journal_id")
	accountID, _ := r.Many2One("account_id")
	code, ok := x.ref.accounts[accountKey{companyID, accountID}]
	if !ok {
		x.note("account %d of company %d has no readable code", accountID, companyID)
	}
	partnerID := ""
	if id, _ := r.Many2One("partner_id"); id != 0 {
		partnerID, _ = x.ref.partner(r, "partner_id")
	}
	row := []string{
		strconv.FormatInt(moveID, 10), strconv.FormatInt(r.ID(), 10), moveName(r.Text("move_name")),
		x.ref.journals[journalID], code, partnerID, x.ref.entity(r), lineCur.code,
		amounts[0], amounts[1], amounts[2], r.Text("date"), lineStatus(r.Text("parent_state")), r.Text("write_date"),
		origin("account.move.line", r), r.Text("name"), r.Text("display_type"),
	}
	return row
}

// amount reads field in cur's decimals, negated when asked, as a fixed
// decimal string; "" when Odoo sent false. A value that is not a number is
// passed on as it is, for extract to reject the row with the reason.
func (x *converter) amount(r Record, field string, cur currency, negate bool) string {
	d, ok, err := r.Amount(field, cur.places)
	if err != nil {
		x.note("%s is not a number in some records", field)
		return fmt.Sprint(r[field])
	}
	if !ok {
		return ""
	}
	if exact, _ := decimal.NewFromString(r.Text(field)); !exact.Sub(d).Abs().LessThan(floatNoise) {
		// Odoo rounds monetary values to the currency on write, so digits
		// past it are float noise (0.30000000000000004); anything larger is
		// worth a word.
		x.note("%s had more decimals than %s's %d and was rounded", field, cur.code, cur.places)
	}
	if negate && !d.IsZero() {
		d = d.Neg()
	}
	return fixed(d, cur.places)
}

// floatNoise is the largest difference rounding may make silently.
var floatNoise = decimal.New(1, -9)

// fixed shows d with exactly places decimals.
func fixed(d decimal.Decimal, places int32) string {
	if places < 0 {
		return d.String()
	}
	return d.StringFixed(places)
}

func origin(modelName string, r Record) string {
	return modelName + ":" + strconv.FormatInt(r.ID(), 10)
}

// tableSpec is one canonical table the connector writes.
type tableSpec struct {
	table   string
	model   string
	extras  []string
	convert func(*converter, Record) []string
}

var tableSpecs = []tableSpec{
	{"invoices", "account.move", invoiceExtras, (*converter).invoice},
	{"payments", "account.payment", paymentExtras, (*converter).payment},
	{"journal_lines", "account.move.line", lineExtras, (*converter).line},
}

// header is the table's CSV header: its canonical columns, then extras.
func (t tableSpec) header() []string {
	tbl, _ := model.LookupTable(t.table)
	return append(tbl.ColumnNames(), t.extras...)
}
