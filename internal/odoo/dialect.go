package odoo

// dialect holds what differs between the Odoo versions finrecon supports.
// Each difference is in the recordings under testdata/recorded: payments'
// memo (17 ref, file 38), account company (17 company_id, 18+ company_ids,
// files 19), payment states (files 24c), draft names (files 14, 29).
type dialect struct {
	major int
	// paymentMemo is the payment's communication field: 17's ref (not
	// stored), 18's memo.
	paymentMemo string
	// accountCompany is account.account's company field: 17's company_id
	// (many2one), 18's company_ids (many2many; the code is company
	// dependent).
	accountCompany string
	// lockDates are the res.company lock dates that stop a journal entry
	// from being dated on or before them: 17 has period_lock_date, which 18
	// split into sale_lock_date and purchase_lock_date and joined with
	// hard_lock_date. tax_lock_date is left out: adjustments carry no tax.
	lockDates []string
}

func dialectOf(v Version) dialect {
	if v.Major <= 17 {
		return dialect{major: v.Major, paymentMemo: "ref", accountCompany: "company_id",
			lockDates: []string{"fiscalyear_lock_date", "period_lock_date"}}
	}
	return dialect{major: v.Major, paymentMemo: "memo", accountCompany: "company_ids",
		lockDates: []string{"fiscalyear_lock_date", "sale_lock_date", "purchase_lock_date", "hard_lock_date"}}
}

// Fields read from each model. They are the fields of the recordings' own
// queries (files 11, 15, 17) plus what the canonical model needs.
var (
	invoiceFields = []string{
		"name", "ref", "move_type", "state", "partner_id", "invoice_date", "invoice_date_due", "date",
		"currency_id", "amount_untaxed", "amount_tax", "amount_total", "amount_residual",
		"payment_state", "journal_id", "company_id", "write_date", "invoice_origin", "payment_reference",
	}
	lineFields = []string{
		"move_id", "move_name", "name", "account_id", "journal_id", "debit", "credit", "amount_currency",
		"currency_id", "partner_id", "date", "parent_state", "company_id", "display_type", "write_date",
	}
)

func (d dialect) paymentFields() []string {
	return []string{
		"name", "date", "amount", "payment_type", "partner_type", "state", "partner_id", "currency_id",
		"journal_id", "payment_method_line_id", "move_id", "reconciled_invoice_ids", "payment_reference",
		d.paymentMemo, "company_id", "write_date",
	}
}
