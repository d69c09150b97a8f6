package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Outcome statuses of an entry.
const (
	StatusWouldCreate = "would create" // dry run: not in Odoo yet
	StatusCreated     = "created"      // created as a draft
	StatusPresent     = "present"      // a move with the key as ref exists: skipped
	StatusRefused     = "refused"      // cannot be created as it is; the reason says why
	StatusGone        = "gone"         // created by an earlier run, since deleted in Odoo: not re-created
)

// PostOptions says which batch to post where.
type PostOptions struct {
	Settings Settings
	// BatchDir holds adjustments.jsonl; posted.jsonl is written beside it.
	BatchDir string
	// Apply creates the drafts; without it post only reads (a dry run).
	Apply bool
	Log   *slog.Logger
	// OnEntry is told each entry's outcome as soon as it is known.
	OnEntry func(Outcome)
	// Now stamps posted.jsonl; default time.Now.
	Now func() time.Time
}

// Outcome is what happened (or, in a dry run, would happen) to one entry.
type Outcome struct {
	Entry  Entry
	Status string
	// MoveID is the draft created, or the move found with the key.
	MoveID    int64
	MoveName  string
	CompanyID int64
	Company   string
	// Date is the date the draft gets; it differs from Entry.Date when the
	// entry's date is in a locked period, and LockNote says which lock.
	Date     string
	LockNote string
	Reason   string
}

// PostResult sums a post up.
type PostResult struct {
	BatchID                                      string
	Applied                                      bool
	Version                                      string
	Created, Present, Refused, Gone, WouldCreate int
	Outcomes                                     []Outcome
}

// Post creates the batch's entries in Odoo as draft journal entries, never
// posting them: an accountant approves them in Odoo. Before each create it
// looks for a move whose ref is the entry's idempotency key and skips the
// entry if there is one, so a re-run — after a crash, after a partial
// import through the wizard — creates nothing twice. An entry dated on or
// before its company's lock date is dated the first open day after it.
// Without Apply it only reads. The batch is read and checked first: a
// batch with an unbalanced or malformed entry is refused whole (a
// *BatchError) before any call to Odoo.
func Post(ctx context.Context, opts PostOptions) (*PostResult, error) {
	s := opts.Settings.withDefaults()
	res, err := post(ctx, s, opts)
	return res, finalError(s, err)
}

func post(ctx context.Context, s Settings, opts PostOptions) (*PostResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnEntry == nil {
		opts.OnEntry = func(Outcome) {}
	}
	batch, err := ReadBatch(opts.BatchDir)
	if err != nil {
		return nil, err
	}
	res := &PostResult{BatchID: batch.ID, Applied: opts.Apply}
	postedPath := filepath.Join(batch.Dir, PostedFile)
	before, err := readPosted(postedPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", postedPath, err)
	}
	var plog *postedLog
	if opts.Apply {
		// Opened before anything is created: a batch whose record cannot be
		// kept is not posted at all.
		if plog, err = openPostedLog(postedPath); err != nil {
			return nil, err
		}
		defer plog.close()
	}
	c, err := Dial(ctx, s, opts.Log)
	if err != nil {
		return nil, err
	}
	res.Version = c.Version().Serie
	p := &poster{c: c, s: s, d: dialectOf(c.Version()), log: opts.Log, companies: map[string]*companyBook{}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	for _, e := range batch.Entries {
		o, err := p.entry(ctx, e, before[e.Key], opts.Apply)
		if err != nil {
			return res, err
		}
		if plog != nil && (o.Status == StatusCreated || o.Status == StatusPresent) {
			if err := plog.append(postedOf(s.System, o, opts.Now())); err != nil {
				return res, err
			}
		}
		res.count(o)
		opts.OnEntry(o)
	}
	return res, nil
}

// postedOf is the posted.jsonl line of an entry created or found.
func postedOf(system string, o Outcome, at time.Time) posted {
	p := posted{Key: o.Entry.Key, Status: o.Status, MoveID: o.MoveID, CompanyID: o.CompanyID, Date: o.Date,
		System: system, At: at.UTC().Format(time.RFC3339)}
	if o.Date != o.Entry.Date {
		p.OriginalDate = o.Entry.Date
	}
	return p
}

func (r *PostResult) count(o Outcome) {
	r.Outcomes = append(r.Outcomes, o)
	switch o.Status {
	case StatusCreated:
		r.Created++
	case StatusPresent:
		r.Present++
	case StatusRefused:
		r.Refused++
	case StatusGone:
		r.Gone++
	case StatusWouldCreate:
		r.WouldCreate++
	}
}

// poster posts entries, caching what it resolves per company.
type poster struct {
	c         *Client
	s         Settings
	d         dialect
	log       *slog.Logger
	companies map[string]*companyBook // by legal entity
}

// companyBook is what post knows of one company.
type companyBook struct {
	id       int64
	name     string
	currency string
	lock     string // the latest lock date, "" if none
	lockBy   string // which field set it
	journals map[string]int64
	accounts map[string]int64
	partners map[string]int64
	client   *Client
}

// refusal is an entry that cannot be created as it is; post goes on with
// the next.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// entry decides one entry and, with apply, creates it.
func (p *poster) entry(ctx context.Context, e Entry, before posted, apply bool) (Outcome, error) {
	o := Outcome{Entry: e, Date: e.Date}
	book, err := p.book(ctx, e.LegalEntity)
	if err != nil {
		return p.refusedOr(o, err)
	}
	o.CompanyID, o.Company = book.id, book.name
	if found, err := p.existing(ctx, book, e.Key); err != nil {
		return o, err
	} else if found != nil {
		o.Status, o.MoveID, o.MoveName = StatusPresent, found.ID(), moveName(found.Text("name"))
		return o, nil
	}
	if before.MoveID > 0 {
		// posted.jsonl knew it as a move that is gone: someone deleted the
		// draft, most likely on purpose. Creating it again would undo that.
		o.Status, o.MoveID = StatusGone, before.MoveID
		o.Reason = fmt.Sprintf("%s records it as move %d (%s, %s) but Odoo no longer has it (deleted?): not created again; remove its lines from %s to create it anew",
			PostedFile, before.MoveID, before.Status, before.At, PostedFile)
		return o, nil
	}
	vals, err := p.values(ctx, book, e, &o)
	if err != nil {
		return p.refusedOr(o, err)
	}
	if !apply {
		o.Status = StatusWouldCreate
		return o, nil
	}
	id, err := p.create(ctx, book, e.Key, vals)
	if err != nil {
		return p.refusedOr(o, err)
	}
	o.Status, o.MoveID = StatusCreated, id
	p.log.Info("odoo draft created", "key", e.Key, "move_id", id, "company", book.id)
	return o, nil
}

// refusedOr turns a refusal, or Odoo refusing the entry (UserError,
// ValidationError), into a refused outcome; any other error stops the run.
func (p *poster) refusedOr(o Outcome, err error) (Outcome, error) {
	var r *refusal
	var oe *Error
	switch {
	case errors.As(err, &r):
		o.Status, o.Reason = StatusRefused, r.reason
	case errors.As(err, &oe) && (oe.Kind == KindUser || oe.Kind == KindValidation):
		o.Status, o.Reason = StatusRefused, "Odoo refused it: "+oneLine(oe.Message)
	default:
		return o, err
	}
	return o, nil
}

// book finds the company an entry books in: the configured company whose
// entity is the entry's legal entity, else the company named like it (a
// company's entity defaults to its name), among the configured companies
// if any.
func (p *poster) book(ctx context.Context, entity string) (*companyBook, error) {
	if b, ok := p.companies[entity]; ok {
		return b, nil
	}
	fields := append([]string{"name", "currency_id"}, p.d.lockDates...)
	var recs []Record
	var err error
	if id := p.mapped(entity); id > 0 {
		recs, err = p.c.Read(ctx, "res.company", []int64{id}, fields)
	} else {
		domain := []any{[]any{"name", "=", entity}}
		if len(p.s.Companies) > 0 {
			domain = append(domain, []any{"id", "in", p.s.companyIDs()})
		}
		recs, err = p.c.SearchRead(ctx, "res.company", domain, fields, Query{})
	}
	if err != nil {
		return nil, err
	}
	if len(recs) != 1 {
		return nil, refuse("legal entity %q: no Odoo company maps to it; add it under companies: (id and entity) in the config", entity)
	}
	b := p.newBook(recs[0])
	p.companies[entity] = b
	return b, nil
}

func (p *poster) mapped(entity string) int64 {
	for _, co := range p.s.Companies {
		if co.Entity != "" && co.Entity == entity {
			return co.ID
		}
	}
	return 0
}

// newBook reads a company's currency and latest lock date.
func (p *poster) newBook(r Record) *companyBook {
	_, cur := r.Many2One("currency_id")
	b := &companyBook{id: r.ID(), name: r.Text("name"), currency: cur, client: p.c.WithCompanies([]int64{r.ID()}),
		journals: map[string]int64{}, accounts: map[string]int64{}, partners: map[string]int64{}}
	for _, f := range p.d.lockDates {
		if d := r.Text(f); d != "" && d > b.lock {
			b.lock, b.lockBy = d, f
		}
	}
	return b
}

// existing finds a move whose ref is key, in the entry's company. ref is
// not unique in Odoo: the search is finrecon's idempotency check.
func (p *poster) existing(ctx context.Context, b *companyBook, key string) (Record, error) {
	recs, err := b.client.SearchRead(ctx, "account.move", []any{[]any{"ref", "=", key}},
		[]string{"name", "state", "ref"}, Query{Order: "id asc", Limit: 1})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return recs[0], nil
}

// values builds the create values of an entry, resolving codes to ids and
// moving the date out of a locked period.
func (p *poster) values(ctx context.Context, b *companyBook, e Entry, o *Outcome) (map[string]any, error) {
	if b.currency != "" && e.Currency != b.currency {
		return nil, refuse("the entry is in %s but %s books in %s: post it by hand with a rate", e.Currency, b.name, b.currency)
	}
	o.Date, o.LockNote = openDate(e.Date, b)
	journal, err := p.resolve(ctx, b, b.journals, "account.journal", "journal", e.Journal, p.journalDomain(b, e.Journal))
	if err != nil {
		return nil, err
	}
	var lines []any
	for _, l := range e.Lines {
		account, err := p.resolve(ctx, b, b.accounts, "account.account", "account", l.Account, p.accountDomain(b, l.Account))
		if err != nil {
			return nil, err
		}
		vals := map[string]any{"account_id": account, "name": l.Label,
			"debit": json.Number(l.Debit.String()), "credit": json.Number(l.Credit.String())}
		if l.PartnerRef != "" {
			partner, err := p.partner(ctx, b, l.PartnerRef)
			if err != nil {
				return nil, err
			}
			vals["partner_id"] = partner
		}
		lines = append(lines, []any{0, 0, vals})
	}
	return map[string]any{"move_type": "entry", "journal_id": journal, "date": o.Date, "ref": e.Key, "line_ids": lines}, nil
}

// openDate moves a date on or before the company's lock date to the day
// after it, the first day a draft can be dated and later posted.
func openDate(date string, b *companyBook) (string, string) {
	if b.lock == "" || date > b.lock {
		return date, ""
	}
	lock, err := time.Parse(time.DateOnly, b.lock)
	if err != nil {
		return date, ""
	}
	open := lock.AddDate(0, 0, 1).Format(time.DateOnly)
	return open, fmt.Sprintf("%s is on or before %s's lock date %s (%s): dated %s, the first open day", date, b.name, b.lock, b.lockBy, open)
}

func (p *poster) journalDomain(b *companyBook, code string) []any {
	return []any{[]any{"code", "=", code}, []any{"company_id", "=", b.id}}
}

// accountDomain finds an account by code in the company: 17 has one
// company per account, 18 and later a list of them (the code is then
// company dependent, read in the company's context).
func (p *poster) accountDomain(b *companyBook, code string) []any {
	if p.d.accountCompany == "company_id" {
		return []any{[]any{"code", "=", code}, []any{"company_id", "=", b.id}}
	}
	return []any{[]any{"code", "=", code}, []any{"company_ids", "in", []int64{b.id}}}
}

// resolve finds the one record of model domain names, caching by code.
func (p *poster) resolve(ctx context.Context, b *companyBook, cache map[string]int64, modelName, what, code string, domain []any) (int64, error) {
	if id, ok := cache[code]; ok {
		return id, nil
	}
	ids, err := b.client.Search(ctx, modelName, domain, Query{Limit: 2})
	if err != nil {
		return 0, err
	}
	switch len(ids) {
	case 0:
		return 0, refuse("no %s with code %s in %s", what, code, b.name)
	case 1:
		cache[code] = ids[0]
		return ids[0], nil
	}
	return 0, refuse("several %ss have code %s in %s", what, code, b.name)
}

// partner finds the partner of a reference: odoo:<id> as extract writes
// for partners without a key, else the partner whose partner_key field
// holds it.
func (p *poster) partner(ctx context.Context, b *companyBook, ref string) (int64, error) {
	if id, ok := b.partners[ref]; ok {
		return id, nil
	}
	if rest, ok := strings.CutPrefix(ref, "odoo:"); ok {
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || id <= 0 {
			return 0, refuse("partner %q: want odoo:<id>", ref)
		}
		return id, nil
	}
	ids, err := b.client.Search(ctx, "res.partner", []any{[]any{p.s.PartnerKey, "=", ref}}, Query{Limit: 2})
	if err != nil {
		return 0, err
	}
	switch len(ids) {
	case 0:
		return 0, refuse("no partner has %s %q in Odoo", p.s.PartnerKey, ref)
	case 1:
		b.partners[ref] = ids[0]
		return ids[0], nil
	}
	return 0, refuse("several partners have %s %q in Odoo", p.s.PartnerKey, ref)
}

// create creates the draft. A create that may have reached Odoo before it
// failed (a timeout, a dropped connection) is not sent again blindly: the
// key is looked up first, and only if it is not there is the create tried
// again.
func (p *poster) create(ctx context.Context, b *companyBook, key string, vals map[string]any) (int64, error) {
	for attempt := 1; ; attempt++ {
		id, err := b.client.Create(ctx, "account.move", vals)
		var oe *Error
		if err == nil || !errors.As(err, &oe) || !oe.MaybeApplied || attempt >= p.c.attempts {
			return id, err
		}
		p.log.Warn("odoo create may or may not have been applied: looking for the key", "key", key, "error", err)
		found, serr := p.existing(ctx, b, key)
		if serr != nil {
			return 0, serr
		}
		if found != nil {
			return found.ID(), nil
		}
		if err := p.c.sleep(ctx, p.c.backoff(attempt)); err != nil {
			return 0, err
		}
	}
}
