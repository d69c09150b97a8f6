package rules

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/strictyaml"
)

// validator collects every problem of one file, each at its position.
type validator struct {
	file string
	root *yaml.Node
	errs []error
	rule *Rule
}

// path is a route through the YAML document: mapping keys and sequence
// indexes.
type path []any

func (p path) to(more ...any) path { return append(append(path(nil), p...), more...) }

// at finds the node at a path, falling back to the closest ancestor that
// exists.
func (v *validator) at(p path) *yaml.Node {
	n := v.root
	for _, step := range p {
		next := child(n, step)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func child(n *yaml.Node, p any) *yaml.Node {
	switch k := p.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				return n.Content[i+1]
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && k < len(n.Content) {
			return n.Content[k]
		}
	}
	return nil
}

func (v *validator) errorf(p path, format string, args ...any) {
	v.errs = append(v.errs, strictyaml.Errorf(v.file, v.at(p), format, args...))
}

// expr records a SQL expression for CheckExprs, at its position.
func (v *validator) expr(sql string, p path, cols map[string]bool) {
	if strings.TrimSpace(sql) == "" || cols == nil {
		return
	}
	n := v.at(p)
	v.rule.exprs = append(v.rule.exprs, Expr{SQL: sql, File: v.file, Line: n.Line, Col: n.Column, Columns: sortedKeys(cols)})
}

func (v *validator) validate(r *Rule) {
	v.rule = r
	if !model.ValidIdent(r.Recon) {
		v.errorf(path{"recon"}, "recon %q: use lower-case letters, digits and _", r.Recon)
	}
	left := v.side(&r.Left, "left")
	right := v.side(&r.Right, "right")
	if r.Right.Dataset == "" {
		for _, section := range []struct {
			name string
			n    int
		}{{"passes", len(r.Passes)}, {"compare", len(r.Compare)}, {"proofs", len(r.Proofs)}, {"limits", len(r.Limits)}} {
			if section.n > 0 {
				v.errorf(path{section.name}, "%s need a right dataset to compare with", section.name)
			}
		}
	}
	if r.Rates != nil {
		v.rates(r.Rates)
	}
	if r.Period != nil {
		v.column(left, r.Period.Left, path{"period", "left"})
		v.column(right, r.Period.Right, path{"period", "right"})
		if r.Period.InTransitDays < 0 {
			v.errorf(path{"period", "in_transit_days"}, "in_transit_days must not be negative")
		}
	}
	r.Ambiguity = v.ambiguity(r.Ambiguity, Pick, path{"ambiguity"})
	for field, side := range r.Authoritative {
		if side != "left" && side != "right" {
			v.errorf(path{"authoritative", field}, "authoritative side %q: want left or right", side)
		}
		if field != "default" && left != nil && !left[field] {
			v.errorf(path{"authoritative"}, "authoritative: unknown field %q%s (name a compared left column, or default)", field, strictyaml.Suggest(field, sortedKeys(left)))
		}
	}
	v.checks(r, left, right)
	names := map[string]bool{}
	for i := range r.Passes {
		v.pass(&r.Passes[i], path{"passes", i}, names, left, right)
	}
	compared := map[string]int{}
	for i := range r.Compare {
		c := &r.Compare[i]
		v.comparison(c, path{"compare", i}, left, right)
		// Two comparisons raising one type on one pair would give two
		// breaks with the same break_id.
		if j, dup := compared[c.Break]; dup {
			v.errorf(path{"compare", i, "break"}, "compare %d raises %s too (so does compare %d): give each comparison its own break type", i+1, c.Break, j+1)
		}
		compared[c.Break] = i
	}
	for i := range r.Proofs {
		v.proof(&r.Proofs[i], path{"proofs", i}, left, right, "")
	}
	for i := range r.Limits {
		v.proof(&r.Limits[i], path{"limits", i}, left, right, model.LimitBreach)
	}
	v.severities(r)
	v.adjustments(r)
	v.breakTypeKeys(r)
}

// breakTypeKeys checks that severity: and adjust: name break types the rule
// can raise: a typo there would otherwise silently leave a break at the
// default severity or without its adjustment.
func (v *validator) breakTypeKeys(r *Rule) {
	known := r.BreakTypes()
	have := map[string]bool{}
	for _, t := range known {
		have[t] = true
	}
	for _, section := range []struct {
		name string
		keys []string
	}{{"severity", sortedKeys(r.Severity)}, {"adjust", sortedKeys(r.Adjust)}} {
		for _, t := range section.keys {
			if have[t] || (section.name == "severity" && t == "default") {
				continue
			}
			v.errorf(path{section.name, t}, "%s: recon %s raises no break of type %q%s (its types: %s)",
				section.name, r.Recon, t, strictyaml.Suggest(t, known), strings.Join(known, ", "))
		}
	}
}

// side validates a side and returns the columns rules may name on it.
func (v *validator) side(s *Side, name string) map[string]bool {
	if s.Dataset == "" {
		if name == "left" {
			v.errorf(path{name}, "left needs a dataset, e.g. billing.invoices")
		}
		return nil
	}
	ds, err := model.ParseDataset(s.Dataset)
	if err != nil {
		v.errorf(path{name, "dataset"}, "%v", err)
		return nil
	}
	s.dataset = ds
	t, _ := model.LookupTable(ds.Table)
	cols := map[string]bool{model.Origin: true}
	for _, c := range t.ColumnNames() {
		cols[c] = true
	}
	for i, c := range s.Columns {
		if !model.ValidIdent(c) {
			v.errorf(path{name, "columns", i}, "column %q: use lower-case letters, digits and _", c)
		}
		cols[c] = true
	}
	s.cols = cols
	v.expr(s.Where, path{name, "where"}, cols)
	return cols
}

func (v *validator) rates(r *RatesRef) {
	ds, err := model.ParseDataset(r.Dataset)
	if err != nil {
		v.errorf(path{"rates", "dataset"}, "%v", err)
		return
	}
	if ds.Table != "rates" {
		v.errorf(path{"rates", "dataset"}, "rates dataset %q: want a rates table, e.g. ecb.rates", r.Dataset)
	}
	r.dataset = ds
}

func (v *validator) ambiguity(s, def string, p path) string {
	switch s {
	case "":
		return def
	case Pick, Report:
		return s
	}
	v.errorf(p, "ambiguity %q: want pick (the best candidate by amount, date, then id) or report", s)
	return def
}

// sideCols returns the columns of a check's side ("left" or "right").
func (v *validator) sideCols(side string, p path, left, right map[string]bool) map[string]bool {
	switch side {
	case "left", "":
		return left
	case "right":
		if right == nil {
			v.errorf(p, "side right: the rule has no right dataset")
		}
		return right
	}
	v.errorf(p, "side %q: want left or right", side)
	return nil
}

func (v *validator) checks(r *Rule, left, right map[string]bool) {
	for i, d := range r.Duplicates {
		p := path{"duplicates", i}
		switch d.Side {
		case "left", "right", "both":
		default:
			v.errorf(p.to("side"), "side %q: want left, right or both", d.Side)
		}
		if len(d.Keys) == 0 {
			v.errorf(p, "a duplicate check needs keys")
		}
		for j, k := range d.Keys {
			if d.Side != "right" {
				v.column(left, k, p.to("keys", j))
			}
			if d.Side != "left" && right != nil {
				v.column(right, k, p.to("keys", j))
			}
		}
		v.normalize(d.Normalize, p.to("normalize"))
	}
	for i := range r.Unbalanced {
		u := &r.Unbalanced[i]
		p := path{"unbalanced", i}
		cols := v.sideCols(u.Side, p.to("side"), left, right)
		if u.Side == "" {
			u.Side = "left"
		}
		if u.Debit == "" {
			u.Debit = "debit"
		}
		if u.Credit == "" {
			u.Credit = "credit"
		}
		if len(u.Group) == 0 {
			v.errorf(p, "an unbalanced check needs group, the columns identifying an entry (e.g. [entry_id])")
		}
		for j, g := range u.Group {
			v.column(cols, g, p.to("group", j))
		}
		v.column(cols, u.Debit, p.to("debit"))
		v.column(cols, u.Credit, p.to("credit"))
		u.tol = v.decimal(u.Tolerance, p.to("tolerance"), false)
	}
	for i := range r.VersionConflicts {
		c := &r.VersionConflicts[i]
		p := path{"version_conflicts", i}
		cols := v.sideCols(c.Side, p.to("side"), left, right)
		if c.Side == "" {
			c.Side = "left"
		}
		if len(c.Key) == 0 {
			v.errorf(p, "a version check needs key, the columns naming what a decision is about (e.g. [partner_id])")
		}
		for j, k := range c.Key {
			v.column(cols, k, p.to("key", j))
		}
		v.column(cols, c.Version, p.to("version"))
		v.column(cols, c.Arrival, p.to("arrival"))
	}
}

func (v *validator) pass(p *Pass, at path, names map[string]bool, left, right map[string]bool) {
	if !model.ValidIdent(p.Name) {
		v.errorf(at.to("name"), "pass name %q: use lower-case letters, digits and _", p.Name)
	}
	if names[p.Name] {
		v.errorf(at.to("name"), "pass %q is declared twice", p.Name)
	}
	names[p.Name] = true
	p.ambiguity = v.ambiguity(p.Ambiguity, v.rule.Ambiguity, at.to("ambiguity"))
	if len(p.Keys) == 0 && p.Amount == nil && p.Fuzzy == nil {
		v.errorf(at, "pass %q needs keys, an amount tolerance or a fuzzy reference to match on", p.Name)
	}
	v.cardinality(p, at, left, right)
	for j := range p.Keys {
		v.key(p, &p.Keys[j], at.to("keys", j), left, right)
	}
	if a := p.Amount; a != nil {
		v.column(left, a.Left, at.to("amount", "left"))
		v.column(right, a.Right, at.to("amount", "right"))
		v.tolerance(&a.Tolerance, at.to("amount"), true)
		if a.Convert && v.rule.Rates == nil {
			v.errorf(at.to("amount", "convert"), "convert needs a rates dataset: add rates: {dataset: <system>.rates} to the rule")
		}
		if a.Convert && p.Date == nil {
			v.errorf(at.to("amount", "convert"), "convert needs the pass's date: the rate is the one in force on the left date; add date: {left: …, right: …}")
		}
	}
	if d := p.Date; d != nil {
		v.column(left, d.Left, at.to("date", "left"))
		v.column(right, d.Right, at.to("date", "right"))
		v.dateBounds(d, at.to("date"))
	}
	if f := p.Fuzzy; f != nil {
		v.fuzzy(p, f, at.to("fuzzy"), left, right)
	}
	if p.SubsetSum != nil && p.Amount == nil {
		v.errorf(at.to("subset_sum"), "subset_sum needs an amount tolerance: the subset's total must settle the item")
	}
}

func (v *validator) cardinality(p *Pass, at path, left, right map[string]bool) {
	if p.Cardinality == "" {
		p.Cardinality = OneToOne
	}
	g := p.Group
	if g == nil {
		g = &GroupBy{}
	}
	switch p.Cardinality {
	case OneToOne:
		if p.Group != nil || p.SubsetSum != nil {
			v.errorf(at.to("cardinality"), "group and subset_sum need cardinality one_to_many, many_to_one or many_to_many")
		}
	case OneToMany, ManyToOne:
		many, one := "right", "left"
		manyCols := g.Right
		if p.Cardinality == ManyToOne {
			many, one, manyCols = "left", "right", g.Left
		}
		if (len(manyCols) > 0) == (p.SubsetSum != nil) {
			v.errorf(at.to("cardinality"), "%s: group the %s side (group: {%s: [...]}) or search it with subset_sum, one of the two", p.Cardinality, many, many)
		}
		if len(oneSide(g, one)) > 0 {
			v.errorf(at.to("group", one), "%s: the %s side is one item, it cannot be grouped", p.Cardinality, one)
		}
	case ManyToMany:
		if len(g.Left) == 0 || len(g.Right) == 0 {
			v.errorf(at.to("cardinality"), "many_to_many: group both sides (group: {left: [...], right: [...]})")
		}
		if p.SubsetSum != nil {
			v.errorf(at.to("subset_sum"), "subset_sum searches one many side: use cardinality one_to_many or many_to_one")
		}
	default:
		v.errorf(at.to("cardinality"), "cardinality %q: want one_to_one, one_to_many, many_to_one or many_to_many", p.Cardinality)
		return
	}
	if p.Cardinality != OneToOne && p.Amount == nil {
		v.errorf(at, "%s: a grouped pass needs an amount tolerance for the group totals", p.Cardinality)
	}
	if p.Fuzzy != nil && p.Cardinality != OneToOne {
		v.errorf(at.to("fuzzy"), "fuzzy passes match one to one")
	}
	for j, c := range g.Left {
		v.column(left, c, at.to("group", "left", j))
	}
	for j, c := range g.Right {
		v.column(right, c, at.to("group", "right", j))
	}
	if s := p.SubsetSum; s != nil {
		if s.MaxItems == 0 {
			s.MaxItems = DefaultSubsetItems
		}
		if s.MaxCandidates == 0 {
			s.MaxCandidates = DefaultSubsetCandidates
		}
		if s.MaxItems < 2 || s.MaxItems > MaxSubsetItems {
			v.errorf(at.to("subset_sum", "max_items"), "max_items %d: want 2 to %d", s.MaxItems, MaxSubsetItems)
		}
		if s.MaxCandidates < s.MaxItems || s.MaxCandidates > MaxSubsetCandidates {
			v.errorf(at.to("subset_sum", "max_candidates"), "max_candidates %d: want max_items to %d", s.MaxCandidates, MaxSubsetCandidates)
		}
	}
}

// Subset-sum search bounds. The search tries every subset of up to
// max_items of the max_candidates nearest candidates: at the limits,
// C(20,1)+...+C(20,6) = 60,459 subsets per item.
const (
	DefaultSubsetItems      = 4
	DefaultSubsetCandidates = 12
	MaxSubsetItems          = 6
	MaxSubsetCandidates     = 20
)

func oneSide(g *GroupBy, side string) []string {
	if side == "left" {
		return g.Left
	}
	return g.Right
}

// key validates a key pair. On a grouped side a key must be a grouping
// column, so it has one value per group.
func (v *validator) key(p *Pass, k *KeyPair, at path, left, right map[string]bool) {
	for _, s := range []struct {
		side       string
		col, expr  string
		cols       map[string]bool
		colN, exN  string
		groupedCol []string
	}{
		{"left", k.Left, k.LeftExpr, left, "left", "left_expr", groupCols(p, "left")},
		{"right", k.Right, k.RightExpr, right, "right", "right_expr", groupCols(p, "right")},
	} {
		switch {
		case s.col != "" && s.expr != "":
			v.errorf(at.to(s.exN), "give %s or %s, not both", s.colN, s.exN)
		case s.expr != "":
			v.expr(s.expr, at.to(s.exN), s.cols)
			if p.Many(s.side) {
				v.errorf(at.to(s.exN), "the %s side is grouped: key on a grouping column, not an expression", s.side)
			}
		default:
			v.column(s.cols, s.col, at.to(s.colN))
			if p.Many(s.side) && s.col != "" && len(s.groupedCol) > 0 && !contains(s.groupedCol, s.col) {
				v.errorf(at.to(s.colN), "the %s side is grouped by %s: a key there must be one of the grouping columns, so a group has one value", s.side, strings.Join(s.groupedCol, ", "))
			}
		}
	}
	v.normalize(k.Normalize, at.to("normalize"))
}

func groupCols(p *Pass, side string) []string {
	if p.Group == nil {
		return nil
	}
	return oneSide(p.Group, side)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *validator) dateBounds(d *DateTol, at path) {
	switch {
	case d.WindowDays != nil && (d.MinDays != nil || d.MaxDays != nil):
		v.errorf(at, "give window_days, or min_days and max_days, not both")
	case d.WindowDays != nil:
		if *d.WindowDays < 0 {
			v.errorf(at.to("window_days"), "window_days must not be negative")
		}
		d.min, d.max = -*d.WindowDays, *d.WindowDays
	case d.MinDays != nil && d.MaxDays != nil:
		d.min, d.max = *d.MinDays, *d.MaxDays
		if d.min > d.max {
			v.errorf(at.to("min_days"), "min_days %d is after max_days %d", d.min, d.max)
		}
	default:
		v.errorf(at, "a date tolerance needs window_days (either way), or min_days and max_days (right date minus left date)")
	}
}

func (v *validator) fuzzy(p *Pass, f *Fuzzy, at path, left, right map[string]bool) {
	v.column(left, f.Left, at.to("left"))
	v.column(right, f.Right, at.to("right"))
	v.normalize(f.Normalize, at.to("normalize"))
	if f.Method == "" {
		f.Method = "jaro_winkler"
	}
	t, err := decimal.NewFromString(f.Threshold)
	switch f.Method {
	case "jaro_winkler":
		if err != nil || t.IsNegative() || t.GreaterThan(decimal.NewFromInt(1)) {
			v.errorf(at.to("threshold"), "threshold %q: jaro_winkler needs the least similarity, from 0 to 1 (e.g. \"0.9\")", f.Threshold)
		}
	case "levenshtein":
		if err != nil || t.IsNegative() || !t.IsInteger() {
			v.errorf(at.to("threshold"), "threshold %q: levenshtein needs the most edits, a whole number (e.g. \"2\")", f.Threshold)
		}
	default:
		v.errorf(at.to("method"), "fuzzy method %q: want jaro_winkler or levenshtein", f.Method)
	}
	f.threshold = t
}

func (v *validator) comparison(c *Comparison, at path, left, right map[string]bool) {
	if !model.ValidIdent(c.Break) {
		v.errorf(at.to("break"), "break type %q: use lower-case letters, digits and _", c.Break)
	}
	v.column(left, c.Left, at.to("left"))
	v.column(right, c.Right, at.to("right"))
	v.tolerance(&c.Tolerance, at, false)
	kind := v.kindOf(v.rule.Left, c.Left)
	if (c.Tolerance.Tolerance != "" || c.Relative != "" || c.AtMost != "") && kind != model.Amount {
		v.errorf(at.to("tolerance"), "a tolerance applies to amount columns; %s is not one", c.Left)
	}
	if c.Days < 0 || (c.Days > 0 && kind != model.Date) {
		v.errorf(at.to("days"), "days applies to date columns and must not be negative")
	}
	if len(c.Map) > 0 && (kind == model.Amount || kind == model.Date) {
		v.errorf(at.to("map"), "a value map applies to text columns; %s is not one", c.Left)
	}
}

// kindOf returns the kind of a side's column; extra columns are text.
func (v *validator) kindOf(s Side, col string) model.Kind {
	t, ok := model.LookupTable(s.dataset.Table)
	if !ok {
		return model.Text
	}
	c, ok := t.Column(col)
	if !ok {
		return model.Text
	}
	return c.Kind
}

func (v *validator) proof(p *Proof, at path, left, right map[string]bool, def string) {
	if p.Break == "" {
		p.Break = def
	}
	if !model.ValidIdent(p.Break) {
		v.errorf(at.to("break"), "break type %q: use lower-case letters, digits and _ (e.g. ar_control_mismatch)", p.Break)
	}
	if len(p.Group) == 0 {
		v.errorf(at, "a proof needs group, the columns both sides are totalled by (e.g. [legal_entity, partner_id, currency])")
	}
	for j, g := range p.Group {
		v.column(left, g, at.to("group", j))
		v.column(right, g, at.to("group", j))
	}
	for _, s := range []struct {
		name string
		ps   ProofSide
		cols map[string]bool
	}{{"left", p.Left, left}, {"right", p.Right, right}} {
		if strings.TrimSpace(s.ps.Sum) == "" {
			v.errorf(at.to(s.name), "%s needs sum, the expression totalled per group", s.name)
		}
		v.expr(s.ps.Sum, at.to(s.name, "sum"), s.cols)
		v.expr(s.ps.Where, at.to(s.name, "where"), s.cols)
		if s.ps.LatestBy != "" {
			v.column(s.cols, s.ps.LatestBy, at.to(s.name, "latest_by"))
		}
	}
	p.tol = v.decimal(p.Tolerance, at.to("tolerance"), false)
}

func (v *validator) tolerance(t *Tolerance, at path, required bool) {
	if t.Tolerance == "" && t.Relative == "" && required {
		v.errorf(at, "a tolerance is required: tolerance (e.g. \"0.01\") and/or relative (e.g. \"1%%\")")
	}
	t.abs = v.decimal(t.Tolerance, at.to("tolerance"), false)
	if t.Relative != "" {
		pct, ok := strings.CutSuffix(strings.TrimSpace(t.Relative), "%")
		d, err := decimal.NewFromString(strings.TrimSpace(pct))
		if !ok || err != nil || d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) {
			v.errorf(at.to("relative"), "relative %q: want a percentage such as \"1%%\"", t.Relative)
		} else {
			t.rel = d.Shift(-2)
		}
	}
	if t.AtMost != "" {
		t.max, t.hasMax = v.decimal(t.AtMost, at.to("at_most"), true), true
		if t.rel.IsZero() {
			v.errorf(at.to("at_most"), "at_most caps a relative tolerance: add relative (e.g. \"1%%\")")
		}
		if t.max.LessThan(t.abs) {
			v.errorf(at.to("at_most"), "at_most %s is below the absolute tolerance %s", t.max, t.abs)
		}
	}
}

func (v *validator) severities(r *Rule) {
	r.severities = map[string]model.Severity{}
	for t, s := range r.Severity {
		sev, err := model.ParseSeverity(s)
		if err != nil {
			v.errorf(path{"severity", t}, "%v", err)
			continue
		}
		if t == "default" {
			t = ""
		}
		r.severities[t] = sev
	}
}

func (v *validator) adjustments(r *Rule) {
	for t := range r.Adjust {
		a := r.Adjust[t]
		p := path{"adjust", t}
		a.max = v.decimal(a.MaxDifference, p.to("max_difference"), true)
		for _, f := range []struct{ name, val string }{{"journal", a.Journal}, {"account", a.Account}, {"counter_account", a.CounterAccount}} {
			if strings.TrimSpace(f.val) == "" {
				v.errorf(p, "adjustment for %s needs %s", t, f.name)
			}
		}
		r.Adjust[t] = a
	}
}

func (v *validator) column(cols map[string]bool, name string, p path) {
	if cols == nil {
		return
	}
	if name == "" {
		v.errorf(p, "a column name is required")
		return
	}
	if !cols[name] {
		v.errorf(p, "unknown column %q%s (declare extra source columns under the side's columns:)", name, strictyaml.Suggest(name, sortedKeys(cols)))
	}
}

func (v *validator) normalize(steps []string, p path) {
	for i, s := range steps {
		if _, ok := normalizers[s]; !ok {
			v.errorf(p.to(i), "unknown normalisation %q%s (known: %s)", s, strictyaml.Suggest(s, NormalizerNames()), strings.Join(NormalizerNames(), ", "))
		}
	}
}

func (v *validator) decimal(s string, p path, required bool) decimal.Decimal {
	if s == "" {
		if required {
			v.errorf(p, "a non-negative amount is required, e.g. \"0.01\"")
		}
		return decimal.Zero
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.IsNegative() {
		v.errorf(p, "%q is not a non-negative amount, e.g. \"0.01\"", s)
		return decimal.Zero
	}
	return d
}

// String describes a key pair for break details.
func (k KeyPair) String() string {
	l, r := k.Left, k.Right
	if l == "" {
		l = k.LeftExpr
	}
	if r == "" {
		r = k.RightExpr
	}
	if l == r {
		return l
	}
	return fmt.Sprintf("%s = %s", l, r)
}
