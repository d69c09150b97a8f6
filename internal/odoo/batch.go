package odoo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/model"
)

// Files of an adjustment batch folder, as finrecon adjust writes it
// (internal/adjust/format.go is the authority on their fields).
const (
	BatchEntriesFile = "adjustments.jsonl"
	BatchHeaderFile  = "batch.json"
	// PostedFile is the record post keeps next to the batch: one JSON line
	// per entry it created or found already there, appended and synced as
	// it goes.
	PostedFile = "posted.jsonl"
)

// Batch is an adjustment batch read from its folder.
type Batch struct {
	Dir     string
	ID      string
	Entries []Entry
}

// Entry is one balanced journal entry to create as a draft.
type Entry struct {
	// Key is the idempotency key, also the move's ref in Odoo.
	Key         string
	LegalEntity string
	Currency    string
	Date        string // YYYY-MM-DD
	Journal     string // journal code
	Lines       []EntryLine
	// Line is the entry's line in adjustments.jsonl.
	Line int
}

// EntryLine is one journal item: exactly one of Debit and Credit is
// positive, both exact decimals.
type EntryLine struct {
	Account     string // account code
	PartnerRef  string // the partner id other systems know, or odoo:<id>
	PartnerName string
	Label       string
	Debit       decimal.Decimal
	Credit      decimal.Decimal
}

// record mirrors the fields post reads of internal/adjust's Record.
type record struct {
	IdempotencyKey string `json:"idempotency_key"`
	BatchID        string `json:"batch_id"`
	LegalEntity    string `json:"legal_entity"`
	Currency       string `json:"currency"`
	Move           struct {
		MoveType    string `json:"move_type"`
		Ref         string `json:"ref"`
		Date        string `json:"date"`
		JournalCode string `json:"journal_code"`
		Lines       []struct {
			AccountCode string `json:"account_code"`
			PartnerRef  string `json:"partner_ref"`
			PartnerName string `json:"partner_name"`
			Name        string `json:"name"`
			Debit       string `json:"debit"`
			Credit      string `json:"credit"`
		} `json:"line_ids"`
	} `json:"move"`
}

// BatchError lists every entry of a batch that cannot be posted as it is.
// A batch with one is refused whole, before any call to Odoo: it was
// hand-edited or damaged, and the rest of it is suspect too.
type BatchError struct {
	File     string
	Problems []string
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("%s: %d entr%s refused before anything was sent to Odoo:\n  %s",
		e.File, len(e.Problems), plural(len(e.Problems), "y", "ies"), strings.Join(e.Problems, "\n  "))
}

// ReadBatch reads and checks the batch in dir. Every entry must be
// balanced to the cent (sum of debits equals sum of credits, exactly),
// with amounts in its currency's decimals; any problem refuses the batch.
func ReadBatch(dir string) (*Batch, error) {
	path := filepath.Join(dir, BatchEntriesFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("adjustment batch: %w", err)
	}
	b := &Batch{Dir: dir}
	berr := &BatchError{File: path}
	seen := map[string]int{}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		e, batchID, problems := parseEntry(raw, i+1)
		if b.ID == "" {
			b.ID = batchID
		}
		if first, dup := seen[e.Key]; dup && e.Key != "" {
			problems = append(problems, fmt.Sprintf("idempotency key repeats line %d's", first))
		}
		seen[e.Key] = i + 1
		for _, p := range problems {
			berr.Problems = append(berr.Problems, fmt.Sprintf("line %d (%s): %s", i+1, orUnknown(e.Key), p))
		}
		b.Entries = append(b.Entries, e)
	}
	if len(berr.Problems) > 0 {
		return nil, berr
	}
	if b.ID == "" {
		b.ID = filepath.Base(dir)
	}
	return b, nil
}

// parseEntry decodes and checks one line of adjustments.jsonl.
func parseEntry(raw []byte, n int) (Entry, string, []string) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return Entry{Line: n}, "", []string{"not a JSON record: " + err.Error()}
	}
	e := Entry{Key: r.IdempotencyKey, LegalEntity: r.LegalEntity, Currency: r.Currency,
		Date: r.Move.Date, Journal: r.Move.JournalCode, Line: n}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if e.Key == "" {
		bad("no idempotency_key")
	}
	if r.Move.Ref != e.Key {
		bad("move ref %q differs from the idempotency key: the key is what makes a re-run safe", r.Move.Ref)
	}
	if r.Move.MoveType != "entry" {
		bad("move_type %q: post creates journal entries (entry) only", r.Move.MoveType)
	}
	if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
		bad("date %q: want YYYY-MM-DD", e.Date)
	}
	if e.Journal == "" {
		bad("no journal_code")
	}
	places, known := model.CurrencyDecimals(e.Currency)
	if !known {
		bad("unknown currency %q", e.Currency)
	}
	if len(r.Move.Lines) < 2 {
		bad("an entry needs at least two lines, it has %d", len(r.Move.Lines))
	}
	var debit, credit decimal.Decimal
	for i, l := range r.Move.Lines {
		line := EntryLine{Account: l.AccountCode, PartnerRef: l.PartnerRef, PartnerName: l.PartnerName, Label: l.Name}
		var err error
		if line.Debit, err = parseAmount(l.Debit, places, known); err != nil {
			bad("line %d debit: %v", i+1, err)
		}
		if line.Credit, err = parseAmount(l.Credit, places, known); err != nil {
			bad("line %d credit: %v", i+1, err)
		}
		if line.Account == "" {
			bad("line %d has no account_code", i+1)
		}
		if line.Debit.Sign() > 0 == (line.Credit.Sign() > 0) {
			bad("line %d: exactly one of debit (%s) and credit (%s) must be positive", i+1, l.Debit, l.Credit)
		}
		debit, credit = debit.Add(line.Debit), credit.Add(line.Credit)
		e.Lines = append(e.Lines, line)
	}
	if !debit.Equal(credit) {
		show := func(d decimal.Decimal) string {
			if known {
				return d.StringFixed(places)
			}
			return d.String()
		}
		bad("unbalanced: debits %s ≠ credits %s (difference %s)", show(debit), show(credit), show(debit.Sub(credit)))
	}
	return e, r.BatchID, problems
}

// parseAmount reads a debit or credit: a non-negative exact decimal with no
// more decimals than the currency has.
func parseAmount(s string, places int32, known bool) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("malformed amount %q", s)
	}
	if d.Sign() < 0 {
		return decimal.Decimal{}, fmt.Errorf("negative amount %s", s)
	}
	if known && !d.Equal(d.Round(places)) {
		return decimal.Decimal{}, fmt.Errorf("%s has more than %d decimals", s, places)
	}
	return d, nil
}

// Total is the entry's sum of debits (equal to its credits).
func (e Entry) Total() decimal.Decimal {
	var t decimal.Decimal
	for _, l := range e.Lines {
		t = t.Add(l.Debit)
	}
	return t
}

// posted is one line of posted.jsonl.
type posted struct {
	Key          string `json:"idempotency_key"`
	Status       string `json:"status"` // created, present
	MoveID       int64  `json:"move_id"`
	CompanyID    int64  `json:"company_id,omitempty"`
	Date         string `json:"date,omitempty"`
	OriginalDate string `json:"original_date,omitempty"`
	System       string `json:"system"`
	At           string `json:"at"`
}

// readPosted reads posted.jsonl: which keys post created, with which move.
// A last line cut short by a crash is ignored — the ref search in Odoo is
// what guarantees nothing is created twice; this file is the record.
func readPosted(path string) (map[string]posted, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]posted{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]posted{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for sc.Scan() {
		var p posted
		if json.Unmarshal(sc.Bytes(), &p) == nil && p.Key != "" && p.MoveID > 0 {
			out[p.Key] = p
		}
	}
	return out, sc.Err()
}

// postedLog appends to posted.jsonl, syncing every line, so that a crash
// leaves every entry created before it recorded.
type postedLog struct{ f *os.File }

func openPostedLog(path string) (*postedLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot record created entries next to the batch: %w", err)
	}
	return &postedLog{f: f}, nil
}

func (l *postedLog) append(p posted) error {
	line, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("%s: %w", l.f.Name(), err)
	}
	return l.f.Sync()
}

func (l *postedLog) close() error { return l.f.Close() }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orUnknown(s string) string {
	if s == "" {
		return "no key"
	}
	return s
}
