package synth

import "strconv"

// partner is one customer account: one legal entity, one currency.
type partner struct {
	idx    int32
	id     string
	name   string
	ent    uint8
	cur    uint8
	taxPct int64
	rating string
	terms  int32
}

var nameStems = []string{
	"Société Générale d'Équipement", "Müller & Söhne GmbH", `"Le Petit" Café`, "Boulangerie Dupont SARL",
	"Ça Va Bien SAS", "Zürich Präzision AG", "Dupont, Durand & Associés", "Laboratoires Hélène Béranger",
	"Transports Léon & Fils", "Ñandú Importaciones S.L.", "Björk Design AB", "Łódź Tekstylia Sp. z o.o.",
	"Acme Corp.", "Globex Inc.", "Initech, LLC", "Wayne Enterprises, Inc.", "Stark Industries",
	"Umbrella Holdings; Research Div.", "Peña & García LLC", "Hooli, Inc.", "Smith, Jones; Partners LLP",
	"Hargreaves & Co Ltd", "O'Brien & Sons Ltd", `The "Red Lion" Pub Co.`, "Åkesson Maritime Ltd",
	"Tōkyō Seimitsu K.K.", "Van der Berg B.V.", "Whitby & Crane plc",
}

func (g *gen) newPartner(idx int) *partner {
	g.seed(uint64(idx)*8+1, 0)
	r := g.r
	pt := &partner{idx: int32(idx), terms: 30}
	w := max(6, len(strconv.Itoa(g.opt.Invoices/5+1)))
	pt.id = fixedID("C", int64(idx+1), w)
	switch x := r.IntN(100); {
	case x < 50:
		pt.ent = eFR
	case x < 80:
		pt.ent = eUS
	default:
		pt.ent = eUK
	}
	pt.cur = entHome[pt.ent]
	switch x := r.IntN(100); {
	case pt.ent != eUK && x < 6:
		pt.cur = cJPY
	case pt.ent == eUK && x < 10:
		pt.cur = cEUR
	}
	switch {
	case pt.cur == cJPY:
		pt.taxPct = 10
	case pt.ent == eFR:
		pt.taxPct = []int64{20, 20, 20, 10, 0}[r.IntN(5)]
	case pt.ent == eUS:
		pt.taxPct = []int64{0, 0, 8, 10}[r.IntN(4)]
	case pt.cur == cGBP:
		pt.taxPct = []int64{20, 20, 0}[r.IntN(3)]
	default:
		pt.taxPct = 0
	}
	pt.rating = []string{"A", "A", "B", "B", "B", "C"}[r.IntN(6)]
	if r.IntN(4) == 0 {
		pt.terms = 45
	}
	pt.name = nameStems[r.IntN(len(nameStems))] + " " + strconv.Itoa(idx+1)
	return pt
}

// ---------------------------------------------------------------------------
// Invoices.

type invPlant uint8

const (
	ipPlain invPlant = iota
	ipDraft
	ipNoisy
	ipLostRef
	ipCentDiff
	ipDateEdge
	ipRecurring
	ipNearTie
	ipCancelled
	ipMissing
	ipAmount
	ipTax
	ipCurrency
	ipPartner
	ipDate
	ipStatus
	ipDupRight
	ipDupLeft
	ipFuzzy
	ipAmbLeft
	ipAmbRight
)

// Planned ways an invoice or a payment leaves the matching.
type fate uint8

const (
	fOpen     fate = iota // not matched: unmatched (or nothing, if filtered)
	fExact                // one-to-one, first pass
	fSecond               // one-to-one, second pass (amount_date / by_invoice)
	fFuzzy                // one-to-one, fuzzy pass
	fAmb                  // in an ambiguous break
	fGroup                // many-to-one (payout, lump)
	fDupExtra             // an extra copy of a duplicate
	fOut                  // filtered out or outside the period
)

// binv is a billing invoice.
type binv struct {
	kind    invPlant
	id, id2 string // id2: the second row of a duplicated number
	num     string
	norm    string // upper(strip_punct(num))
	credit  bool
	net     int64 // signed: credit notes negative
	tax     int64
	issue   int32
	fixed   string // status fixed by the plan (draft, cancelled, open)
	status  string
	resid   int64
	odoo    *oinv // Odoo's copy payments are allocated to
	pays    int   // billing payments planned
	payable bool
	upd     int32 // updated_at second of day

	// plan and outcome
	want, got   fate
	wantP, gotP *oinv
	wantAmb     int
	gotAmb      int
	dupLeft     bool
}

func (b *binv) total() int64 { return b.net + b.tax }

// oinv is an Odoo invoice.
type oinv struct {
	id       string
	num      string
	ext      string // as written; "" is NULL
	extNorm  string
	bill     *binv
	partner  *partner
	cur      uint8
	credit   bool
	net, tax int64
	issue    int32
	fixed    string
	status   string
	alloc    int64
	resid    int64
	upd      int32

	want, got   fate
	wantP, gotP *binv
	wantAmb     int
	gotAmb      int
}

func (o *oinv) total() int64 { return o.net + o.tax }

// ---------------------------------------------------------------------------
// Payments.

type payPlant uint8

const (
	ppPlain payPlant = iota
	ppMissing
	ppAmount
	ppCurrency
	ppDate
	ppTiming
	ppDupRight
	ppAmbBI
	ppNoisy
	ppCentDiff
	ppDateEdge
	ppByInvoice
	ppInTransit
	ppInTransitMatched
	ppNextPeriod
	ppLump     // set on lump members
	ppAmbLump  // set on ambiguous lump members
	ppFailedOf // a failed or pending billing row (filtered)
)

// bpay is a billing payment.
type bpay struct {
	id       string
	ref      string
	inv      *binv
	amount   int64
	date     int32
	status   string
	method   string
	card     bool
	fee      bool
	plant    payPlant
	upd      int32
	copy     *opay // Odoo's main copy
	want     fate
	got      fate
	wantP    *opay
	gotP     *opay
	wantAmb  int
	gotAmb   int
	wantLump *opay
	gotLump  *opay
}

type refMode uint8

const (
	refNone  refMode = iota
	refSame          // the billing payment's reference
	refNoisy         // the same with case, blank and punctuation noise
	refBank          // a bank reference of its own
)

// opay is an Odoo payment.
type opay struct {
	id       string
	ref      string
	refMode  refMode
	refOf    *bpay
	invRef   string // as written
	invNorm  string
	partner  *partner
	cur      uint8
	amount   int64
	date     int32
	status   string
	method   string
	allocTo  []*oinv
	allocAmt []int64
	allocBuf [1]*oinv
	amtBuf   [1]int64
	gone     bool
	upd      int32

	want, got fate
	wantP     *bpay
	gotP      *bpay
	wantAmb   int
	gotAmb    int
}

// ---------------------------------------------------------------------------
// Groups (legal entity, partner, currency) for the ledger and exposure truth.

type groupAgg struct {
	ent     uint8
	cur     uint8
	pidx    int32
	ar      int64 // posted 121000 amount_currency
	resid   int64 // open/partial Odoo residuals
	hasAR   bool
	hasOpen bool
	hasInv  bool // any Odoo invoice
}

func groupKey(pidx int32, ent, cur uint8) uint64 {
	return uint64(pidx)<<16 | uint64(ent)<<8 | uint64(cur)
}

func (g *gen) group(pidx int32, ent, cur uint8) *groupAgg {
	k := groupKey(pidx, ent, cur)
	a := g.groups[k]
	if a == nil {
		a = &groupAgg{ent: ent, cur: cur, pidx: pidx}
		g.groups[k] = a
	}
	return a
}

// ---------------------------------------------------------------------------
// Payouts.

type batchKey struct {
	ent, cur uint8
	day      int32 // -1 for fee payouts
}

type member struct {
	pt     *partner
	id     string
	amount int64
	date   int32
}

type batch struct {
	key     batchKey
	id      string
	written string // payout_id as billing writes it
	target  int
	fee     bool
	members []member
}

// ---------------------------------------------------------------------------
// Traps.

type trapID uint8

const (
	tInvDraft trapID = iota
	tInvOdooDraft
	tInvNoisy
	tInvLostRef
	tInvLostRefEdge
	tInvCentDiff
	tInvDateEdge
	tInvRecurring
	tInvNearTie
	tInvCancelled
	tInvStatusLag
	tPayNoisy
	tPayCentDiff
	tPayDateEdge
	tPayByInvoice
	tPayByInvoiceEdge
	tPayLump
	tPayInTransit
	tPayInTransitMatched
	tPayNextPeriod
	tPayFailed
	tPayPending
	tPayOdooFailedSameRef
	tPayoutGroup
	tPayoutNoise
	tPayoutInTransit
	tPayDupPendingNoAR
	tLedgerCent
	tLedgerDraftUnbalanced
	tExpStaleEdge
	tExpLimitEdge
	tExpOldLimit
	tExpNullLimit
	tExpSameTime
	tExpVersionTie
	tExpShuffle
	nTraps
)

var trapNames = [nTraps]string{
	"invoices/draft_filtered", "invoices/odoo_draft_same_ref", "invoices/noisy_ref", "invoices/lost_ref_amount_date",
	"invoices/lost_ref_edge_3_days_or_0.01", "invoices/total_0.01_apart", "invoices/date_exactly_3_days",
	"invoices/recurring_same_amount", "invoices/near_tie_resolved", "invoices/cancelled_both", "invoices/status_open_vs_partial",
	"payments/noisy_ref", "payments/amount_0.01_apart", "payments/date_exactly_2_days", "payments/by_invoice",
	"payments/by_invoice_edge", "payments/lump_unique_subset", "payments/in_transit_unmatched", "payments/in_transit_matched",
	"payments/next_period_excluded", "payments/failed_filtered", "payments/pending_filtered", "payments/odoo_failed_same_ref",
	"payments/payout_group", "payments/payout_id_case", "payments/payout_in_transit", "payments/odoo_pending_copy",
	"ledger/ar_amount_currency_0.01", "ledger/unbalanced_draft_or_cancelled",
	"exposure/stale_by_0.01", "exposure/exactly_at_limit", "exposure/older_limit_breached", "exposure/null_limit",
	"exposure/same_decided_at", "exposure/version_tie_by_id", "exposure/file_out_of_order",
}

// allocOne allocates the payment to one invoice, without a slice allocation.
func (o *opay) allocOne(t *oinv, amount int64) {
	o.allocBuf[0], o.amtBuf[0] = t, amount
	o.allocTo, o.allocAmt = o.allocBuf[:1], o.amtBuf[:1]
}
