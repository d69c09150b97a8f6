package adjust

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
)

// defaultLabel names the lines of an adjustment whose rule gives no label.
const defaultLabel = "finrecon adjustment"

// entry is one proposed journal entry, amounts exact.
type entry struct {
	batchID    string
	externalID string
	key        string // idempotency key, also the move's ref
	brk        *run.Break
	journal    string
	date       string
	currency   string
	places     int32 // the currency's decimals
	lines      []line
}

// line is one journal item. Exactly one of debit and credit is non-zero.
type line struct {
	account     string
	partnerRef  string
	partnerName string
	name        string
	debit       decimal.Decimal
	credit      decimal.Decimal
}

// builder turns breaks into entries, one at a time, and keeps what the batch
// header needs: skipped breaks, totals and the keys used so far.
// Ledger is the system adjustments are posted to: a break the rule says
// must be fixed in another system gets no adjustment.
const Ledger = "odoo"

type builder struct {
	manifest *run.Manifest
	rules    *rules.Set
	entities map[string]config.Entity
	batchID  string

	n       int
	keys    map[string]string // idempotency key -> break id
	skipped []Skip
	totals  map[string]*CurrencyTotal
}

func newBuilder(m *run.Manifest, set *rules.Set, entities map[string]config.Entity) *builder {
	return &builder{
		manifest: m,
		rules:    set,
		entities: entities,
		batchID:  BatchID(m.RunID),
		keys:     map[string]string{},
		totals:   map[string]*CurrencyTotal{},
	}
}

// BatchID is the id of the adjustment batch of a run.
func BatchID(runID string) string { return "adj-" + runID }

// IdempotencyKey is the key of the entry proposed for a break. It depends on
// the break alone, so the same break yields the same key in every run, and it
// is the entry's ref in Odoo, where post looks for it before creating.
func IdempotencyKey(recon, breakID string) string {
	return "finrecon:" + recon + ":" + breakID
}

// externalID is the import wizard's External ID of the n-th entry of a batch.
func externalID(batchID string, n int) string {
	return fmt.Sprintf("finrecon_adj.%s_%04d", sanitize(batchID), n)
}

// sanitize keeps letters, digits and _ and replaces anything else with _, so
// that the result is a valid name in an Odoo External ID (module.name).
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		}
		return '_'
	}, s)
}

// add proposes the entry for one break. It returns nil when the break's rule
// declares no adjustment for its type, or when the break is not eligible (it
// is then recorded as skipped).
func (b *builder) add(brk *run.Break) (*entry, error) {
	r, ok := b.rules.Lookup(brk.Recon)
	if !ok {
		return nil, fmt.Errorf("break %s: recon %q has no rule among the run's rules (is the run directory complete?)", brk.ID, brk.Recon)
	}
	adj, ok := r.Adjust[brk.Type]
	if !ok {
		return nil, nil
	}
	places, reason := eligible(brk, adj, b.entities)
	if system, _, _ := strings.Cut(brk.FixIn, "."); reason == "" && brk.FixIn != "" && system != Ledger {
		// The rule makes the ledger authoritative for this field: the
		// fix belongs in the other system, not in a write-off.
		reason = fmt.Sprintf("the rule makes %s authoritative here, so the fix belongs in %s, not in an adjustment", Ledger, brk.FixIn)
	}
	if reason != "" {
		b.skipped = append(b.skipped, Skip{BreakID: brk.ID, Reason: reason})
		return nil, nil
	}
	b.n++
	e := b.entry(brk, adj, places)
	if err := e.checkBalanced(); err != nil {
		return nil, err
	}
	if prev, dup := b.keys[e.key]; dup {
		return nil, fmt.Errorf("break %s: idempotency key %s is already used by break %s (break ids must be unique within a recon)", brk.ID, e.key, prev)
	}
	b.keys[e.key] = brk.ID
	b.count(e)
	return e, nil
}

// eligible returns the decimals of the break's currency, or the reason the
// break gets no entry.
func eligible(brk *run.Break, adj rules.Adjustment, entities map[string]config.Entity) (int32, string) {
	if !brk.Difference.Valid {
		return 0, "no difference to write off: an amount is missing"
	}
	d := brk.Difference.Decimal
	if d.IsZero() {
		return 0, "the difference is zero: nothing to write off"
	}
	places, known := model.CurrencyDecimals(brk.Currency)
	if d.Abs().GreaterThan(adj.Max()) {
		return 0, fmt.Sprintf("difference %s exceeds the write-off threshold %s",
			show(d, places, known), show(adj.Max(), places, known))
	}
	if brk.LegalEntity == "" {
		return 0, "the break has no legal entity, so its company currency is unknown"
	}
	ent, ok := entities[brk.LegalEntity]
	if !ok {
		return 0, fmt.Sprintf("legal entity %s is not configured (entities: in the config), so its company currency is unknown", brk.LegalEntity)
	}
	if !known {
		return 0, fmt.Sprintf("unknown currency %q", brk.Currency)
	}
	if brk.Currency != ent.Currency {
		return 0, fmt.Sprintf("%s differs from %s's company currency %s; foreign-currency write-offs need a rate: post it by hand",
			brk.Currency, brk.LegalEntity, ent.Currency)
	}
	if !d.Round(places).Equal(d) {
		return 0, fmt.Sprintf("difference %s has more decimals than %s's %d; it is not rounded to be written off: post it by hand",
			d.String(), brk.Currency, places)
	}
	return places, ""
}

// show formats an amount with its currency's decimals, unless that would
// hide some of its digits.
func show(d decimal.Decimal, places int32, known bool) string {
	if known && d.Round(places).Equal(d) {
		return d.StringFixed(places)
	}
	return d.String()
}

// entry builds the two lines writing the break's difference off. The
// adjustment's account carries the break's partner; for a positive
// difference it is debited, for a negative one credited.
func (b *builder) entry(brk *run.Break, adj rules.Adjustment, places int32) *entry {
	d := brk.Difference.Decimal
	amount := d.Abs()
	name := lineName(adj.Label, brk)
	main := line{account: adj.Account, partnerRef: brk.PartnerID, partnerName: brk.PartnerName, name: name,
		debit: decimal.Zero, credit: decimal.Zero}
	counter := line{account: adj.CounterAccount, name: name, debit: decimal.Zero, credit: decimal.Zero}
	if d.IsPositive() {
		main.debit, counter.credit = amount, amount
	} else {
		main.credit, counter.debit = amount, amount
	}
	return &entry{
		batchID:    b.batchID,
		externalID: externalID(b.batchID, b.n),
		key:        IdempotencyKey(brk.Recon, brk.ID),
		brk:        brk,
		journal:    adj.Journal,
		date:       b.manifest.AsOf,
		currency:   brk.Currency,
		places:     places,
		lines:      []line{main, counter},
	}
}

// lineName labels a line so that an accountant can trace it to its break:
// "<label> — <recon> break <id> (<left system> <left id>, <right system> <right id>)".
func lineName(label string, brk *run.Break) string {
	if strings.TrimSpace(label) == "" {
		label = defaultLabel
	}
	name := label + " — " + brk.Recon + " break " + brk.ID
	var ids []string
	for _, s := range []struct{ system, id, side string }{
		{brk.LeftSystem, brk.LeftID, "left"},
		{brk.RightSystem, brk.RightID, "right"},
	} {
		if s.id == "" {
			continue
		}
		if s.system == "" {
			s.system = s.side
		}
		ids = append(ids, s.system+" "+s.id)
	}
	if len(ids) > 0 {
		name += " (" + strings.Join(ids, ", ") + ")"
	}
	return name
}

// checkBalanced asserts the invariants of an entry: at least two lines, each
// a non-negative amount on exactly one side, in the currency's decimals, and
// debits equal to credits. A failure is a bug, not bad input.
func (e *entry) checkBalanced() error {
	if len(e.lines) < 2 {
		return fmt.Errorf("entry %s for break %s has %d lines: want at least 2 (a bug)", e.externalID, e.brk.ID, len(e.lines))
	}
	debit, credit := decimal.Zero, decimal.Zero
	for i, l := range e.lines {
		if l.debit.IsNegative() || l.credit.IsNegative() || l.debit.IsZero() == l.credit.IsZero() {
			return fmt.Errorf("entry %s for break %s: line %d has debit %s and credit %s: want one positive amount (a bug)",
				e.externalID, e.brk.ID, i+1, l.debit, l.credit)
		}
		for _, a := range []decimal.Decimal{l.debit, l.credit} {
			if !a.Round(e.places).Equal(a) {
				return fmt.Errorf("entry %s for break %s: line %d amount %s has more than %s's %d decimals (a bug)",
					e.externalID, e.brk.ID, i+1, a, e.currency, e.places)
			}
		}
		debit, credit = debit.Add(l.debit), credit.Add(l.credit)
	}
	if !debit.Equal(credit) {
		return fmt.Errorf("entry %s for break %s is unbalanced: debits %s, credits %s (a bug)", e.externalID, e.brk.ID, debit, credit)
	}
	return nil
}

// count adds an entry to its currency's totals.
func (b *builder) count(e *entry) {
	t, ok := b.totals[e.currency]
	if !ok {
		t = &CurrencyTotal{Currency: e.currency, Debit: decimal.Zero, Credit: decimal.Zero}
		b.totals[e.currency] = t
	}
	for _, l := range e.lines {
		t.Debit, t.Credit = t.Debit.Add(l.debit), t.Credit.Add(l.credit)
	}
}

// result is what Build returns, Files aside.
func (b *builder) result() *Result {
	return &Result{
		BatchID: b.batchID,
		Entries: b.n,
		Skipped: b.skipped,
		Totals:  sortedTotals(b.totals),
	}
}
