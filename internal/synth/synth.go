// Package synth writes synthetic reconciliation data at any scale: a billing
// platform's invoices and payments, Odoo's invoices, payments and journal
// lines, and a risk engine's exposures, laid out as canonical CSV files that
// finrecon imports with no mapping, together with finrecon.yaml and
// truth.csv, the exact set of breaks the four shipped reconciliations
// (rules/invoices.yaml, payments.yaml, ledger.yaml, exposure.yaml) must find.
//
// Every break type of those rules is planted at a known rate, next to traps
// that look like breaks but must not be reported (reference noise, amounts
// one cent apart, dates on a window's edge, payments in transit, payouts and
// lump receipts that sum exactly, drafts and failed rows, out-of-order files,
// ...).
//
// The truth is exact by construction. Data is generated one partner at a
// time; every interaction the matching passes can have (amount and date
// windows, fuzzy references, subset sums) stays inside one partner and
// currency, so each partner's plan is checked against a small model of the
// passes before it is written, and drawn again if anything other than the
// planted outcome could happen. Comparison breaks are computed from the values
// actually written, and the ledger and exposure checks by totalling the rows
// written, per group, with the rules' filters.
//
// The output is a pure function of Options: PCG random streams seeded from
// Options.Seed, no clock, no map iteration order. Money is int64 minor units.
package synth

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options of one generation.
type Options struct {
	// Invoices is the number of billing invoices (documents; a duplicated
	// billing row is not counted twice).
	Invoices int
	Seed     uint64
	// AsOf is the period end the run uses as --as-of, e.g. 2026-11-30.
	AsOf time.Time
	// RulesDir, when set, is written into finrecon.yaml's rules list.
	RulesDir string
	// Rates of planted breaks and traps; nil means DefaultRates().
	Rates *Rates
}

// Rates are probabilities. Invoice plants are drawn per billing invoice
// (InvStatusLag per invoice Odoo shows partial), payment plants per billing
// payment (PayoutFee per card payment; PayLump and PayAmbiguousLump per
// plain single payment; PayOdooOnly at twice the rate per plain invoice
// billing has no payment for, about half of them), ledger plants per Odoo
// invoice entry, exposure plants per (legal entity, partner, currency) group.
// A plant that does not fit the document drawn (a 0.01 trap on a JPY
// invoice, a partner mismatch with no other partner yet) is left out.
type Rates struct {
	// invoices recon, breaks
	InvMissing        float64 // billing invoice never reached Odoo: unmatched left
	InvOdooOnly       float64 // manual Odoo invoice: unmatched right
	InvAmount         float64 // amount_mismatch
	InvTax            float64 // tax_mismatch (total unchanged)
	InvCurrency       float64 // currency_mismatch
	InvPartner        float64 // partner_mismatch
	InvDate           float64 // date_mismatch (4-20 days)
	InvStatus         float64 // status_mismatch (voided on one side only)
	InvDupRight       float64 // posted twice in Odoo: duplicate
	InvDupLeft        float64 // billing issued one number twice: duplicate
	InvFuzzy          float64 // mistyped reference: proposed_match (+ amount or date mismatch)
	InvAmbiguousLeft  float64 // one billing invoice, two equal Odoo candidates
	InvAmbiguousRight float64 // two equal billing invoices, one Odoo candidate
	// invoices recon, traps
	InvDraft     float64 // billing draft, never sent
	InvOdooDraft float64 // Odoo draft copying a real reference: filtered, not a duplicate
	InvNoisyRef  float64 // case, space and punctuation noise in the reference
	InvLostRef   float64 // no reference in Odoo: amount_date match (0-3 days, 0.01)
	InvCentDiff  float64 // totals 0.01 apart
	InvDateEdge  float64 // dates exactly 3 days apart
	InvRecurring float64 // same partner and amount, dates a week apart, both without reference
	InvNearTie   float64 // two candidates, one better by amount: no ambiguity
	InvCancelled float64 // voided on both sides
	InvStatusLag float64 // billing open while Odoo partial (per partial invoice)
	// payments recon, breaks
	PayMissing       float64 // confirmation never reached Odoo: unmatched left
	PayOdooOnly      float64 // payment only in Odoo: unmatched right
	PayAmount        float64 // amount_mismatch
	PayCurrency      float64 // currency_mismatch
	PayDate          float64 // date_mismatch (3-10 days)
	PayTiming        float64 // timing_difference across the period end
	PayDupRight      float64 // recorded twice in Odoo: duplicate
	PayAmbiguousBI   float64 // two equal Odoo receipts for one invoice: ambiguous
	PayAmbiguousLump float64 // lump receipt two subsets explain: ambiguous
	PayoutFee        float64 // card payment in a payout Odoo booked net of a fee
	// payments recon, traps
	PayNoisyRef         float64
	PayCentDiff         float64 // 0.01 less in Odoo
	PayDateEdge         float64 // exactly 2 days apart
	PayByInvoice        float64 // no reference in Odoo: by_invoice match
	PayLump             float64 // one Odoo receipt for 2-4 payments, unique subset
	PayInTransit        float64 // settled after the period end, not yet in Odoo
	PayInTransitMatched float64 // both sides after the period end
	PayNextPeriod       float64 // dated after the in-transit window
	PayFailed           float64 // failed and pending rows, filtered
	PayoutNoise         float64 // payout id in lower case in billing (per payout)
	// ledger recon
	LedgerDropLine     float64 // revenue or tax line missing: unbalanced_entry
	LedgerAmount       float64 // revenue line amount changed: unbalanced_entry
	LedgerDropAR       float64 // AR line missing: unbalanced_entry + ar_control_mismatch
	LedgerWrongPartner float64 // AR line on another partner: ar_control_mismatch x2
	LedgerCentTrap     float64 // AR amount_currency 0.01 off, debit right: inside tolerance
	// exposure recon
	ExpStale       float64 // exposure differs from Odoo's receivable: stale_exposure
	ExpStaleEdge   float64 // differs by exactly 0.01 (trap)
	ExpLimit       float64 // receivable above the latest limit: limit_breach
	ExpLimitEdge   float64 // receivable exactly at the limit (trap)
	ExpOldLimit    float64 // an older decision's limit is breached, the latest not (trap)
	ExpNullLimit   float64 // latest decision has no limit (trap)
	ExpConflict    float64 // an older version decided after a newer one: version_conflict
	ExpSameTime    float64 // two versions decided at the same instant (trap)
	ExpVersionTie  float64 // two rows with the latest version; the higher id is right (trap)
	ExpShuffleFile float64 // a partner's decisions written out of order (trap)
}

// DefaultRates are 0.5% for most breaks and 1-2% for traps.
func DefaultRates() Rates {
	return Rates{
		InvMissing: 0.005, InvOdooOnly: 0.005, InvAmount: 0.005, InvTax: 0.005, InvCurrency: 0.005,
		InvPartner: 0.005, InvDate: 0.005, InvStatus: 0.005, InvDupRight: 0.005, InvDupLeft: 0.003,
		InvFuzzy: 0.005, InvAmbiguousLeft: 0.003, InvAmbiguousRight: 0.003,
		InvDraft: 0.01, InvOdooDraft: 0.01, InvNoisyRef: 0.02, InvLostRef: 0.015, InvCentDiff: 0.01,
		InvDateEdge: 0.01, InvRecurring: 0.01, InvNearTie: 0.005, InvCancelled: 0.01, InvStatusLag: 0.3,

		PayMissing: 0.005, PayOdooOnly: 0.01, PayAmount: 0.005, PayCurrency: 0.005, PayDate: 0.005,
		PayTiming: 0.005, PayDupRight: 0.005, PayAmbiguousBI: 0.003, PayAmbiguousLump: 0.003, PayoutFee: 0.004,
		PayNoisyRef: 0.02, PayCentDiff: 0.01, PayDateEdge: 0.01, PayByInvoice: 0.015, PayLump: 0.01,
		PayInTransit: 0.01, PayInTransitMatched: 0.01, PayNextPeriod: 0.01, PayFailed: 0.015, PayoutNoise: 0.05,

		LedgerDropLine: 0.003, LedgerAmount: 0.003, LedgerDropAR: 0.002, LedgerWrongPartner: 0.002, LedgerCentTrap: 0.005,

		ExpStale: 0.02, ExpStaleEdge: 0.02, ExpLimit: 0.02, ExpLimitEdge: 0.02, ExpOldLimit: 0.02,
		ExpNullLimit: 0.02, ExpConflict: 0.02, ExpSameTime: 0.02, ExpVersionTie: 0.02, ExpShuffleFile: 0.05,
	}
}

// Count is one named tally.
type Count struct {
	Name string
	N    int64
}

// Stats describes what Generate wrote.
type Stats struct {
	Partners int
	// Rows per file, in a fixed order (path relative to the output dir).
	Files []Count
	// Breaks per "recon/break_type" in truth.csv, sorted.
	Breaks []Count
	// Traps per name, sorted: planted cases that must not be breaks.
	Traps []Count
	// Truth is the number of rows of truth.csv.
	Truth int64
	// Redraws counts partner plans drawn again because the model of the
	// passes found an unplanned interaction; PlainPartners the partners
	// that ended with nothing planted after 30 draws.
	Redraws, PlainPartners int64
}

// Rows is the number of data rows written, truth excluded.
func (s *Stats) Rows() int64 {
	var n int64
	for _, f := range s.Files {
		n += f.N
	}
	return n
}

func (s *Stats) String() string {
	var b strings.Builder
	b.WriteString("partners: " + strconv.Itoa(s.Partners) + " (plans drawn again: " + strconv.FormatInt(s.Redraws, 10) +
		", left plain: " + strconv.FormatInt(s.PlainPartners, 10) + ")\nfiles:\n")
	for _, f := range s.Files {
		b.WriteString("  " + f.Name + ": " + strconv.FormatInt(f.N, 10) + "\n")
	}
	b.WriteString("breaks (truth.csv, " + strconv.FormatInt(s.Truth, 10) + " rows):\n")
	for _, c := range s.Breaks {
		b.WriteString("  " + c.Name + ": " + strconv.FormatInt(c.N, 10) + "\n")
	}
	b.WriteString("traps:\n")
	for _, c := range s.Traps {
		b.WriteString("  " + c.Name + ": " + strconv.FormatInt(c.N, 10) + "\n")
	}
	return b.String()
}

// File names, relative to the output folder.
const (
	FileBillingInvoices = "billing/invoices.csv"
	FileBillingPayments = "billing/payments.csv"
	FileOdooInvoices    = "odoo/invoices.csv"
	FileOdooPayments    = "odoo/payments.csv"
	FileJournalLines    = "odoo/journal_lines.csv"
	FileExposures       = "risk/exposures.csv"
	FileTruth           = "truth.csv"
	FileConfig          = "finrecon.yaml"
)

var (
	invoiceHeader = []string{"invoice_id", "invoice_number", "external_ref", "kind", "partner_id", "partner_name", "legal_entity",
		"currency", "amount_untaxed", "amount_tax", "amount_total", "amount_residual", "issue_date", "due_date", "status", "updated_at"}
	paymentHeader = []string{"payment_id", "payment_ref", "invoice_ref", "partner_id", "legal_entity", "currency", "amount",
		"value_date", "status", "method", "updated_at"}
	journalHeader = []string{"entry_id", "line_id", "entry_ref", "journal", "account_code", "partner_id", "legal_entity",
		"currency", "debit", "credit", "amount_currency", "posting_date", "status", "updated_at"}
	exposureHeader = []string{"exposure_id", "decision_id", "decision_version", "partner_id", "legal_entity", "currency",
		"credit_limit", "exposure_amount", "payment_terms_days", "risk_rating", "decided_at", "effective_from"}
	truthHeader = []string{"recon", "break_type", "left_id", "right_id", "group"}
)

// Generate writes the data set into dir (created if needed) and returns
// what it wrote.
func Generate(dir string, opt Options) (*Stats, error) {
	if opt.Invoices <= 0 {
		return nil, fmt.Errorf("synth: Invoices must be positive, got %d", opt.Invoices)
	}
	if opt.AsOf.IsZero() {
		return nil, fmt.Errorf("synth: AsOf is required")
	}
	g := newGen(opt)
	for _, sub := range []string{"billing", "odoo", "risk"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	open := func(name string, header []string) *rowWriter {
		if g.err != nil {
			return nil
		}
		w, err := newRowWriter(filepath.Join(dir, filepath.FromSlash(name)), g.dates, header...)
		if err != nil {
			g.err = err
		}
		return w
	}
	g.bInv = open(FileBillingInvoices, invoiceHeader)
	g.bPay = open(FileBillingPayments, append(append([]string{}, paymentHeader...), "payout_id"))
	g.oInv = open(FileOdooInvoices, invoiceHeader)
	g.oPay = open(FileOdooPayments, paymentHeader)
	g.jl = open(FileJournalLines, journalHeader)
	g.exp = open(FileExposures, exposureHeader)
	g.truth = open(FileTruth, truthHeader)
	writers := []*rowWriter{g.bInv, g.bPay, g.oInv, g.oPay, g.jl, g.exp, g.truth}
	if g.err != nil {
		for _, w := range writers {
			if w != nil {
				w.close()
			}
		}
		return nil, g.err
	}
	g.run()
	for _, w := range writers {
		if err := w.close(); err != nil && g.err == nil {
			g.err = err
		}
	}
	if g.err != nil {
		return nil, g.err
	}
	if err := os.WriteFile(filepath.Join(dir, FileConfig), []byte(configYAML(opt.RulesDir)), 0o644); err != nil {
		return nil, err
	}
	st := &Stats{Partners: len(g.partners), Truth: g.truth.rows, Redraws: g.redraws, PlainPartners: g.plainPartners}
	for _, f := range []struct {
		name string
		w    *rowWriter
	}{{FileBillingInvoices, g.bInv}, {FileBillingPayments, g.bPay}, {FileOdooInvoices, g.oInv},
		{FileOdooPayments, g.oPay}, {FileJournalLines, g.jl}, {FileExposures, g.exp}} {
		st.Files = append(st.Files, Count{f.name, f.w.rows})
	}
	st.Breaks = sortedCounts(g.breakCounts)
	for i, n := range g.traps {
		if n > 0 {
			st.Traps = append(st.Traps, Count{trapNames[i], n})
		}
	}
	sort.Slice(st.Traps, func(i, j int) bool { return st.Traps[i].Name < st.Traps[j].Name })
	return st, nil
}

func sortedCounts(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func configYAML(rulesDir string) string {
	var b strings.Builder
	b.WriteString("# Synthetic data written by internal/synth; truth.csv lists the breaks to find.\n")
	if rulesDir != "" {
		b.WriteString("rules: [" + strconv.Quote(rulesDir) + "]\n")
	}
	b.WriteString("snapshots: snapshots\nruns: runs\n\n")
	b.WriteString("entities:\n")
	for e := range entCode {
		b.WriteString("  " + entCode[e] + ": {currency: " + curCode[entHome[e]] + "}\n")
	}
	b.WriteString("\nsystems:\n  billing: {dir: billing}\n  odoo: {dir: odoo}\n  risk: {dir: risk}\n")
	return b.String()
}

// ---------------------------------------------------------------------------
// The generator's state.

const (
	eFR, eUS, eUK          = 0, 1, 2
	cEUR, cUSD, cGBP, cJPY = 0, 1, 2, 3
)

var (
	entCode = [3]string{"FR01", "US01", "UK01"}
	entHome = [3]uint8{cEUR, cUSD, cGBP}
	curCode = [4]string{"EUR", "USD", "GBP", "JPY"}
	curDec  = [4]int{2, 2, 2, 0}
)

type gen struct {
	opt   Options
	rt    Rates
	asOf  int32
	dates *dateCache
	err   error

	bInv, bPay, oInv, oPay, jl, exp, truth *rowWriter

	pcg *rand.PCG
	r   *rand.Rand

	partners []*partner
	last     [3][4]*partner // last committed partner per entity and currency
	groups   map[uint64]*groupAgg
	batches  map[batchKey]*batch

	invTable, payTable []plantRate

	// sequences
	numSeq                                      uint64
	bInvSeq, bPaySeq, oInvSeq, oPaySeq, odooNum int64
	entrySeq, lineSeq, payoutSeq, expSeq        int64
	payRefSeq, bankRefSeq, manualSeq            int64
	idW                                         int
	oInvBase, oPayBase, entryBase, lineBase     int64
	numKey                                      uint64
	numLimit                                    uint64

	redraws       int64 // partner plans drawn again
	plainPartners int64 // partners left with nothing planted
	breakCounts   map[string]int64
	traps         [nTraps]int64

	// scratch
	slabB slab[binv]
	slabO slab[oinv]
	slabP slab[bpay]
	slabQ slab[opay]
	lines []jline
}

func newGen(opt Options) *gen {
	rt := DefaultRates()
	if opt.Rates != nil {
		rt = *opt.Rates
	}
	asOf := int32(time.Date(opt.AsOf.Year(), opt.AsOf.Month(), opt.AsOf.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
	g := &gen{
		opt: opt, rt: rt, asOf: asOf,
		dates:       newDateCache(asOf-400, asOf+400),
		groups:      map[uint64]*groupAgg{},
		batches:     map[batchKey]*batch{},
		breakCounts: map[string]int64{},
	}
	g.pcg = rand.NewPCG(opt.Seed, 0)
	g.r = rand.New(g.pcg)
	g.idW = max(8, len(strconv.Itoa(opt.Invoices*4)))
	base := int64(1)
	for i := 0; i < g.idW; i++ {
		base *= 10
	}
	g.oInvBase, g.oPayBase, g.entryBase, g.lineBase = base, 5*base, 3*base, 10*base
	g.numKey = splitmix(opt.Seed^0x5eed) & mask50
	g.numLimit = uint64(opt.Invoices)*4 + 1024
	g.invTable = invPlantTable(rt)
	g.payTable = payPlantTable(rt)
	return g
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// run generates partner after partner, then what needs every partner: the
// last payouts, the exposures and the group-level truth.
func (g *gen) run() {
	sizes := rand.New(rand.NewPCG(g.opt.Seed, 0x51_7e5))
	remaining := g.opt.Invoices
	for idx := 0; remaining > 0; idx++ {
		n := 5 + sizes.IntN(31)
		if n > remaining || remaining-n < 5 {
			n = remaining
		}
		remaining -= n
		pt := g.newPartner(idx)
		g.partners = append(g.partners, pt)
		g.doPartner(pt, n)
	}
	g.flushBatches()
	g.finishGroups()
}

// seed points the shared random stream at (stream, attempt).
func (g *gen) seed(stream uint64, attempt uint64) {
	g.pcg.Seed(g.opt.Seed^0x7a3c_91e5_55aa_0f0f, splitmix(stream)^attempt*0x9E3779B97F4A7C15)
}

// ---------------------------------------------------------------------------
// Truth.

func (g *gen) truthRow(recon, typ, left, right, group string) {
	w := g.truth
	w.raw(recon)
	w.raw(typ)
	w.raw(left)
	w.raw(right)
	w.raw(group)
	w.end()
	g.breakCounts[recon+"/"+typ]++
}

// joinIDs joins ids with '|' in byte order.
func joinIDs(ids ...string) string {
	s := append([]string(nil), ids...)
	sort.Strings(s)
	return strings.Join(s, "|")
}

func groupName(ent uint8, partnerID string, cur uint8) string {
	return entCode[ent] + "/" + partnerID + "/" + curCode[cur]
}
