package synth

import (
	"sort"
	"strconv"
)

const (
	reconInvoices = "invoices"
	reconPayments = "payments"
	reconLedger   = "ledger"
	reconExposure = "exposure"
)

var pspID = [3]string{"PSP001", "PSP002", "PSP003"}

// commit writes a validated plan: rows, journal entries, truth, and the
// group totals the ledger and exposure truth is computed from at the end.
func (g *gen) commit(p *plan) {
	pt := p.pt
	g.numSeq += p.nums
	for _, b := range p.invs {
		g.bInvSeq++
		b.id = fixedID("B", g.bInvSeq, g.idW)
		if b.dupLeft {
			g.bInvSeq++
			b.id2 = fixedID("B", g.bInvSeq, g.idW)
		}
	}
	year := strconv.Itoa(int(g.opt.AsOf.Year()))
	for _, o := range p.oinvs {
		g.oInvSeq++
		o.id = strconv.FormatInt(g.oInvBase+g.oInvSeq, 10)
		if o.fixed != "draft" {
			g.odooNum++
			prefix := "INV/"
			if o.credit {
				prefix = "RINV/"
			}
			o.num = fixedID(prefix+year+"/", g.odooNum, 7)
		}
	}
	for _, bp := range p.pays {
		g.bPaySeq++
		bp.id = fixedID("BP", g.bPaySeq, g.idW)
		g.payRefSeq++
		bp.ref = fixedID("PAY-", g.payRefSeq, g.idW)
	}
	for _, op := range p.opays {
		if op.gone {
			continue
		}
		g.oPaySeq++
		op.id = strconv.FormatInt(g.oPayBase+g.oPaySeq, 10)
		switch op.refMode {
		case refSame:
			op.ref = op.refOf.ref
		case refNoisy:
			op.ref = noisyRef(g.r, op.refOf.ref)
		case refBank:
			g.bankRefSeq++
			op.ref = fixedID("BNK-", g.bankRefSeq, g.idW)
		}
	}
	home := g.group(pt.idx, pt.ent, pt.cur)
	home.hasInv = true

	// Billing invoices.
	for _, b := range p.invs {
		g.writeBillInv(pt, b, b.id)
		if b.dupLeft {
			g.writeBillInv(pt, b, b.id2)
		}
	}
	// Odoo invoices and their journal entries.
	for _, o := range p.oinvs {
		g.writeOdooInv(pt, o)
		grp := g.group(o.partner.idx, pt.ent, o.cur)
		grp.hasInv = true
		if o.status == "open" || o.status == "partial" {
			grp.resid += o.resid
			grp.hasOpen = true
		}
		g.invoiceEntry(p, o)
	}
	// Billing payments; card payments join their payout.
	for _, bp := range p.pays {
		payout := ""
		if bp.card {
			payout = g.joinBatch(pt, bp)
		}
		w := g.bPay
		w.raw(bp.id)
		w.raw(bp.ref)
		w.raw(bp.inv.num)
		w.raw(pt.id)
		w.raw(entCode[pt.ent])
		w.raw(curCode[pt.cur])
		w.money(bp.amount, curDec[pt.cur])
		w.date(bp.date)
		w.raw(bp.status)
		w.raw(bp.method)
		w.timestamp(bp.date, bp.upd)
		w.text(payout)
		w.end()
	}
	// Odoo payments and their journal entries.
	for _, op := range p.opays {
		if op.gone {
			continue
		}
		w := g.oPay
		w.raw(op.id)
		w.text(op.ref)
		w.text(op.invRef)
		w.raw(op.partner.id)
		w.raw(entCode[pt.ent])
		w.raw(curCode[op.cur])
		w.money(op.amount, curDec[op.cur])
		w.date(op.date)
		w.raw(op.status)
		w.raw(op.method)
		w.timestamp(op.date, op.upd)
		w.end()
		if op.status == "failed" {
			continue
		}
		status := "posted"
		if op.status == "pending" {
			status = "draft"
		}
		ref := op.ref
		if ref == "" {
			ref = "BNK/" + op.id
		}
		g.entrySeq++
		lines := append(g.lines[:0], lineOf("512000", op.partner, op.amount), lineOf("121000", op.partner, -op.amount))
		g.writeEntry(strconv.FormatInt(g.entryBase+g.entrySeq, 10), ref, "BNK1", pt.ent, op.cur, op.date, op.upd, status, lines)
		g.lines = lines[:0]
	}
	g.truthInvoices(p)
	g.truthPayments(p)
	g.last[pt.ent][pt.cur] = pt
	for i, n := range p.traps {
		g.traps[i] += int64(n)
	}
}

func kindOf(credit bool) string {
	if credit {
		return "credit_note"
	}
	return "invoice"
}

func (g *gen) writeBillInv(pt *partner, b *binv, id string) {
	w := g.bInv
	dec := curDec[pt.cur]
	w.raw(id)
	w.raw(b.num)
	w.empty()
	w.raw(kindOf(b.credit))
	w.raw(pt.id)
	w.text(pt.name)
	w.raw(entCode[pt.ent])
	w.raw(curCode[pt.cur])
	w.money(b.net, dec)
	w.money(b.tax, dec)
	w.money(b.total(), dec)
	w.money(b.resid, dec)
	w.date(b.issue)
	w.date(b.issue + pt.terms)
	w.raw(b.status)
	w.timestamp(b.issue, b.upd)
	w.end()
}

func (g *gen) writeOdooInv(pt *partner, o *oinv) {
	w := g.oInv
	dec := curDec[o.cur]
	w.raw(o.id)
	w.raw(o.num)
	w.text(o.ext)
	w.raw(kindOf(o.credit))
	w.raw(o.partner.id)
	w.text(o.partner.name)
	w.raw(entCode[pt.ent])
	w.raw(curCode[o.cur])
	w.money(o.net, dec)
	w.money(o.tax, dec)
	w.money(o.total(), dec)
	w.money(o.resid, dec)
	w.date(o.issue)
	w.date(o.issue + pt.terms)
	w.raw(o.status)
	w.timestamp(o.issue, o.upd)
	w.end()
}

// ---------------------------------------------------------------------------
// Journal entries.

type jline struct {
	acct          string
	pt            *partner // nil: no partner
	ac            int64    // amount_currency, signed
	debit, credit int64
}

func lineOf(acct string, pt *partner, ac int64) jline {
	return jline{acct: acct, pt: pt, ac: ac, debit: max(ac, 0), credit: max(-ac, 0)}
}

// writeEntry writes an entry's lines, adds its posted receivable lines to
// the groups, and records it as unbalanced when its posted lines' debits and
// credits differ.
func (g *gen) writeEntry(entryID, ref, journal string, ent, cur uint8, date, upd int32, status string, lines []jline) {
	w := g.jl
	dec := curDec[cur]
	var dr, cr int64
	for _, l := range lines {
		g.lineSeq++
		w.raw(entryID)
		w.int(g.lineBase + g.lineSeq)
		w.text(ref)
		w.raw(journal)
		w.raw(l.acct)
		if l.pt != nil {
			w.raw(l.pt.id)
		} else {
			w.empty()
		}
		w.raw(entCode[ent])
		w.raw(curCode[cur])
		w.money(l.debit, dec)
		w.money(l.credit, dec)
		w.money(l.ac, dec)
		w.date(date)
		w.raw(status)
		w.timestamp(date, upd)
		w.end()
		dr += l.debit
		cr += l.credit
		if status == "posted" && l.acct == "121000" && l.pt != nil {
			grp := g.group(l.pt.idx, ent, cur)
			grp.ar += l.ac
			grp.hasAR = true
		}
	}
	if status == "posted" && dr != cr {
		g.truthRow(reconLedger, "unbalanced_entry", entryID, "", "")
	}
}

// invoiceEntry posts an Odoo invoice: receivable, revenue and tax lines,
// with the planted ledger breaks.
func (g *gen) invoiceEntry(p *plan, o *oinv) {
	r, rt := p.r, g.rt
	t := o.total()
	lines := append(g.lines[:0], lineOf("121000", o.partner, t), lineOf("701000", o.partner, -o.net))
	if o.tax != 0 {
		lines = append(lines, lineOf("445710", o.partner, -o.tax))
	}
	status := "posted"
	switch o.status {
	case "draft":
		status = "draft"
	case "cancelled":
		status = "cancelled"
	}
	dropLast := func() {
		if len(lines) > 2 {
			lines = lines[:2]
		} else {
			lines = lines[:1]
		}
	}
	if status != "posted" {
		if (status == "draft" && r.IntN(2) == 0) || (status == "cancelled" && r.IntN(5) == 0) {
			dropLast() // unbalanced, but not posted: no break
			p.traps[tLedgerDraftUnbalanced]++
		}
	} else {
		u := r.Float64()
		switch {
		case u < rt.LedgerDropLine:
			dropLast()
		case u < rt.LedgerDropLine+rt.LedgerAmount:
			d := int64(1 + r.IntN(5000))
			if r.IntN(2) == 0 {
				d = -d
			}
			lines[1] = lineOf("701000", o.partner, lines[1].ac-d)
		case u < rt.LedgerDropLine+rt.LedgerAmount+rt.LedgerDropAR:
			lines = lines[1:]
		case u < rt.LedgerDropLine+rt.LedgerAmount+rt.LedgerDropAR+rt.LedgerWrongPartner:
			if tgt := g.last[o.partner.ent][o.cur]; tgt != nil && tgt != o.partner {
				lines[0].pt = tgt
			}
		case u < rt.LedgerDropLine+rt.LedgerAmount+rt.LedgerDropAR+rt.LedgerWrongPartner+rt.LedgerCentTrap:
			if curDec[o.cur] == 2 {
				lines[0].ac += p.sign() // amount_currency a cent off, debit/credit right
				p.traps[tLedgerCent]++
			}
		}
	}
	g.writeEntry(o.id, o.num, "INV", p.pt.ent, o.cur, o.issue, o.upd, status, lines)
	g.lines = lines[:0]
}

// ---------------------------------------------------------------------------
// Payouts.

func (g *gen) joinBatch(pt *partner, bp *bpay) string {
	k := batchKey{ent: pt.ent, cur: pt.cur, day: bp.date}
	if bp.fee {
		k.day = -1
	}
	b := g.batches[k]
	if b == nil {
		g.payoutSeq++
		b = &batch{key: k, fee: bp.fee, id: fixedID("PO-", g.payoutSeq, 7)}
		b.written = b.id
		if g.r.Float64() < g.rt.PayoutNoise {
			b.written = "po-" + b.id[3:]
			g.traps[tPayoutNoise]++
		}
		b.target = 3 + g.r.IntN(28)
		if bp.fee {
			b.target = 3
		}
		g.batches[k] = b
	}
	b.members = append(b.members, member{pt: pt, id: bp.id, amount: bp.amount, date: bp.date})
	if len(b.members) == b.target {
		g.closeBatch(b)
		delete(g.batches, k)
	}
	return b.written
}

// closeBatch writes the payout's Odoo payment: the members' sum, or less a
// fee for a fee payout, which then matches nothing.
func (g *gen) closeBatch(b *batch) {
	var sum int64
	var last int32
	for _, m := range b.members {
		sum += m.amount
		last = max(last, m.date)
	}
	date := b.key.day + 2
	var fee int64
	if b.fee {
		date = last + 2
		fee = max(1, sum*15/1000)
	}
	amount := sum - fee
	g.oPaySeq++
	id := strconv.FormatInt(g.oPayBase+g.oPaySeq, 10)
	upd := int32(6*3600 + len(b.members)*60)
	w := g.oPay
	w.raw(id)
	w.raw(b.id)
	w.empty()
	w.raw(pspID[b.key.ent])
	w.raw(entCode[b.key.ent])
	w.raw(curCode[b.key.cur])
	w.money(amount, curDec[b.key.cur])
	w.date(date)
	w.raw("settled")
	w.raw("card_payout")
	w.timestamp(date, upd)
	w.end()
	lines := make([]jline, 0, len(b.members)+2)
	lines = append(lines, lineOf("512000", nil, amount))
	if fee != 0 {
		lines = append(lines, lineOf("627000", nil, fee))
	}
	for _, m := range b.members {
		lines = append(lines, lineOf("121000", m.pt, -m.amount))
	}
	g.entrySeq++
	g.writeEntry(strconv.FormatInt(g.entryBase+g.entrySeq, 10), b.id, "BNK1", b.key.ent, b.key.cur, date, upd, "posted", lines)
	if b.fee && date <= g.asOf {
		g.truthRow(reconPayments, "unmatched", "", id, "")
	}
	if date > g.asOf {
		g.traps[tPayoutInTransit]++
	}
}

func (g *gen) flushBatches() {
	keys := make([]batchKey, 0, len(g.batches))
	for k := range g.batches {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.ent != b.ent {
			return a.ent < b.ent
		}
		if a.cur != b.cur {
			return a.cur < b.cur
		}
		return a.day < b.day
	})
	for _, k := range keys {
		g.closeBatch(g.batches[k])
		delete(g.batches, k)
	}
}

// ---------------------------------------------------------------------------
// Truth of the invoices and payments reconciliations.

func mapInvStatus(s string) string {
	if s == "partial" {
		return "open"
	}
	return s
}

func (g *gen) truthInvoices(p *plan) {
	pt := p.pt
	type amb struct{ ls, rs []string }
	var ambs []amb
	ambAt := func(k int) *amb {
		for len(ambs) < k {
			ambs = append(ambs, amb{})
		}
		return &ambs[k-1]
	}
	for _, b := range p.invs {
		if b.got == fOut {
			continue
		}
		if b.dupLeft {
			g.truthRow(reconInvoices, "duplicate", joinIDs(b.id, b.id2), "", "")
		}
		switch b.got {
		case fOpen:
			g.truthRow(reconInvoices, "unmatched", b.id, "", "")
		case fAmb:
			a := ambAt(b.gotAmb)
			a.ls = append(a.ls, b.id)
		case fExact, fSecond, fFuzzy:
			o := b.gotP
			if b.got == fFuzzy {
				g.truthRow(reconInvoices, "proposed_match", b.id, o.id, "")
			}
			if abs64(scaled(b.total(), pt.cur)-scaled(o.total(), o.cur)) > 100 {
				g.truthRow(reconInvoices, "amount_mismatch", b.id, o.id, "")
			}
			if abs64(scaled(b.tax, pt.cur)-scaled(o.tax, o.cur)) > 100 {
				g.truthRow(reconInvoices, "tax_mismatch", b.id, o.id, "")
			}
			if pt.cur != o.cur {
				g.truthRow(reconInvoices, "currency_mismatch", b.id, o.id, "")
			}
			if pt != o.partner {
				g.truthRow(reconInvoices, "partner_mismatch", b.id, o.id, "")
			}
			if abs32(o.issue-b.issue) > 3 {
				g.truthRow(reconInvoices, "date_mismatch", b.id, o.id, "")
			}
			if mapInvStatus(b.status) != mapInvStatus(o.status) {
				g.truthRow(reconInvoices, "status_mismatch", b.id, o.id, "")
			}
		}
	}
	for _, o := range p.oinvs {
		switch o.got {
		case fOpen:
			g.truthRow(reconInvoices, "unmatched", "", o.id, "")
		case fAmb:
			a := ambAt(o.gotAmb)
			a.rs = append(a.rs, o.id)
		}
	}
	for _, grp := range p.invDups {
		ids := make([]string, len(grp))
		for i, o := range grp {
			ids[i] = o.id
		}
		g.truthRow(reconInvoices, "duplicate", joinIDs(ids...), "", "") // a check on one dataset fills the left columns (DESIGN §6)
	}
	for _, a := range ambs {
		g.truthRow(reconInvoices, "ambiguous", joinIDs(a.ls...), joinIDs(a.rs...), "")
	}
}

func (g *gen) truthPayments(p *plan) {
	pt, A := p.pt, g.asOf
	type amb struct{ ls, rs []string }
	var ambs []amb
	ambAt := func(k int) *amb {
		for len(ambs) < k {
			ambs = append(ambs, amb{})
		}
		return &ambs[k-1]
	}
	for _, bp := range p.pays {
		switch bp.got {
		case fOpen:
			if bp.date <= A {
				g.truthRow(reconPayments, "unmatched", bp.id, "", "")
			}
		case fAmb:
			a := ambAt(bp.gotAmb)
			a.ls = append(a.ls, bp.id)
		case fExact, fSecond:
			op := bp.gotP
			timing := (bp.date <= A) != (op.date <= A)
			if timing {
				g.truthRow(reconPayments, "timing_difference", bp.id, op.id, "")
			}
			if abs64(scaled(bp.amount, pt.cur)-scaled(op.amount, op.cur)) > 100 {
				g.truthRow(reconPayments, "amount_mismatch", bp.id, op.id, "")
			}
			if pt.cur != op.cur {
				g.truthRow(reconPayments, "currency_mismatch", bp.id, op.id, "")
			}
			if !timing && abs32(op.date-bp.date) > 2 {
				g.truthRow(reconPayments, "date_mismatch", bp.id, op.id, "")
			}
		}
	}
	for _, op := range p.opays {
		switch op.got {
		case fOpen:
			if op.date <= A {
				g.truthRow(reconPayments, "unmatched", "", op.id, "")
			}
		case fAmb:
			a := ambAt(op.gotAmb)
			a.rs = append(a.rs, op.id)
		}
	}
	for _, grp := range p.payDups {
		ids := make([]string, len(grp))
		for i, o := range grp {
			ids[i] = o.id
		}
		g.truthRow(reconPayments, "duplicate", joinIDs(ids...), "", "") // a check on one dataset fills the left columns (DESIGN §6)
	}
	for _, a := range ambs {
		g.truthRow(reconPayments, "ambiguous", joinIDs(a.ls...), joinIDs(a.rs...), "")
	}
}
