package synth

import "sort"

// A small model of the matching passes, run on one partner's plan. It does
// not decide the truth on its own: a plan is only written when the model's
// outcome equals the planned one and is robust, i.e. any reasonable
// implementation of the contract gives the same pairs (every pair is each
// side's unique best candidate, every ambiguous group is closed, no other
// item has a candidate).

type edge struct {
	l, r int32
	amt  int64 // |amount difference|, minor units
	days int32 // |date difference|
}

func (a edge) less(b edge) bool {
	if a.amt != b.amt {
		return a.amt < b.amt
	}
	return a.days < b.days
}

func (a edge) tie(b edge) bool { return a.amt == b.amt && a.days == b.days }

type ambOut struct{ ls, rs []int32 }

type passOut struct {
	pairs [][2]int32
	ambs  []ambOut
}

// runPass applies one one-to-one pass with ambiguity reporting to nl open
// left and nr open right items joined by edges (candidates).
func runPass(nl, nr int, edges []edge) (out passOut, robust bool) {
	if len(edges) == 0 {
		return out, true
	}
	ladj := make([][]int32, nl)
	radj := make([][]int32, nr)
	for i, e := range edges {
		ladj[e.l] = append(ladj[e.l], int32(i))
		radj[e.r] = append(radj[e.r], int32(i))
	}
	goneL := make([]bool, nl)
	goneR := make([]bool, nr)
	// Left items whose best candidate is shared.
	for l := 0; l < nl; l++ {
		es := ladj[l]
		if len(es) < 2 {
			continue
		}
		best := edges[es[0]]
		for _, i := range es[1:] {
			if edges[i].less(best) {
				best = edges[i]
			}
		}
		var tied []int32
		for _, i := range es {
			if edges[i].tie(best) {
				tied = append(tied, edges[i].r)
			}
		}
		if len(tied) >= 2 {
			out.ambs = append(out.ambs, ambOut{ls: []int32{int32(l)}, rs: tied})
		}
	}
	for _, a := range out.ambs {
		for _, l := range a.ls {
			goneL[l] = true
		}
		for _, r := range a.rs {
			goneR[r] = true
		}
	}
	// Then right items whose best remaining candidate is shared.
	nLeftAmb := len(out.ambs)
	for r := 0; r < nr; r++ {
		if goneR[r] {
			continue
		}
		var best *edge
		for _, i := range radj[r] {
			if e := &edges[i]; !goneL[e.l] && (best == nil || e.less(*best)) {
				best = e
			}
		}
		if best == nil {
			continue
		}
		var tied []int32
		for _, i := range radj[r] {
			if e := edges[i]; !goneL[e.l] && e.tie(*best) {
				tied = append(tied, e.l)
			}
		}
		if len(tied) >= 2 {
			out.ambs = append(out.ambs, ambOut{ls: tied, rs: []int32{int32(r)}})
		}
	}
	for _, a := range out.ambs[nLeftAmb:] {
		for _, l := range a.ls {
			goneL[l] = true
		}
		for _, r := range a.rs {
			goneR[r] = true
		}
	}
	// Best pairs first.
	var order []int32
	for i, e := range edges {
		if !goneL[e.l] && !goneR[e.r] {
			order = append(order, int32(i))
		}
	}
	sort.Slice(order, func(a, b int) bool {
		x, y := edges[order[a]], edges[order[b]]
		if !x.tie(y) {
			return x.less(y)
		}
		if x.l != y.l {
			return x.l < y.l
		}
		return x.r < y.r
	})
	pairL := make([]int32, nl)
	pairR := make([]int32, nr)
	for i := range pairL {
		pairL[i] = -1
	}
	for i := range pairR {
		pairR[i] = -1
	}
	for _, i := range order {
		e := edges[i]
		if pairL[e.l] < 0 && pairR[e.r] < 0 {
			pairL[e.l], pairR[e.r] = i, i
			out.pairs = append(out.pairs, [2]int32{e.l, e.r})
		}
	}
	// Robustness.
	inL := make([]int, nl)
	inR := make([]int, nr)
	for k, a := range out.ambs {
		for _, l := range a.ls {
			if inL[l] != 0 {
				return out, false
			}
			inL[l] = k + 1
		}
		for _, r := range a.rs {
			if inR[r] != 0 {
				return out, false
			}
			inR[r] = k + 1
		}
	}
	for _, e := range edges {
		a, b := inL[e.l], inR[e.r]
		if a != b {
			return out, false // an ambiguous group with a candidate outside it
		}
		if a != 0 {
			continue
		}
		if pairL[e.l] < 0 || pairR[e.r] < 0 {
			return out, false // an item with a candidate left unmatched
		}
	}
	for _, p := range out.pairs {
		pe := edges[pairL[p[0]]]
		for _, i := range ladj[p[0]] {
			if i != pairL[p[0]] && !pe.less(edges[i]) {
				return out, false
			}
		}
		for _, i := range radj[p[1]] {
			if i != pairR[p[1]] && !pe.less(edges[i]) {
				return out, false
			}
		}
	}
	return out, true
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// scaled turns minor units into ten-thousandths of the currency's unit, so
// amounts of any currency compare with a tolerance like 0.01 (= 100).
func scaled(minor int64, cur uint8) int64 { return minor * pow10[4-curDec[cur]] }

// within reports whether a difference in minor units is inside the 0.01
// tolerance (inclusive).
func within(diff int64, cur uint8) bool { return abs64(scaled(diff, cur)) <= 100 }

// ambMap checks that the model's ambiguous groups are the planned ones.
type ambMap struct{ g2w, w2g map[int]int }

func (m *ambMap) ok(got, want int) bool {
	if got == 0 || want == 0 {
		return got == want
	}
	if m.g2w == nil {
		m.g2w, m.w2g = map[int]int{}, map[int]int{}
	}
	if w, seen := m.g2w[got]; seen {
		return w == want
	}
	if _, seen := m.w2g[want]; seen {
		return false
	}
	m.g2w[got], m.w2g[want] = want, got
	return true
}

// ---------------------------------------------------------------------------
// invoices: exact -> amount_date -> fuzzy_ref

func (p *plan) simulateInvoices() bool {
	pt := p.pt
	for _, b := range p.invs {
		b.got, b.gotP, b.gotAmb = fOpen, nil, 0
		if b.fixed == "draft" {
			b.got = fOut
		}
	}
	for _, o := range p.oinvs {
		o.got, o.gotP, o.gotAmb = fOpen, nil, 0
		if o.fixed == "draft" {
			o.got = fOut
		}
	}
	// Duplicates on the right: one normalised external_ref twice.
	p.invDups = p.invDups[:0]
	for i, o := range p.oinvs {
		if o.got != fOpen || o.extNorm == "" {
			continue
		}
		var grp []*oinv
		for _, o2 := range p.oinvs[i+1:] {
			if o2.got == fOpen && o2.extNorm == o.extNorm {
				grp = append(grp, o2)
			}
		}
		if len(grp) > 0 {
			for _, o2 := range grp {
				o2.got = fDupExtra
			}
			p.invDups = append(p.invDups, append([]*oinv{o}, grp...))
		}
	}
	// exact
	for _, o := range p.oinvs {
		if o.got != fOpen || o.extNorm == "" {
			continue
		}
		for _, b := range p.invs {
			if b.got == fOpen && b.norm == o.extNorm {
				b.got, o.got, b.gotP, o.gotP = fExact, fExact, o, b
				break
			}
		}
	}
	ambs := 0
	pass := func(f fate, cand func(b *binv, o *oinv) (edge, bool)) bool {
		var L []*binv
		var R []*oinv
		for _, b := range p.invs {
			if b.got == fOpen {
				L = append(L, b)
			}
		}
		for _, o := range p.oinvs {
			if o.got == fOpen {
				R = append(R, o)
			}
		}
		var edges []edge
		for li, b := range L {
			for ri, o := range R {
				if o.partner != pt || o.cur != pt.cur {
					continue
				}
				if e, ok := cand(b, o); ok {
					e.l, e.r = int32(li), int32(ri)
					edges = append(edges, e)
				}
			}
		}
		out, ok := runPass(len(L), len(R), edges)
		if !ok {
			return false
		}
		for _, pr := range out.pairs {
			b, o := L[pr[0]], R[pr[1]]
			b.got, o.got, b.gotP, o.gotP = f, f, o, b
		}
		for _, a := range out.ambs {
			ambs++
			for _, l := range a.ls {
				L[l].got, L[l].gotAmb = fAmb, ambs
			}
			for _, r := range a.rs {
				R[r].got, R[r].gotAmb = fAmb, ambs
			}
		}
		return true
	}
	amountDate := func(b *binv, o *oinv) (edge, bool) {
		d := o.issue - b.issue
		diff := b.total() - o.total()
		if d < 0 || d > 3 || !within(diff, pt.cur) {
			return edge{}, false
		}
		return edge{amt: abs64(diff), days: d}, true
	}
	fuzzy := func(b *binv, o *oinv) (edge, bool) {
		if o.extNorm == "" || jaroWinkler(b.norm, o.extNorm) < 0.93 {
			return edge{}, false
		}
		return edge{amt: abs64(b.total() - o.total()), days: abs32(o.issue - b.issue)}, true
	}
	if !pass(fSecond, amountDate) || !pass(fFuzzy, fuzzy) {
		return false
	}
	// The outcome must be the plan.
	var m ambMap
	for _, b := range p.invs {
		if b.got != b.want || !m.ok(b.gotAmb, b.wantAmb) {
			return false
		}
		if (b.got == fExact || b.got == fSecond || b.got == fFuzzy) && b.gotP != b.wantP {
			return false
		}
	}
	for _, o := range p.oinvs {
		if o.got != o.want || !m.ok(o.gotAmb, o.wantAmb) {
			return false
		}
		if (o.got == fExact || o.got == fSecond || o.got == fFuzzy) && o.gotP != o.wantP {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// payments: exact -> payout -> by_invoice -> lump

func (p *plan) simulatePayments() bool {
	A := p.g.asOf
	pt := p.pt
	for _, bp := range p.pays {
		bp.got, bp.gotP, bp.gotAmb, bp.gotLump = fOpen, nil, 0, nil
		if (bp.status != "settled" && bp.status != "refunded") || bp.date > A+5 {
			bp.got = fOut
		}
	}
	for _, op := range p.opays {
		op.got, op.gotP, op.gotAmb = fOpen, nil, 0
		if op.gone || op.status == "failed" || op.date > A+5 {
			op.got = fOut
		}
	}
	// Duplicates on the right: one normalised payment_ref twice.
	p.payDups = p.payDups[:0]
	for i, op := range p.opays {
		if op.got != fOpen || (op.refMode != refSame && op.refMode != refNoisy) {
			continue
		}
		var grp []*opay
		for _, o2 := range p.opays[i+1:] {
			if o2.got == fOpen && (o2.refMode == refSame || o2.refMode == refNoisy) && o2.refOf == op.refOf {
				grp = append(grp, o2)
			}
		}
		if len(grp) > 0 {
			for _, o2 := range grp {
				o2.got = fDupExtra
			}
			p.payDups = append(p.payDups, append([]*opay{op}, grp...))
		}
	}
	// exact
	for _, op := range p.opays {
		if op.got == fOpen && (op.refMode == refSame || op.refMode == refNoisy) && op.refOf.got == fOpen {
			bp := op.refOf
			bp.got, op.got, bp.gotP, op.gotP = fExact, fExact, op, bp
		}
	}
	// payout: card payments whose payout Odoo booked at their sum
	for _, bp := range p.pays {
		if bp.got == fOpen && bp.card && !bp.fee {
			bp.got = fGroup
		}
	}
	open := func() ([]*bpay, []*opay) {
		var L []*bpay
		var R []*opay
		for _, bp := range p.pays {
			if bp.got == fOpen {
				L = append(L, bp)
			}
		}
		for _, op := range p.opays {
			if op.got == fOpen {
				R = append(R, op)
			}
		}
		return L, R
	}
	// by_invoice
	L, R := open()
	var edges []edge
	for li, bp := range L {
		for ri, op := range R {
			d := op.date - bp.date
			diff := bp.amount - op.amount
			if op.invNorm == "" || op.invNorm != bp.inv.norm || op.cur != pt.cur || d < 0 || d > 2 || !within(diff, pt.cur) {
				continue
			}
			edges = append(edges, edge{l: int32(li), r: int32(ri), amt: abs64(diff), days: d})
		}
	}
	out, ok := runPass(len(L), len(R), edges)
	if !ok {
		return false
	}
	ambs := 0
	for _, pr := range out.pairs {
		bp, op := L[pr[0]], R[pr[1]]
		bp.got, op.got, bp.gotP, op.gotP = fSecond, fSecond, op, bp
	}
	for _, a := range out.ambs {
		ambs++
		for _, l := range a.ls {
			L[l].got, L[l].gotAmb = fAmb, ambs
		}
		for _, r := range a.rs {
			R[r].got, R[r].gotAmb = fAmb, ambs
		}
	}
	// lump: subsets of one to four open payments of the partner and
	// currency dated 0-5 days before the receipt, adding up exactly.
	L, R = open()
	type found struct {
		op      *opay
		cands   []int32
		subsets [][]int32
	}
	var fs []found
	for _, op := range R {
		if op.partner != pt || op.cur != pt.cur {
			continue
		}
		var cands []int32
		for li, bp := range L {
			if d := op.date - bp.date; d >= 0 && d <= 5 {
				cands = append(cands, int32(li))
			}
		}
		if len(cands) == 0 {
			continue
		}
		if len(cands) > 12 {
			return false // the 12 nearest would depend on ids
		}
		if subs := minSubsets(L, cands, op.amount); len(subs) > 0 {
			fs = append(fs, found{op, cands, subs})
		}
	}
	for i := range fs {
		for j := i + 1; j < len(fs); j++ {
			for _, a := range fs[i].cands {
				for _, b := range fs[j].cands {
					if a == b {
						return false // receipts competing for a payment
					}
				}
			}
		}
	}
	for _, f := range fs {
		if len(f.subsets) == 1 {
			f.op.got = fGroup
			for _, li := range f.subsets[0] {
				L[li].got, L[li].gotLump = fGroup, f.op
			}
			continue
		}
		ambs++
		f.op.got, f.op.gotAmb = fAmb, ambs
		for _, s := range f.subsets {
			for _, li := range s {
				L[li].got, L[li].gotAmb = fAmb, ambs
			}
		}
	}
	var m ambMap
	for _, bp := range p.pays {
		if bp.got != bp.want || !m.ok(bp.gotAmb, bp.wantAmb) || bp.gotLump != bp.wantLump {
			return false
		}
		if (bp.got == fExact || bp.got == fSecond) && bp.gotP != bp.wantP {
			return false
		}
	}
	for _, op := range p.opays {
		if op.got != op.want || !m.ok(op.gotAmb, op.wantAmb) {
			return false
		}
		if (op.got == fExact || op.got == fSecond) && op.gotP != op.wantP {
			return false
		}
	}
	return true
}

// minSubsets returns every subset of cands (1 to 4 items) of the fewest
// items whose amounts add up to target.
func minSubsets(L []*bpay, cands []int32, target int64) [][]int32 {
	var out [][]int32
	n := len(cands)
	for k := 1; k <= 4 && k <= n && len(out) == 0; k++ {
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		for {
			var sum int64
			for _, i := range idx {
				sum += L[cands[i]].amount
			}
			if sum == target {
				s := make([]int32, k)
				for j, i := range idx {
					s[j] = cands[i]
				}
				out = append(out, s)
			}
			// next combination
			j := k - 1
			for j >= 0 && idx[j] == n-k+j {
				j--
			}
			if j < 0 {
				break
			}
			idx[j]++
			for t := j + 1; t < k; t++ {
				idx[t] = idx[t-1] + 1
			}
		}
	}
	return out
}
