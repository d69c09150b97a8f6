package synth

import (
	"slices"
	"strconv"
)

// finishGroups writes the risk engine's exposures and the group-level truth
// (ledger proof, exposure limit and proof, version conflicts), computed from
// the totals of what was written, with the rules' filters.
func (g *gen) finishGroups() {
	keys := make([]uint64, 0, len(g.groups))
	for k := range g.groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		a := g.groups[k]
		if (a.hasAR || a.hasOpen) && abs64(scaled(a.ar-a.resid, a.cur)) > 100 {
			g.truthRow(reconLedger, "ar_control_mismatch", "", "", groupName(a.ent, g.partners[a.pidx].id, a.cur))
		}
	}
	var gs []*groupAgg
	for i := 0; i < len(keys); {
		pidx := g.groups[keys[i]].pidx
		gs = gs[:0]
		for ; i < len(keys) && g.groups[keys[i]].pidx == pidx; i++ {
			if a := g.groups[keys[i]]; a.hasInv {
				gs = append(gs, a)
			}
		}
		g.exposures(g.partners[pidx], gs)
	}
}

type expRow struct {
	id        string
	grp       *groupAgg
	ver       int64
	ts        int64 // seconds since 1970-01-01
	limit     int64
	nullLimit bool
	amount    int64
}

// exposures writes a partner's credit decisions: one to three versions per
// group in arrival order, the latest holding Odoo's open receivable and a
// limit above it, except where a break or a trap is planted.
func (g *gen) exposures(pt *partner, gs []*groupAgg) {
	if len(gs) == 0 {
		return
	}
	g.seed(uint64(pt.idx)*8+5, 0)
	r, rt := g.r, g.rt
	chance := func(x float64) bool { return x > 0 && r.Float64() < x }
	ts := (int64(g.asOf)-150+int64(r.IntN(30)))*86400 + int64(r.IntN(86400))
	var rows []*expRow
	var ver int64
	for _, a := range gs {
		unit := 1000 * pow10[curDec[a.cur]]
		base := max(a.resid, 0)
		limitAbove := func() int64 { return (base*int64(12+r.IntN(19))/10/unit + 1 + int64(r.IntN(5))) * unit }
		n := 1 + r.IntN(3)
		first := len(rows)
		for k := 0; k < n; k++ {
			ver++
			ts += 3600 + int64(r.IntN(20*86400))
			row := &expRow{grp: a, ver: ver, ts: ts, limit: limitAbove(), amount: a.resid}
			if k < n-1 {
				row.amount = a.resid*int64(50+r.IntN(100))/100 + int64(r.IntN(1000))
			}
			rows = append(rows, row)
		}
		latest := rows[len(rows)-1]
		older := rows[first : len(rows)-1]
		u := r.Float64()
		switch {
		case u < rt.ExpStale:
			d := 2 + r.Int64N(max(2, min(abs64(a.resid)/4, 50000)))
			if curDec[a.cur] == 0 {
				d--
			}
			if r.IntN(2) == 0 {
				d = -d
			}
			latest.amount = a.resid + d
		case u < rt.ExpStale+rt.ExpStaleEdge:
			if curDec[a.cur] == 2 {
				latest.amount = a.resid + 1 - 2*int64(r.IntN(2))
				g.traps[tExpStaleEdge]++
			}
		case u < rt.ExpStale+rt.ExpStaleEdge+rt.ExpLimit:
			if a.resid > 0 {
				latest.limit = a.resid - 1 - r.Int64N(a.resid/2+1)
			}
		case u < rt.ExpStale+rt.ExpStaleEdge+rt.ExpLimit+rt.ExpLimitEdge:
			if a.resid > 0 {
				latest.limit = a.resid
				g.traps[tExpLimitEdge]++
			}
		case u < rt.ExpStale+rt.ExpStaleEdge+rt.ExpLimit+rt.ExpLimitEdge+rt.ExpOldLimit:
			if a.resid > 0 && len(older) > 0 {
				older[r.IntN(len(older))].limit = a.resid / 2
				g.traps[tExpOldLimit]++
			}
		case u < rt.ExpStale+rt.ExpStaleEdge+rt.ExpLimit+rt.ExpLimitEdge+rt.ExpOldLimit+rt.ExpNullLimit:
			latest.nullLimit = true
			if a.resid > 0 && len(older) > 0 {
				older[r.IntN(len(older))].limit = a.resid / 2
			}
			g.traps[tExpNullLimit]++
		case u < rt.ExpStale+rt.ExpStaleEdge+rt.ExpLimit+rt.ExpLimitEdge+rt.ExpOldLimit+rt.ExpNullLimit+rt.ExpVersionTie:
			// The same version sent twice: the row with the higher id,
			// written last, is the one that counts.
			tie := *latest
			tie.amount = a.resid + 100*pow10[curDec[a.cur]] + int64(r.IntN(1000))
			tie.ts -= 600
			rows = slices.Insert(rows, len(rows)-1, &tie)
			g.traps[tExpVersionTie]++
		}
	}
	if chance(rt.ExpConflict) {
		// An older decision arrives after a newer one.
		a := gs[r.IntN(len(gs))]
		var lat *expRow
		for _, row := range rows {
			if row.grp == a && (lat == nil || row.ver >= lat.ver) {
				lat = row
			}
		}
		x := &expRow{grp: a, ver: lat.ver - 1, ts: ts + 3600 + int64(r.IntN(86400)), limit: lat.limit,
			amount: a.resid/2 + int64(r.IntN(1000))}
		rows = append(rows, x)
	}
	if len(rows) >= 2 && chance(rt.ExpSameTime) {
		k := 1 + r.IntN(len(rows)-1)
		if rows[k].ver > rows[k-1].ver {
			rows[k].ts = rows[k-1].ts
			g.traps[tExpSameTime]++
		}
	}
	for _, row := range rows {
		g.expSeq++
		row.id = fixedID("EXP-", g.expSeq, g.idW)
	}
	order := rows
	if len(rows) >= 2 && chance(rt.ExpShuffleFile) {
		order = slices.Clone(rows)
		slices.Reverse(order)
		g.traps[tExpShuffle]++
	}
	w := g.exp
	for _, row := range order {
		dec := curDec[row.grp.cur]
		w.raw(row.id)
		w.raw("DEC-" + pt.id + "-" + strconv.FormatInt(row.ver, 10))
		w.int(row.ver)
		w.raw(pt.id)
		w.raw(entCode[row.grp.ent])
		w.raw(curCode[row.grp.cur])
		if row.nullLimit {
			w.empty()
		} else {
			w.money(row.limit, dec)
		}
		w.money(row.amount, dec)
		w.int(int64(pt.terms))
		w.raw(pt.rating)
		day := int32(row.ts / 86400)
		w.timestamp(day, int32(row.ts%86400))
		w.date(day + 1)
		w.end()
	}
	// Truth, from the rows as written.
	for _, x := range rows {
		for _, y := range rows {
			if y.ver > x.ver && y.ts < x.ts {
				g.truthRow(reconExposure, "version_conflict", x.id, "", "")
				break
			}
		}
	}
	for _, a := range gs {
		var lat *expRow
		for _, row := range rows {
			if row.grp == a && (lat == nil || row.ver > lat.ver || (row.ver == lat.ver && row.id > lat.id)) {
				lat = row
			}
		}
		name := groupName(a.ent, pt.id, a.cur)
		if !lat.nullLimit && a.resid > lat.limit {
			g.truthRow(reconExposure, "limit_breach", "", "", name)
		}
		if abs64(scaled(lat.amount-a.resid, a.cur)) > 100 {
			g.truthRow(reconExposure, "stale_exposure", "", "", name)
		}
	}
}
