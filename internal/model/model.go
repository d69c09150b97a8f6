// Package model defines finrecon's canonical data model once: the tables every
// source is mapped into, their columns and types, which columns are required,
// and the status vocabularies (DESIGN §4). Every other package imports it; it
// imports nothing of finrecon's.
package model

import (
	"fmt"
	"sort"
	"strings"
)

// SchemaVersion is recorded in every snapshot manifest. Bump it when a table
// gains, loses or retypes a column.
const SchemaVersion = 2

// Money is the SQL type of every amount: exact, 14 integer and 4 fractional
// digits. Aggregates may widen it; nothing narrows it.
const Money = "DECIMAL(18,4)"

// MoneyScale is the number of fractional digits Money keeps.
const MoneyScale = 4

// MoneyIntDigits is the number of integer digits Money holds.
const MoneyIntDigits = 14

// Kind is the logical type of a canonical column.
type Kind int

const (
	Text Kind = iota
	Amount
	Date
	Timestamp
	Integer
	Currency // an ISO 4217 alphabetic code
	Rate     // an exchange rate: exact, up to RateScale decimals
)

// RateType is the SQL type of an exchange rate.
const RateType = "DECIMAL(18,10)"

// RateScale is the number of fractional digits a rate keeps.
const RateScale = 10

// SQLType is the DuckDB and Parquet type a column of this kind is stored as.
func (k Kind) SQLType() string {
	switch k {
	case Amount:
		return Money
	case Date:
		return "DATE"
	case Timestamp:
		return "TIMESTAMP"
	case Integer:
		return "BIGINT"
	case Rate:
		return RateType
	default:
		return "VARCHAR"
	}
}

func (k Kind) String() string {
	return [...]string{"text", "amount", "date", "timestamp", "integer", "currency", "rate"}[k]
}

// Column is one canonical column.
type Column struct {
	Name     string
	Kind     Kind
	Required bool
	// Values, when set, is the closed vocabulary the column may hold.
	Values []string
}

// Table is one canonical table. Key names the column that identifies a row
// inside one dataset; Amount is the SQL expression of a row's main amount,
// the one a break report shows.
type Table struct {
	Name    string
	Key     string
	Amount  string
	Columns []Column
}

// Origin is the column every row carries to trace it to its source record,
// such as "billing/invoices.csv:123" or "account.move:42".
const Origin = "_origin"

var (
	invoiceKinds   = []string{"invoice", "credit_note"}
	invoiceStatus  = []string{"draft", "open", "partial", "paid", "cancelled"}
	paymentStatus  = []string{"pending", "settled", "failed", "refunded"}
	journalStatus  = []string{"draft", "posted", "cancelled"}
	tablesByName   map[string]Table
	canonicalOrder []Table
)

func init() {
	canonicalOrder = []Table{
		{Name: "invoices", Key: "invoice_id", Amount: "amount_total", Columns: []Column{
			{Name: "invoice_id", Kind: Text, Required: true},
			{Name: "invoice_number", Kind: Text},
			{Name: "external_ref", Kind: Text},
			{Name: "kind", Kind: Text, Values: invoiceKinds},
			{Name: "partner_id", Kind: Text, Required: true},
			{Name: "partner_name", Kind: Text},
			{Name: "legal_entity", Kind: Text},
			{Name: "currency", Kind: Currency, Required: true},
			{Name: "amount_untaxed", Kind: Amount},
			{Name: "amount_tax", Kind: Amount},
			{Name: "amount_total", Kind: Amount, Required: true},
			{Name: "amount_residual", Kind: Amount},
			{Name: "issue_date", Kind: Date, Required: true},
			{Name: "due_date", Kind: Date},
			{Name: "status", Kind: Text, Values: invoiceStatus},
			{Name: "updated_at", Kind: Timestamp},
		}},
		{Name: "payments", Key: "payment_id", Amount: "amount", Columns: []Column{
			{Name: "payment_id", Kind: Text, Required: true},
			{Name: "payment_ref", Kind: Text},
			{Name: "invoice_ref", Kind: Text},
			{Name: "partner_id", Kind: Text, Required: true},
			{Name: "legal_entity", Kind: Text},
			{Name: "currency", Kind: Currency, Required: true},
			{Name: "amount", Kind: Amount, Required: true},
			{Name: "value_date", Kind: Date, Required: true},
			{Name: "status", Kind: Text, Values: paymentStatus},
			{Name: "method", Kind: Text},
			{Name: "updated_at", Kind: Timestamp},
		}},
		{Name: "journal_lines", Key: "line_id", Amount: "debit - credit", Columns: []Column{
			{Name: "entry_id", Kind: Text, Required: true},
			{Name: "line_id", Kind: Text, Required: true},
			{Name: "entry_ref", Kind: Text},
			{Name: "journal", Kind: Text},
			{Name: "account_code", Kind: Text, Required: true},
			{Name: "partner_id", Kind: Text},
			{Name: "legal_entity", Kind: Text},
			{Name: "currency", Kind: Currency, Required: true},
			{Name: "debit", Kind: Amount, Required: true},
			{Name: "credit", Kind: Amount, Required: true},
			{Name: "amount_currency", Kind: Amount},
			{Name: "posting_date", Kind: Date, Required: true},
			{Name: "status", Kind: Text, Values: journalStatus},
			{Name: "updated_at", Kind: Timestamp},
		}},
		{Name: "exposures", Key: "exposure_id", Amount: "exposure_amount", Columns: []Column{
			{Name: "exposure_id", Kind: Text, Required: true},
			{Name: "decision_id", Kind: Text},
			{Name: "decision_version", Kind: Integer},
			{Name: "partner_id", Kind: Text, Required: true},
			{Name: "legal_entity", Kind: Text},
			{Name: "currency", Kind: Currency, Required: true},
			{Name: "credit_limit", Kind: Amount},
			{Name: "exposure_amount", Kind: Amount, Required: true},
			{Name: "payment_terms_days", Kind: Integer},
			{Name: "risk_rating", Kind: Text},
			{Name: "decided_at", Kind: Timestamp},
			{Name: "effective_from", Kind: Date},
		}},
		// One row per day and currency pair: 1 from_currency = rate
		// to_currency, valid from rate_date until the next row.
		{Name: "rates", Key: "rate_id", Amount: "rate", Columns: []Column{
			{Name: "rate_id", Kind: Text},
			{Name: "from_currency", Kind: Currency, Required: true},
			{Name: "to_currency", Kind: Currency, Required: true},
			{Name: "rate_date", Kind: Date, Required: true},
			{Name: "rate", Kind: Rate, Required: true},
		}},
	}
	tablesByName = make(map[string]Table, len(canonicalOrder))
	for _, t := range canonicalOrder {
		tablesByName[t.Name] = t
	}
}

// Tables returns the canonical tables in a fixed order.
func Tables() []Table { return append([]Table(nil), canonicalOrder...) }

// LookupTable returns the canonical table called name.
func LookupTable(name string) (Table, bool) {
	t, ok := tablesByName[name]
	return t, ok
}

// TableNames returns the canonical table names, sorted.
func TableNames() []string {
	names := make([]string, 0, len(tablesByName))
	for n := range tablesByName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Column returns the column called name.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ColumnNames returns the table's column names in canonical order.
func (t Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// Dataset names one system's copy of a canonical table, e.g. billing.invoices.
type Dataset struct {
	System string
	Table  string
}

func (d Dataset) String() string { return d.System + "." + d.Table }

// ParseDataset parses "system.table" and checks the table is canonical.
func ParseDataset(s string) (Dataset, error) {
	system, table, ok := strings.Cut(s, ".")
	if !ok || system == "" || table == "" {
		return Dataset{}, fmt.Errorf("dataset %q: want <system>.<table>, e.g. billing.invoices", s)
	}
	if !ValidIdent(system) {
		return Dataset{}, fmt.Errorf("dataset %q: system name must be lower-case letters, digits and _", s)
	}
	if _, ok := tablesByName[table]; !ok {
		return Dataset{}, fmt.Errorf("dataset %q: unknown table %q (canonical tables: %s)", s, table, strings.Join(TableNames(), ", "))
	}
	return Dataset{System: system, Table: table}, nil
}

// ValidIdent reports whether s is a lower-case identifier safe to use
// unquoted in SQL and in file names.
func ValidIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
