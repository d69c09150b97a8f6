package adjust

import (
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/run"
)

// CSVHeader is the header of adjustments.csv: Odoo's import wizard fields
// for account.move with its line_ids. Journal and accounts are codes,
// partners names.
var CSVHeader = []string{
	"id", "ref", "date", "journal_id",
	"line_ids/account_id", "line_ids/partner_id", "line_ids/name",
	"line_ids/debit", "line_ids/credit",
}

// Record is one line of adjustments.jsonl: an entry and where it comes from.
type Record struct {
	IdempotencyKey string `json:"idempotency_key"`
	BatchID        string `json:"batch_id"`
	// ExternalID is the entry's id in adjustments.csv.
	ExternalID  string `json:"external_id"`
	BreakID     string `json:"break_id"`
	Recon       string `json:"recon"`
	BreakType   string `json:"break_type"`
	LegalEntity string `json:"legal_entity"`
	Currency    string `json:"currency"`
	Move        Move   `json:"move"`
}

// Move is the values of an account.move create call, except that the
// journal, accounts and partners are still codes and references for post to
// resolve to Odoo ids.
type Move struct {
	MoveType    string `json:"move_type"` // always "entry"
	Ref         string `json:"ref"`       // the idempotency key
	Date        string `json:"date"`      // YYYY-MM-DD
	JournalCode string `json:"journal_code"`
	Lines       []Line `json:"line_ids"`
}

// Line is one journal item. Debit and Credit are exact decimals with the
// currency's decimals ("0.42", "0.00"), never floats.
type Line struct {
	AccountCode string `json:"account_code"`
	PartnerRef  string `json:"partner_ref"` // the partner_id of the break
	PartnerName string `json:"partner_name"`
	Name        string `json:"name"`
	Debit       string `json:"debit"`
	Credit      string `json:"credit"`
}

// Batch is batch.json: the batch's provenance, counts and totals, the breaks
// that got no entry, and the warning that the CSV must be imported once.
type Batch struct {
	BatchID string `json:"batch_id"`
	// ImportOnce is the warning Odoo's import wizard makes necessary.
	ImportOnce string           `json:"import_once"`
	RunID      string           `json:"run_id"`
	SnapshotID string           `json:"snapshot_id"`
	RulesHash  string           `json:"rules_hash"`
	AsOf       string           `json:"as_of"`
	Entries    int              `json:"entries"`
	Totals     []Total          `json:"totals"`
	Skipped    []Skip           `json:"skipped"`
	Files      []run.FileDigest `json:"files"`
}

// Total is a currency's debits and credits in batch.json, as exact decimals.
type Total struct {
	Currency string `json:"currency"`
	Debit    string `json:"debit"`
	Credit   string `json:"credit"`
}

// importOnce is Batch.ImportOnce.
const importOnce = "Import " + CSVFile + " through Odoo's import wizard ONCE ONLY: " +
	"importing it again finds the same entries by their external ids and appends every line again, " +
	"doubling the amounts. Prefer finrecon post, which looks up each entry's idempotency key " +
	"in Odoo's ref and creates only the entries not already there, as drafts."

// record is the JSON Lines form of an entry.
func (e *entry) record() Record {
	lines := make([]Line, len(e.lines))
	for i, l := range e.lines {
		lines[i] = Line{
			AccountCode: l.account,
			PartnerRef:  l.partnerRef,
			PartnerName: l.partnerName,
			Name:        l.name,
			Debit:       l.debit.StringFixed(e.places),
			Credit:      l.credit.StringFixed(e.places),
		}
	}
	return Record{
		IdempotencyKey: e.key,
		BatchID:        e.batchID,
		ExternalID:     e.externalID,
		BreakID:        e.brk.ID,
		Recon:          e.brk.Recon,
		BreakType:      e.brk.Type,
		LegalEntity:    e.brk.LegalEntity,
		Currency:       e.currency,
		Move: Move{
			MoveType:    "entry",
			Ref:         e.key,
			Date:        e.date,
			JournalCode: e.journal,
			Lines:       lines,
		},
	}
}

// csvRows is the import wizard form of an entry: the first row carries the
// entry's fields, the others continue it with line fields only.
func (e *entry) csvRows() [][]string {
	rows := make([][]string, len(e.lines))
	for i, l := range e.lines {
		head := []string{"", "", "", ""}
		if i == 0 {
			head = []string{e.externalID, e.key, e.date, e.journal}
		}
		rows[i] = append(head, l.account, l.partnerName, l.name,
			l.debit.StringFixed(e.places), l.credit.StringFixed(e.places))
	}
	return rows
}

// header is the batch.json of the batch built, files aside.
func (b *builder) header(res *Result) Batch {
	totals := make([]Total, len(res.Totals))
	for i, t := range res.Totals {
		places, _ := model.CurrencyDecimals(t.Currency) // known: entries exist in it
		totals[i] = Total{Currency: t.Currency, Debit: t.Debit.StringFixed(places), Credit: t.Credit.StringFixed(places)}
	}
	skipped := res.Skipped
	if skipped == nil {
		skipped = []Skip{}
	}
	return Batch{
		BatchID:    res.BatchID,
		ImportOnce: importOnce,
		RunID:      b.manifest.RunID,
		SnapshotID: b.manifest.SnapshotID,
		RulesHash:  b.manifest.RulesHash,
		AsOf:       b.manifest.AsOf,
		Entries:    res.Entries,
		Totals:     totals,
		Skipped:    skipped,
	}
}
