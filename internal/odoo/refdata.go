package odoo

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/finrecon/finrecon/internal/model"
)

// readChunk is how many ids one read asks for.
const readChunk = 1000

type currency struct {
	code   string
	places int32 // -1 when unknown: amounts keep every decimal
}

type accountKey struct{ company, account int64 }

type companyInfo struct {
	name     string
	entity   string
	currency int64
}

type partnerInfo struct {
	name       string
	key        string
	commercial int64
}

// Partner is an Odoo partner, as reported when it has no key.
type Partner struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// refData is what the canonical rows need besides the records themselves:
// currencies' decimals, companies' entities and currencies, partners' keys,
// accounts' and journals' codes, invoices' numbers. It is read fresh on
// every run, for the ids the mirror refers to, so that a partner's key or
// an entity mapping set today applies to every row.
type refData struct {
	partnerKey   string
	currencies   map[int64]currency
	companies    map[int64]companyInfo
	partners     map[int64]partnerInfo
	accounts     map[accountKey]string
	journals     map[int64]string
	invoiceNames map[int64]string
	// unmapped collects the partners rows used that have no key.
	unmapped map[int64]string
}

// refIDs are the ids the mirror refers to.
type refIDs struct {
	currencies, companies, partners, journals, invoices idSet
	accounts                                            map[int64]idSet // by company
	invoiceNames                                        map[int64]string
}

type idSet map[int64]struct{}

func (s idSet) add(id int64) {
	if id > 0 {
		s[id] = struct{}{}
	}
}

func (s idSet) sorted() []int64 {
	out := make([]int64, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func newRefIDs() *refIDs {
	return &refIDs{currencies: idSet{}, companies: idSet{}, partners: idSet{}, journals: idSet{},
		invoices: idSet{}, accounts: map[int64]idSet{}, invoiceNames: map[int64]string{}}
}

// collect notes the ids record r of model refers to.
func (ids *refIDs) collect(modelName string, r Record) {
	m2o := func(f string) int64 { id, _ := r.Many2One(f); return id }
	ids.currencies.add(m2o("currency_id"))
	ids.companies.add(m2o("company_id"))
	ids.partners.add(m2o("partner_id"))
	ids.journals.add(m2o("journal_id"))
	switch modelName {
	case "account.move":
		ids.invoiceNames[r.ID()] = r.Text("name")
	case "account.payment":
		for _, id := range r.IDs("reconciled_invoice_ids") {
			ids.invoices.add(id)
		}
	case "account.move.line":
		company := m2o("company_id")
		if ids.accounts[company] == nil {
			ids.accounts[company] = idSet{}
		}
		ids.accounts[company].add(m2o("account_id"))
	}
}

// loadRefData reads the reference records ids names.
func loadRefData(ctx context.Context, c *Client, s Settings, ids *refIDs) (*refData, error) {
	ref := &refData{partnerKey: s.PartnerKey, currencies: map[int64]currency{}, companies: map[int64]companyInfo{},
		partners: map[int64]partnerInfo{}, accounts: map[accountKey]string{}, journals: map[int64]string{},
		invoiceNames: map[int64]string{}, unmapped: map[int64]string{}}
	entities := map[int64]string{}
	for _, co := range s.Companies {
		ids.companies.add(co.ID)
		entities[co.ID] = co.Entity
	}
	steps := []func() error{
		func() error { return ref.loadCompanies(ctx, c, ids, entities) },
		func() error { return ref.loadCurrencies(ctx, c, ids) },
		func() error { return ref.loadPartners(ctx, c, ids.partners.sorted()) },
		func() error { return ref.loadAccounts(ctx, c, ids) },
		func() error { return ref.loadJournals(ctx, c, ids) },
		func() error { return ref.loadInvoiceNames(ctx, c, ids) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return ref, nil
}

// readAll reads ids of model in chunks.
func readAll(ctx context.Context, c *Client, modelName string, ids []int64, fields []string) ([]Record, error) {
	var out []Record
	for len(ids) > 0 {
		n := min(len(ids), readChunk)
		recs, err := c.Read(ctx, modelName, ids[:n], fields)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		ids = ids[n:]
	}
	return out, nil
}

func (ref *refData) loadCompanies(ctx context.Context, c *Client, ids *refIDs, entities map[int64]string) error {
	recs, err := readAll(ctx, c, "res.company", ids.companies.sorted(), []string{"name", "currency_id"})
	if err != nil {
		return err
	}
	for _, r := range recs {
		cur, _ := r.Many2One("currency_id")
		ids.currencies.add(cur)
		entity := entities[r.ID()]
		if entity == "" {
			entity = r.Text("name")
		}
		ref.companies[r.ID()] = companyInfo{name: r.Text("name"), entity: entity, currency: cur}
	}
	return nil
}

func (ref *refData) loadCurrencies(ctx context.Context, c *Client, ids *refIDs) error {
	recs, err := readAll(ctx, c, "res.currency", ids.currencies.sorted(), []string{"name", "decimal_places"})
	if err != nil {
		return err
	}
	for _, r := range recs {
		places := int32(-1)
		if n, ok := r.Int("decimal_places"); ok {
			places = int32(n)
		} else if p, ok := model.CurrencyDecimals(r.Text("name")); ok {
			places = p
		}
		ref.currencies[r.ID()] = currency{code: r.Text("name"), places: places}
	}
	return nil
}

// loadPartners reads the partners' keys; a partner without one (a contact
// of a company) takes its commercial partner's.
func (ref *refData) loadPartners(ctx context.Context, c *Client, ids []int64) error {
	fields := []string{"name", "commercial_partner_id"}
	if ref.partnerKey != "id" {
		fields = append(fields, ref.partnerKey)
	}
	recs, err := readAll(ctx, c, "res.partner", ids, fields)
	if err != nil {
		return err
	}
	missing := idSet{}
	for _, r := range recs {
		com, _ := r.Many2One("commercial_partner_id")
		p := partnerInfo{name: r.Text("name"), key: strings.TrimSpace(r.Text(ref.partnerKey)), commercial: com}
		ref.partners[r.ID()] = p
		if p.key == "" && com != 0 && com != r.ID() {
			missing.add(com)
		}
	}
	for id := range missing {
		if _, ok := ref.partners[id]; ok {
			delete(missing, id)
		}
	}
	if len(missing) > 0 {
		return ref.loadPartners(ctx, c, missing.sorted())
	}
	return nil
}

// loadAccounts reads account codes company by company: from 18 on a code
// is company dependent, read in the company's context.
func (ref *refData) loadAccounts(ctx context.Context, c *Client, ids *refIDs) error {
	companies := make(idSet)
	for co := range ids.accounts {
		companies[co] = struct{}{}
	}
	for _, co := range companies.sorted() {
		cc := c
		if co > 0 {
			cc = c.WithCompanies([]int64{co})
		}
		recs, err := readAll(ctx, cc, "account.account", ids.accounts[co].sorted(), []string{"code"})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if code := r.Text("code"); code != "" {
				ref.accounts[accountKey{co, r.ID()}] = code
			}
		}
	}
	return nil
}

func (ref *refData) loadJournals(ctx context.Context, c *Client, ids *refIDs) error {
	recs, err := readAll(ctx, c, "account.journal", ids.journals.sorted(), []string{"code"})
	if err != nil {
		return err
	}
	for _, r := range recs {
		ref.journals[r.ID()] = r.Text("code")
	}
	return nil
}

// loadInvoiceNames finds the numbers of the invoices payments settle: from
// the mirror, else from Odoo (an invoice outside the pulled scope).
func (ref *refData) loadInvoiceNames(ctx context.Context, c *Client, ids *refIDs) error {
	missing := idSet{}
	for id := range ids.invoices {
		if name, ok := ids.invoiceNames[id]; ok {
			ref.invoiceNames[id] = name
		} else {
			missing.add(id)
		}
	}
	recs, err := readAll(ctx, c, "account.move", missing.sorted(), []string{"name"})
	if err != nil {
		return err
	}
	for _, r := range recs {
		ref.invoiceNames[r.ID()] = r.Text("name")
	}
	return nil
}

// currency is the currency of r's currency_id.
func (ref *refData) currency(r Record) currency {
	id, name := r.Many2One("currency_id")
	if cur, ok := ref.currencies[id]; ok {
		return cur
	}
	places, ok := model.CurrencyDecimals(name)
	if !ok {
		places = -1
	}
	return currency{code: name, places: places}
}

func (ref *refData) companyCurrency(company int64) currency {
	if cur, ok := ref.currencies[ref.companies[company].currency]; ok {
		return cur
	}
	return currency{places: -1}
}

// entity is the legal entity of r's company.
func (ref *refData) entity(r Record) string {
	id, name := r.Many2One("company_id")
	if co, ok := ref.companies[id]; ok {
		return co.entity
	}
	return name
}

// partner is the canonical partner_id and the name of r's partner field:
// the partner's key (or its commercial partner's), else odoo:<id>, which
// is reported as unmapped.
func (ref *refData) partner(r Record, field string) (string, string) {
	id, name := r.Many2One(field)
	if id == 0 {
		return "", ""
	}
	p := ref.partners[id]
	if p.name != "" {
		name = p.name
	}
	if ref.partnerKey == "id" {
		return odooPartnerID(id), name
	}
	key := p.key
	if key == "" && p.commercial != 0 {
		key = ref.partners[p.commercial].key
	}
	if key == "" {
		ref.unmapped[id] = name
		return odooPartnerID(id), name
	}
	return key, name
}

// odooPartnerID is the partner_id of a partner with no key.
func odooPartnerID(id int64) string { return "odoo:" + strconv.FormatInt(id, 10) }

// invoiceRefs joins the numbers of invoices, in id order.
func (ref *refData) invoiceRefs(ids []int64) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if n := moveName(ref.invoiceNames[id]); n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, "|")
}

// unmappedPartners lists the partners without a key, by id.
func (ref *refData) unmappedPartners() []Partner {
	out := make([]Partner, 0, len(ref.unmapped))
	for id, name := range ref.unmapped {
		out = append(out, Partner{ID: id, Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
