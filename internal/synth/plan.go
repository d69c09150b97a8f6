package synth

import (
	"math/rand/v2"
	"strings"
)

// plan is one partner's documents before they are written: billing and Odoo
// invoices and payments, each with the fate the matching passes must give
// it (want) and the fate a model of the passes gives it (got).
type plan struct {
	g     *gen
	pt    *partner
	r     *rand.Rand
	invs  []*binv
	oinvs []*oinv
	pays  []*bpay
	opays []*opay
	nums  uint64
	amb   int
	traps [nTraps]int32

	// outcome of the model, for the truth
	invDups [][]*oinv
	payDups [][]*opay
}

type plantRate struct {
	kind uint8
	rate float64
}

func invPlantTable(rt Rates) []plantRate {
	return []plantRate{
		{uint8(ipDraft), rt.InvDraft}, {uint8(ipNoisy), rt.InvNoisyRef}, {uint8(ipLostRef), rt.InvLostRef},
		{uint8(ipCentDiff), rt.InvCentDiff}, {uint8(ipDateEdge), rt.InvDateEdge}, {uint8(ipRecurring), rt.InvRecurring},
		{uint8(ipNearTie), rt.InvNearTie}, {uint8(ipCancelled), rt.InvCancelled}, {uint8(ipMissing), rt.InvMissing},
		{uint8(ipAmount), rt.InvAmount}, {uint8(ipTax), rt.InvTax}, {uint8(ipCurrency), rt.InvCurrency},
		{uint8(ipPartner), rt.InvPartner}, {uint8(ipDate), rt.InvDate}, {uint8(ipStatus), rt.InvStatus},
		{uint8(ipDupRight), rt.InvDupRight}, {uint8(ipDupLeft), rt.InvDupLeft}, {uint8(ipFuzzy), rt.InvFuzzy},
		{uint8(ipAmbLeft), rt.InvAmbiguousLeft}, {uint8(ipAmbRight), rt.InvAmbiguousRight},
	}
}

func payPlantTable(rt Rates) []plantRate {
	return []plantRate{
		{uint8(ppMissing), rt.PayMissing}, {uint8(ppAmount), rt.PayAmount}, {uint8(ppCurrency), rt.PayCurrency},
		{uint8(ppDate), rt.PayDate}, {uint8(ppTiming), rt.PayTiming}, {uint8(ppDupRight), rt.PayDupRight},
		{uint8(ppAmbBI), rt.PayAmbiguousBI}, {uint8(ppNoisy), rt.PayNoisyRef}, {uint8(ppCentDiff), rt.PayCentDiff},
		{uint8(ppDateEdge), rt.PayDateEdge}, {uint8(ppByInvoice), rt.PayByInvoice}, {uint8(ppInTransit), rt.PayInTransit},
		{uint8(ppInTransitMatched), rt.PayInTransitMatched}, {uint8(ppNextPeriod), rt.PayNextPeriod},
	}
}

func (p *plan) draw(table []plantRate) uint8 {
	u := p.r.Float64()
	for _, e := range table {
		if u < e.rate {
			return e.kind
		}
		u -= e.rate
	}
	return 0
}

func (p *plan) chance(rate float64) bool { return rate > 0 && p.r.Float64() < rate }

// between returns a random int32 in [lo, hi].
func (p *plan) between(lo, hi int32) int32 { return lo + int32(p.r.IntN(int(hi-lo+1))) }

func (p *plan) sign() int64 {
	if p.r.IntN(2) == 0 {
		return -1
	}
	return 1
}

// doPartner plans a partner's documents until the model of the passes
// gives exactly the planned outcome, then writes them. The last attempt
// plants nothing, which always passes.
func (g *gen) doPartner(pt *partner, n int) {
	const attempts = 30
	for a := 0; a < attempts; a++ {
		plain := a == attempts-1
		g.seed(uint64(pt.idx)*8+2, uint64(a))
		g.slabB.reset()
		g.slabO.reset()
		g.slabP.reset()
		g.slabQ.reset()
		p := &plan{g: g, pt: pt, r: g.r}
		p.planInvoices(n, plain)
		p.planPayments(plain)
		p.settle()
		if p.simulateInvoices() && p.simulatePayments() {
			g.commit(p)
			if plain {
				g.plainPartners++
			}
			return
		}
		g.redraws++
		if plain {
			panic("synth: a partner with nothing planted does not reconcile; the model is inconsistent")
		}
	}
}

// Documents come from slabs reused from partner to partner: nothing of a
// plan is referenced once it is written.
func (p *plan) nb(v binv) *binv  { x := p.g.slabB.next(); *x = v; return x }
func (p *plan) no(v oinv) *oinv  { x := p.g.slabO.next(); *x = v; return x }
func (p *plan) nbp(v bpay) *bpay { x := p.g.slabP.next(); *x = v; return x }
func (p *plan) nop(v opay) *opay { x := p.g.slabQ.next(); *x = v; return x }

type slab[T any] struct {
	chunks [][]T
	n      int
}

const slabChunk = 64

func (s *slab[T]) next() *T {
	c := s.n / slabChunk
	if c == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, slabChunk))
	}
	x := &s.chunks[c][s.n%slabChunk]
	s.n++
	return x
}

func (s *slab[T]) reset() { s.n = 0 }

// billNumber returns a billing invoice number and its normalised form,
// sharing one allocation.
func billNumber(x uint64) (num, norm string) {
	var b [26]byte
	copy(b[:], "BL-")
	for i := 9; i >= 0; i-- {
		c := alphabet[x&31]
		x >>= 5
		b[14+2+i] = c
		if i < 5 {
			b[3+i] = c
		} else {
			b[4+i] = c
		}
	}
	b[8] = '-'
	b[14], b[15] = 'B', 'L'
	s := string(b[:])
	return s[:14], s[14:]
}

// ---------------------------------------------------------------------------
// Invoices.

func (p *plan) planInvoices(n int, plain bool) {
	for k := 0; k < n; {
		kind := ipPlain
		if !plain {
			kind = invPlant(p.draw(p.g.invTable))
		}
		width := 1
		switch kind {
		case ipRecurring, ipNearTie, ipAmbRight:
			width = 2
		}
		if k+width > n || !p.invoice(kind) {
			p.invoice(ipPlain)
			width = 1
		}
		k += width
		if plain {
			continue
		}
		if p.chance(p.g.rt.InvOdooOnly) {
			p.odooOnly()
		}
		if p.chance(p.g.rt.InvOdooDraft) {
			p.odooDraft()
		}
	}
}

// bill makes a billing invoice with a fresh number, amounts and date.
func (p *plan) bill(credit bool) *binv {
	g, r := p.g, p.r
	seq := g.numSeq + p.nums
	p.nums++
	b := p.nb(binv{credit: credit})
	b.num, b.norm = billNumber(scramble(seq, g.numKey))
	b.issue = g.asOf - p.between(0, 89)
	b.net = p.randNet(credit)
	b.tax = divRound(b.net*p.pt.taxPct, 100)
	if credit {
		b.net, b.tax = -b.net, -b.tax
	}
	b.upd = int32(7*3600 + r.IntN(12*3600))
	p.invs = append(p.invs, b)
	return b
}

func (p *plan) creditDraw() bool { return p.r.IntN(100) < 8 }

func (p *plan) randNet(credit bool) int64 {
	r := p.r
	if p.pt.cur == cJPY {
		v := int64(5+r.IntN(3000)) * 1000
		if r.IntN(3) == 0 {
			v += int64(r.IntN(1000))
		}
		if credit {
			v = v/4 + 1000
		}
		return v
	}
	var units int
	switch x := r.IntN(100); {
	case credit:
		units = 20 + r.IntN(1981)
	case x < 60:
		units = 50 + r.IntN(1451)
	case x < 90:
		units = 1500 + r.IntN(7501)
	default:
		units = 9000 + r.IntN(51001)
	}
	cents := 0
	if r.IntN(10) < 6 {
		cents = r.IntN(100)
	}
	return int64(units)*100 + int64(cents)
}

// divRound divides, rounding half away from zero.
func divRound(a, b int64) int64 {
	neg := (a < 0) != (b < 0)
	if a < 0 {
		a = -a
	}
	if b < 0 {
		b = -b
	}
	q := (a + b/2) / b
	if neg {
		return -q
	}
	return q
}

// copyOf makes Odoo's copy of b, synced with its reference.
func (p *plan) copyOf(b *binv) *oinv {
	o := p.no(oinv{bill: b, ext: b.num, extNorm: b.norm, partner: p.pt, cur: p.pt.cur, credit: b.credit,
		net: b.net, tax: b.tax, issue: b.issue, upd: int32(7*3600 + p.r.IntN(12*3600))})
	if b.odoo == nil {
		b.odoo = o
	}
	p.oinvs = append(p.oinvs, o)
	return o
}

func (p *plan) pair(b *binv, o *oinv, f fate) {
	b.want, o.want, b.wantP, o.wantP = f, f, o, b
}

func (p *plan) ambGroup(bs []*binv, os []*oinv) {
	p.amb++
	for _, b := range bs {
		b.want, b.wantAmb = fAmb, p.amb
	}
	for _, o := range os {
		o.want, o.wantAmb = fAmb, p.amb
	}
}

// delta is an amount difference above the 0.01 tolerance.
func (p *plan) delta(base int64) int64 {
	if base < 0 {
		base = -base
	}
	lo := int64(2)
	if p.pt.cur == cJPY {
		lo = 1
	}
	return p.sign() * (lo + p.r.Int64N(max(2, min(base/3, 50000))))
}

func (p *plan) invoice(kind invPlant) bool {
	start := len(p.invs)
	if !p.invoiceKind(kind) {
		return false
	}
	for _, b := range p.invs[start:] {
		b.kind = kind
	}
	return true
}

func (p *plan) invoiceKind(kind invPlant) bool {
	g, r, A := p.g, p.r, p.g.asOf
	pt := p.pt
	jpy := pt.cur == cJPY
	switch kind {
	case ipPlain:
		b := p.bill(p.creditDraw())
		p.pair(b, p.copyOf(b), fExact)
		b.payable = true
	case ipDraft:
		b := p.bill(false)
		b.fixed, b.want = "draft", fOut
		p.traps[tInvDraft]++
	case ipNoisy:
		b := p.bill(p.creditDraw())
		o := p.copyOf(b)
		o.ext = noisyRef(r, b.num)
		o.extNorm = normRef(o.ext)
		p.pair(b, o, fExact)
		b.payable = true
		p.traps[tInvNoisy]++
	case ipLostRef:
		b := p.bill(p.creditDraw())
		b.issue = A - p.between(3, 89)
		o := p.copyOf(b)
		o.ext, o.extNorm = "", ""
		s := p.between(0, 3)
		o.issue = b.issue + s
		var d int64
		if !jpy && r.IntN(3) == 0 {
			d = p.sign()
			o.net += d
		}
		p.pair(b, o, fSecond)
		b.payable = d == 0
		p.traps[tInvLostRef]++
		if s == 3 || d != 0 {
			p.traps[tInvLostRefEdge]++
		}
	case ipCentDiff:
		if jpy {
			return false
		}
		b := p.bill(false)
		o := p.copyOf(b)
		o.net += p.sign()
		p.pair(b, o, fExact)
		p.traps[tInvCentDiff]++
	case ipDateEdge:
		b := p.bill(p.creditDraw())
		o := p.copyOf(b)
		o.issue = b.issue + 3*int32(p.sign())
		p.pair(b, o, fExact)
		b.payable = true
		p.traps[tInvDateEdge]++
	case ipRecurring:
		b1 := p.bill(false)
		b1.issue = A - p.between(13, 89)
		b2 := p.bill(false)
		b2.net, b2.tax = b1.net, b1.tax
		b2.issue = b1.issue + p.between(7, 10)
		for _, b := range []*binv{b1, b2} {
			o := p.copyOf(b)
			o.ext, o.extNorm = "", ""
			o.issue = b.issue + p.between(0, 3)
			p.pair(b, o, fSecond)
			b.payable = true
		}
		p.traps[tInvRecurring]++
	case ipNearTie:
		if jpy {
			return false
		}
		b1 := p.bill(false)
		b1.issue = A - p.between(3, 89)
		b2 := p.bill(false)
		b2.net, b2.tax, b2.issue = b1.net+1, b1.tax, b1.issue
		o1 := p.copyOf(b1)
		o2 := p.copyOf(b2)
		o1.ext, o1.extNorm, o1.issue = "", "", b1.issue+2
		o2.ext, o2.extNorm = "", ""
		p.pair(b1, o1, fSecond)
		p.pair(b2, o2, fSecond)
		p.traps[tInvNearTie]++
	case ipCancelled:
		b := p.bill(false)
		o := p.copyOf(b)
		b.fixed, o.fixed = "cancelled", "cancelled"
		p.pair(b, o, fExact)
		p.traps[tInvCancelled]++
	case ipMissing:
		b := p.bill(p.creditDraw())
		b.want = fOpen
	case ipAmount:
		b := p.bill(p.creditDraw())
		o := p.copyOf(b)
		o.net += p.delta(b.net)
		p.pair(b, o, fExact)
	case ipTax:
		b := p.bill(false)
		o := p.copyOf(b)
		d := p.delta(b.net / 5)
		o.tax += d
		o.net -= d
		p.pair(b, o, fExact)
	case ipCurrency:
		if jpy {
			return false
		}
		b := p.bill(p.creditDraw())
		o := p.copyOf(b)
		o.cur = otherCur(pt.cur)
		p.pair(b, o, fExact)
	case ipPartner:
		tgt := g.last[pt.ent][pt.cur]
		if tgt == nil {
			return false
		}
		b := p.bill(p.creditDraw())
		o := p.copyOf(b)
		o.partner = tgt
		p.pair(b, o, fExact)
	case ipDate:
		b := p.bill(p.creditDraw())
		o := p.copyOf(b)
		o.issue = b.issue + int32(p.sign())*p.between(4, 20)
		p.pair(b, o, fExact)
	case ipStatus:
		b := p.bill(false)
		o := p.copyOf(b)
		if r.IntN(2) == 0 {
			b.fixed = "cancelled"
		} else {
			b.fixed, o.fixed = "open", "cancelled"
		}
		p.pair(b, o, fExact)
	case ipDupRight:
		b := p.bill(p.creditDraw())
		o1 := p.copyOf(b)
		o2 := p.copyOf(b)
		if r.IntN(2) == 0 {
			o2.ext = noisyRef(r, b.num)
			o2.extNorm = normRef(o2.ext)
		}
		o2.issue += p.between(0, 1)
		o2.want = fDupExtra
		p.pair(b, o1, fExact)
		b.payable = true
	case ipDupLeft:
		b := p.bill(p.creditDraw())
		b.dupLeft = true
		p.pair(b, p.copyOf(b), fExact)
		b.payable = true
	case ipFuzzy:
		b := p.bill(false)
		ext, ok := p.typo(b)
		if !ok {
			p.invs = p.invs[:len(p.invs)-1]
			p.nums--
			return false
		}
		o := p.copyOf(b)
		o.ext, o.extNorm = ext, normRef(ext)
		switch v := r.IntN(3); {
		case v == 0:
			o.net += p.delta(b.net)
		case v == 1 && b.issue >= A-86:
			o.issue = b.issue - p.between(1, 3) // outside amount_date's window, inside date_mismatch's
		default:
			o.issue = b.issue + p.between(4, 10)
		}
		p.pair(b, o, fFuzzy)
	case ipAmbLeft:
		b := p.bill(false)
		b.issue = A - p.between(3, 89)
		s := p.between(0, 3)
		o1, o2 := p.copyOf(b), p.copyOf(b)
		for _, o := range []*oinv{o1, o2} {
			o.ext, o.extNorm, o.issue = "", "", b.issue+s
		}
		p.ambGroup([]*binv{b}, []*oinv{o1, o2})
	case ipAmbRight:
		b1 := p.bill(false)
		b1.issue = A - p.between(3, 89)
		b2 := p.bill(false)
		b2.net, b2.tax, b2.issue = b1.net, b1.tax, b1.issue
		o := p.copyOf(b1)
		o.ext, o.extNorm, o.issue = "", "", b1.issue+p.between(0, 3)
		p.ambGroup([]*binv{b1, b2}, []*oinv{o})
	}
	return true
}

// odooOnly adds an invoice keyed in Odoo by hand: no billing counterpart.
func (p *plan) odooOnly() {
	credit := p.creditDraw()
	o := p.no(oinv{partner: p.pt, cur: p.pt.cur, credit: credit, issue: p.g.asOf - p.between(0, 89), upd: int32(7*3600 + p.r.IntN(12*3600))})
	o.net = p.randNet(credit)
	o.tax = divRound(o.net*p.pt.taxPct, 100)
	if credit {
		o.net, o.tax = -o.net, -o.tax
	}
	if p.r.IntN(3) == 0 {
		o.ext = "MAN-" + strings.ToUpper(encode50(p.r.Uint64() & mask50)[:6])
		o.extNorm = normRef(o.ext)
	}
	o.want = fOpen
	p.oinvs = append(p.oinvs, o)
}

// odooDraft adds a draft in Odoo carrying the reference of a billing invoice
// already sent: the filter drops it, so it is neither matched nor a duplicate.
func (p *plan) odooDraft() {
	var src *binv
	for i := len(p.invs) - 1; i >= 0; i-- {
		if b := p.invs[i]; b.kind == ipPlain && b.want == fExact && b.fixed == "" {
			src = b
			break
		}
	}
	o := p.no(oinv{partner: p.pt, cur: p.pt.cur, fixed: "draft", want: fOut, issue: p.g.asOf - p.between(0, 30), upd: int32(7*3600 + p.r.IntN(12*3600))})
	if src != nil {
		o.ext, o.extNorm, o.net, o.tax, o.credit = src.num, src.norm, src.net, src.tax, src.credit
	} else {
		o.net = p.randNet(false)
		o.tax = divRound(o.net*p.pt.taxPct, 100)
	}
	p.oinvs = append(p.oinvs, o)
	p.traps[tInvOdooDraft]++
}

func otherCur(c uint8) uint8 {
	switch c {
	case cEUR:
		return cUSD
	default:
		return cEUR
	}
}

// typo returns b's number with one character changed or two swapped, as
// Odoo would show it after a manual keying error: similar enough for the
// fuzzy pass, and not any other billing invoice's number.
func (p *plan) typo(b *binv) (string, bool) {
	code := []byte(b.norm[2:])
	for try := 0; try < 20; try++ {
		c := append([]byte(nil), code...)
		k := p.r.IntN(10)
		if p.r.IntN(2) == 0 && k < 9 && c[k] != c[k+1] {
			c[k], c[k+1] = c[k+1], c[k]
		} else {
			ch := alphabet[p.r.IntN(32)]
			if ch == c[k] {
				continue
			}
			c[k] = ch
		}
		x, ok := decode50(string(c))
		if !ok || unscramble(x, p.g.numKey) < p.g.numLimit {
			continue // another billing invoice's number
		}
		if jaroWinkler(b.norm, "BL"+string(c)) < 0.95 {
			continue
		}
		s := "BL-" + string(c[:5]) + "-" + string(c[5:])
		if p.r.IntN(3) == 0 {
			s = strings.ToLower(s)
		}
		return s, true
	}
	return "", false
}

// noisyRef returns ref with the case, blank and punctuation noise that
// normalisation (trim, upper, strip_punct) removes.
func noisyRef(r *rand.Rand, ref string) string {
	switch r.IntN(6) {
	case 0:
		return strings.ToLower(ref)
	case 1:
		return strings.ReplaceAll(ref, "-", "")
	case 2:
		return strings.ReplaceAll(ref, "-", "/")
	case 3:
		return strings.ReplaceAll(ref, "-", " ")
	case 4:
		return strings.ToLower(ref) + " "
	default:
		return " " + strings.ReplaceAll(strings.ToLower(ref), "-", ".")
	}
}

// normRef is upper(strip_punct(s)): every character that is not a letter or
// a digit removed.
func normRef(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// Payments.

var directDebit = [3]string{"sepa_debit", "ach", "bacs_debit"}

func (p *plan) planPayments(plain bool) {
	g, r, A := p.g, p.r, p.g.asOf
	for _, b := range p.invs {
		if !b.payable {
			continue
		}
		age := A - b.issue
		total := b.total()
		if b.credit {
			if age > 10 && r.IntN(100) < 40 {
				p.addPay(b, total, b.issue+p.between(3, min(age, 30)), "refunded")
			}
			continue
		}
		if age < 4 {
			continue
		}
		var paid, partial int
		switch {
		case age < 10:
			paid, partial = 10, 10
		case age < 40:
			paid, partial = 40, 20
		default:
			paid, partial = 75, 10
		}
		first := b.issue + p.between(3, min(age, 40))
		switch x := r.IntN(100); {
		case x < paid:
			if r.IntN(4) == 0 && total >= 200 {
				part := total * int64(30+r.IntN(41)) / 100
				if part*2 == total {
					part++
				}
				second := first + p.between(5, 20)
				p.addPay(b, part, first, "settled")
				if second <= A {
					p.addPay(b, total-part, second, "settled")
				}
			} else {
				p.addPay(b, total, first, "settled")
			}
		case x < paid+partial:
			part := total * int64(20+r.IntN(61)) / 100
			if part > 0 {
				p.addPay(b, part, first, "settled")
			}
		}
	}
	if plain {
		return
	}
	n := len(p.pays)
	for i := 0; i < n; i++ {
		bp := p.pays[i]
		if bp.card {
			if p.chance(g.rt.PayoutFee) {
				bp.fee, bp.want = true, fOpen
			}
			continue
		}
		if kind := payPlant(p.draw(g.payTable)); kind != ppPlain {
			if p.applyPay(bp, kind) {
				bp.plant = kind
			}
		}
	}
	p.planLumps()
	// Payments only in Odoo, on invoices billing has no payment for.
	for _, b := range p.invs {
		if b.payable && b.pays == 0 && b.kind == ipPlain && !b.credit && b.issue <= A-3 && p.chance(2*g.rt.PayOdooOnly) {
			o := p.nop(opay{refMode: refBank, invRef: b.num, invNorm: b.norm, partner: p.pt, cur: p.pt.cur,
				amount: b.total(), date: b.issue + p.between(3, min(A-b.issue, 30)), status: "settled",
				method: "bank_transfer", want: fOpen})
			o.allocOne(b.odoo, b.total())
			o.upd = int32(7*3600 + r.IntN(12*3600))
			p.opays = append(p.opays, o)
			b.pays = -1 // paid in Odoo only
		}
	}
	// Filtered rows: failed attempts before a success, and direct debits
	// still pending.
	for i := 0; i < n; i++ {
		bp := p.pays[i]
		if bp.card || bp.status != "settled" || !p.chance(g.rt.PayFailed) {
			continue
		}
		f := p.nbp(bpay{inv: bp.inv, amount: bp.amount, date: max(bp.inv.issue, bp.date-p.between(1, 5)), status: "failed",
			method: bp.method, plant: ppFailedOf, want: fOut, upd: int32(7*3600 + r.IntN(12*3600))})
		p.pays = append(p.pays, f)
		p.traps[tPayFailed]++
		if c := bp.copy; c != nil && c.refMode == refSame && r.IntN(2) == 0 {
			// The bounced attempt in Odoo carries the reference the
			// successful one reuses: filtered, so not a duplicate.
			o := p.nop(opay{refMode: refSame, refOf: bp, invRef: bp.inv.num, invNorm: bp.inv.norm, partner: p.pt, cur: p.pt.cur,
				amount: bp.amount, date: f.date, status: "failed", method: bp.method, want: fOut, upd: f.upd})
			p.opays = append(p.opays, o)
			p.traps[tPayOdooFailedSameRef]++
		}
	}
	for _, b := range p.invs {
		if b.payable && b.pays == 0 && !b.credit && b.fixed == "" && p.chance(g.rt.PayFailed) {
			f := p.nbp(bpay{inv: b, amount: b.total(), date: A + p.between(1, 10), status: "pending",
				method: directDebit[p.pt.ent], plant: ppFailedOf, want: fOut, upd: int32(7*3600 + r.IntN(12*3600))})
			p.pays = append(p.pays, f)
			p.traps[tPayPending]++
		}
	}
}

// addPay adds a billing payment and, unless it goes out in a card payout,
// Odoo's copy of it allocated to the invoice.
func (p *plan) addPay(b *binv, amount int64, date int32, status string) *bpay {
	r, A := p.r, p.g.asOf
	bp := p.nbp(bpay{inv: b, amount: amount, date: date, status: status, upd: int32(7*3600 + r.IntN(12*3600))})
	switch x := r.IntN(100); {
	case status == "refunded" || p.pt.cur == cJPY:
		bp.method = "bank_transfer"
	case x < 35:
		bp.method, bp.card = "card", true
	case x < 70:
		bp.method = directDebit[p.pt.ent]
	default:
		bp.method = "bank_transfer"
	}
	b.pays++
	p.pays = append(p.pays, bp)
	if bp.card {
		bp.want = fGroup
		p.traps[tPayoutGroup]++
		return bp
	}
	lag := int32(0)
	if r.IntN(10) < 3 && (date > A || date+1 <= A) && (date > A+5 || date+1 <= A+5) {
		lag = 1
	}
	o := p.nop(opay{refMode: refSame, refOf: bp, invRef: b.num, invNorm: b.norm, partner: p.pt, cur: p.pt.cur, amount: amount,
		date: date + lag, status: status, method: bp.method, upd: bp.upd + 300})
	o.allocOne(b.odoo, amount)
	p.opays = append(p.opays, o)
	bp.copy = o
	bp.want, o.want, bp.wantP, o.wantP = fExact, fExact, o, bp
	return bp
}

func (p *plan) applyPay(bp *bpay, kind payPlant) bool {
	r, A := p.r, p.g.asOf
	o := bp.copy
	jpy := p.pt.cur == cJPY
	if o == nil {
		return false
	}
	switch kind {
	case ppMissing:
		p.drop(bp)
		bp.want = fOpen
	case ppAmount:
		if bp.amount < 3 {
			return false
		}
		lo := int64(2)
		if jpy {
			lo = 1
		}
		o.amount -= lo + r.Int64N(max(1, min(bp.amount/2, 50000)))
		o.allocAmt[0] = o.amount
	case ppCurrency:
		if jpy {
			return false
		}
		o.cur = otherCur(p.pt.cur)
		o.allocTo, o.allocAmt = nil, nil // Odoo cannot allocate it to the invoice
	case ppDate:
		if bp.date > A-12 {
			return false
		}
		o.date = bp.date + int32(p.sign())*p.between(3, 10)
	case ppTiming:
		if bp.inv.issue > A-2 {
			return false
		}
		if r.IntN(5) == 0 {
			bp.date = A + p.between(1, 3)
			o.date = A - p.between(0, 1)
		} else {
			bp.date = max(bp.inv.issue, A-p.between(0, 3))
			o.date = A + p.between(1, 5)
		}
	case ppDupRight:
		if bp.date > A-10 {
			return false
		}
		o2 := p.nop(*o)
		o2.allocTo, o2.allocAmt = nil, nil
		if r.IntN(2) == 0 {
			o2.refMode = refNoisy
		}
		o2.date += p.between(0, 2)
		o2.want, o2.wantP = fDupExtra, nil
		o2.upd += 3600
		if r.IntN(2) == 0 {
			o2.status = "pending" // a draft that never posts: no effect on the ledger
			p.traps[tPayDupPendingNoAR]++
		}
		p.opays = append(p.opays, o2)
	case ppAmbBI:
		if bp.date > A-5 || bp.amount <= 0 {
			return false
		}
		o.refMode = refNone
		o.date = bp.date + p.between(0, 2)
		o2 := p.nop(*o)
		o2.allocTo, o2.allocAmt = nil, nil
		o2.status = "pending"
		o2.upd += 1800
		p.opays = append(p.opays, o2)
		p.amb++
		bp.want, bp.wantAmb, bp.wantP = fAmb, p.amb, nil
		o.want, o.wantAmb, o.wantP = fAmb, p.amb, nil
		o2.want, o2.wantAmb, o2.wantP = fAmb, p.amb, nil
	case ppNoisy:
		o.refMode = refNoisy
		p.traps[tPayNoisy]++
	case ppCentDiff:
		if jpy || bp.amount < 2 {
			return false
		}
		o.amount--
		o.allocAmt[0] = o.amount
		p.traps[tPayCentDiff]++
	case ppDateEdge:
		if bp.date > A-5 {
			return false
		}
		o.date = bp.date + 2*int32(p.sign())
		p.traps[tPayDateEdge]++
	case ppByInvoice:
		if bp.date > A-3 {
			return false
		}
		o.refMode = refNone
		s := p.between(0, 2)
		o.date = bp.date + s
		var d int64
		if !jpy && bp.amount > 1 && r.IntN(3) == 0 {
			d = 1
			o.amount--
			o.allocAmt[0] = o.amount
		}
		if r.IntN(3) == 0 {
			o.invRef = noisyRef(r, o.invRef)
		}
		bp.want, o.want = fSecond, fSecond
		p.traps[tPayByInvoice]++
		if s == 2 || d != 0 {
			p.traps[tPayByInvoiceEdge]++
		}
	case ppInTransit:
		bp.date = A + p.between(1, 5)
		p.drop(bp)
		bp.want = fOpen
		p.traps[tPayInTransit]++
	case ppInTransitMatched:
		bp.date = A + p.between(1, 4)
		o.date = bp.date + p.between(0, 1)
		p.traps[tPayInTransitMatched]++
	case ppNextPeriod:
		bp.date = A + p.between(6, 12)
		if r.IntN(2) == 0 {
			p.drop(bp)
		} else {
			o.date = bp.date + p.between(0, 1)
			o.want = fOut
		}
		bp.want = fOut
		p.traps[tPayNextPeriod]++
	default:
		return false
	}
	return true
}

// drop removes Odoo's copy of bp.
func (p *plan) drop(bp *bpay) {
	if bp.copy != nil {
		bp.copy.gone = true
		bp.copy.want = fOut
		bp.copy = nil
	}
	bp.wantP = nil
}

// planLumps turns a few plain payments of the partner into lump receipts:
// one Odoo receipt, no reference, for two to four billing payments made
// within five days of it; and a few ambiguous ones, where a third payment of
// the same amount as one of them makes two subsets add up.
func (p *plan) planLumps() {
	g, r, A := p.g, p.r, p.g.asOf
	var pool []*bpay
	for _, bp := range p.pays {
		if bp.plant == ppPlain && !bp.card && !bp.fee && bp.status == "settled" && bp.amount > 0 && bp.inv.pays == 1 &&
			bp.amount == bp.inv.total() && bp.inv.kind == ipPlain && bp.copy != nil && bp.date <= A {
			pool = append(pool, bp)
		}
	}
	free := func(except *bpay) []*bpay {
		var out []*bpay
		for _, x := range pool {
			if x.plant == ppPlain && x != except {
				out = append(out, x)
			}
		}
		return out
	}
	for _, a := range pool {
		if a.plant != ppPlain {
			continue
		}
		amb := p.chance(g.rt.PayAmbiguousLump)
		if !amb && !p.chance(g.rt.PayLump) {
			continue
		}
		others := free(a)
		k := 2 + r.IntN(3)
		if amb {
			k = 3
		}
		if len(others) < k-1 {
			continue
		}
		r.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
		ms := append([]*bpay{a}, others[:k-1]...)
		if amb && ms[0].amount == ms[1].amount {
			continue
		}
		var maxIssue int32
		for _, m := range ms {
			maxIssue = max(maxIssue, m.inv.issue)
		}
		d := min(A, maxIssue+p.between(1, 10))
		rc := p.nop(opay{refMode: refNone, partner: p.pt, cur: p.pt.cur, date: d, status: "settled", method: "bank_transfer",
			upd: int32(7*3600 + r.IntN(12*3600))})
		if amb {
			// c pays an invoice of the same amount as a's; the receipt
			// covers a and b.
			c := ms[2]
			c.inv.net, c.inv.tax = a.inv.net, a.inv.tax
			c.inv.odoo.net, c.inv.odoo.tax = a.inv.net, a.inv.tax
			c.amount = a.amount
			p.amb++
			for _, m := range ms {
				m.plant = ppAmbLump
				m.date = max(m.inv.issue, d-p.between(0, 5))
				p.drop(m)
				m.want, m.wantAmb = fAmb, p.amb
			}
			rc.amount = a.amount + ms[1].amount
			rc.allocTo = []*oinv{a.inv.odoo, ms[1].inv.odoo}
			rc.allocAmt = []int64{a.amount, ms[1].amount}
			rc.want, rc.wantAmb = fAmb, p.amb
		} else {
			for _, m := range ms {
				m.plant = ppLump
				m.date = max(m.inv.issue, d-p.between(0, 5))
				p.drop(m)
				m.want, m.wantLump = fGroup, rc
				rc.amount += m.amount
				rc.allocTo = append(rc.allocTo, m.inv.odoo)
				rc.allocAmt = append(rc.allocAmt, m.amount)
			}
			rc.want = fGroup
			p.traps[tPayLump]++
		}
		p.opays = append(p.opays, rc)
	}
}

// settle allocates Odoo's posted payments to its invoices and derives both
// systems' statuses: Odoo's from its residual, billing's from Odoo's (billing
// learns of allocations from Odoo), except where the plan fixes them.
func (p *plan) settle() {
	for _, o := range p.oinvs {
		o.alloc = 0
	}
	for _, op := range p.opays {
		if op.gone || (op.status != "settled" && op.status != "refunded") {
			continue
		}
		for i, t := range op.allocTo {
			t.alloc += op.allocAmt[i]
		}
	}
	for _, bp := range p.pays {
		if bp.card {
			bp.inv.odoo.alloc += bp.amount // Odoo allocates the payout per card payment
		}
	}
	for _, o := range p.oinvs {
		switch o.fixed {
		case "draft":
			o.status, o.resid = "draft", o.total()
		case "cancelled":
			o.status, o.resid = "cancelled", 0
		default:
			o.resid = o.total() - o.alloc
			switch {
			case o.alloc == 0:
				o.status = "open"
			case o.resid == 0:
				o.status = "paid"
			default:
				o.status = "partial"
			}
		}
	}
	for _, b := range p.invs {
		switch {
		case b.fixed == "draft" || b.fixed == "open":
			b.status, b.resid = b.fixed, b.total()
		case b.fixed == "cancelled":
			b.status, b.resid = "cancelled", 0
		case b.odoo == nil:
			b.status, b.resid = "open", b.total()
		default:
			b.status, b.resid = b.odoo.status, b.total()-b.odoo.alloc
			if b.status == "cancelled" {
				b.resid = 0
			}
			if b.status == "partial" && p.chance(p.g.rt.InvStatusLag) {
				b.status, b.resid = "open", b.total()
				p.traps[tInvStatusLag]++
			}
		}
	}
}
