// Package rules reads and validates the declarative reconciliation rules in
// rules/*.yaml. A rule file declares one reconciliation between a left and a
// right dataset: checks on each side, ordered matching passes, comparisons on
// matched pairs, severities and the adjustments to propose. This package only
// parses and validates; package match compiles rules to SQL.
package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/strictyaml"
)

// Rule is one reconciliation, as declared in one file.
type Rule struct {
	Recon       string `yaml:"recon"`
	Description string `yaml:"description"`
	Left        Side   `yaml:"left"`
	Right       Side   `yaml:"right"`
	// Rates names a dataset of the rates table, used by passes that convert
	// amounts between currencies.
	Rates *RatesRef `yaml:"rates"`
	// Period turns the run's as-of date into a period end: see Period.
	Period *Period `yaml:"period"`
	// Ambiguity is the default of every pass: pick or report.
	Ambiguity string `yaml:"ambiguity"`
	// Authoritative says which side holds the truth for a field (a compared
	// left column) or, under "default", for everything else. A break is to
	// be fixed in the other system.
	Authoritative map[string]string `yaml:"authoritative"`

	Duplicates       []DuplicateCheck  `yaml:"duplicates"`
	Unbalanced       []UnbalancedCheck `yaml:"unbalanced"`
	VersionConflicts []VersionCheck    `yaml:"version_conflicts"`
	Passes           []Pass            `yaml:"passes"`
	Compare          []Comparison      `yaml:"compare"`
	Proofs           []Proof           `yaml:"proofs"`
	Limits           []Proof           `yaml:"limits"`

	Severity map[string]string     `yaml:"severity"`
	Adjust   map[string]Adjustment `yaml:"adjust"`

	// File is where the rule was read from; SHA256 is the hash of its bytes.
	File   string `yaml:"-"`
	SHA256 string `yaml:"-"`
	// severities is Severity parsed, with "default" under the key "".
	severities map[string]model.Severity
	// exprs are the SQL expressions the rule contains, for CheckExprs.
	exprs []Expr
}

// Side names a dataset and the rows of it that take part.
type Side struct {
	Dataset string `yaml:"dataset"`
	// Where is a SQL condition on the dataset's columns; rows where it is
	// not true take no part (e.g. "status <> 'draft'").
	Where string `yaml:"where"`
	// Columns declares extra, non-canonical columns the rule uses.
	Columns []string `yaml:"columns"`

	dataset model.Dataset
	cols    map[string]bool
}

// DatasetName returns the parsed dataset.
func (s Side) DatasetName() model.Dataset { return s.dataset }

// ColumnNames returns the columns rules may name on this side, sorted.
func (s Side) ColumnNames() []string { return sortedKeys(s.cols) }

// RatesRef names the rates dataset.
type RatesRef struct {
	Dataset string `yaml:"dataset"`

	dataset model.Dataset
}

// DatasetName returns the parsed dataset.
func (r RatesRef) DatasetName() model.Dataset { return r.dataset }

// Period makes the run's as-of date a period end. Rows dated more than
// InTransitDays after it take no part; rows dated after it but within
// InTransitDays take part in matching but, left unmatched, are not breaks
// (they belong to the next period); a pair with one side on or before the
// period end and the other after it is a timing difference.
type Period struct {
	Left          string `yaml:"left"`
	Right         string `yaml:"right"`
	InTransitDays int    `yaml:"in_transit_days"`
}

// DuplicateCheck finds copies of one key inside one side's dataset.
type DuplicateCheck struct {
	Side      string   `yaml:"side"` // left, right or both
	Keys      []string `yaml:"keys"`
	Normalize []string `yaml:"normalize"`
}

// UnbalancedCheck finds journal entries whose debits and credits differ.
type UnbalancedCheck struct {
	Side      string   `yaml:"side"`
	Group     []string `yaml:"group"`  // the entry's key, e.g. [entry_id]
	Debit     string   `yaml:"debit"`  // default debit
	Credit    string   `yaml:"credit"` // default credit
	Tolerance string   `yaml:"tolerance"`

	tol decimal.Decimal
}

// Tol returns the parsed tolerance.
func (u UnbalancedCheck) Tol() decimal.Decimal { return u.tol }

// VersionCheck finds decisions applied out of order: a row whose Version is
// lower than that of a row with the same Key that arrived earlier.
type VersionCheck struct {
	Side    string   `yaml:"side"`
	Key     []string `yaml:"key"`
	Version string   `yaml:"version"`
	Arrival string   `yaml:"arrival"`
}

// Proof compares totals per group between the sides. As a proof it raises
// Break where the totals differ by more than the tolerance; as a limit it
// raises Break where the right total exceeds the left one (exposure above
// the credit limit).
type Proof struct {
	Break     string    `yaml:"break"`
	Group     []string  `yaml:"group"`
	Left      ProofSide `yaml:"left"`
	Right     ProofSide `yaml:"right"`
	Tolerance string    `yaml:"tolerance"`

	tol decimal.Decimal
}

// Tol returns the parsed tolerance.
func (p Proof) Tol() decimal.Decimal { return p.tol }

// ProofSide is the total of one side of a proof.
type ProofSide struct {
	// Sum is the SQL expression summed per group, e.g. amount_residual.
	Sum string `yaml:"sum"`
	// Where narrows the side's rows further for this proof.
	Where string `yaml:"where"`
	// LatestBy keeps, per group, only the row with the highest value of
	// this column (ties go to the highest id): the decision in force.
	LatestBy string `yaml:"latest_by"`
}

// Cardinalities a pass may declare.
const (
	OneToOne   = "one_to_one"
	OneToMany  = "one_to_many"
	ManyToOne  = "many_to_one"
	ManyToMany = "many_to_many"
)

// Ambiguity policies.
const (
	Pick   = "pick"
	Report = "report"
)

// Pass is one step of the matching waterfall.
type Pass struct {
	Name string `yaml:"name"`
	// Cardinality is one_to_one (the default), one_to_many, many_to_one or
	// many_to_many; the many side is grouped by Group or, without a group,
	// searched by SubsetSum.
	Cardinality string     `yaml:"cardinality"`
	Group       *GroupBy   `yaml:"group"`
	SubsetSum   *SubsetSum `yaml:"subset_sum"`
	Keys        []KeyPair  `yaml:"keys"`
	Amount      *AmountTol `yaml:"amount"`
	Date        *DateTol   `yaml:"date"`
	Fuzzy       *Fuzzy     `yaml:"fuzzy"`
	// Ambiguity overrides the rule's: pick or report.
	Ambiguity string `yaml:"ambiguity"`

	ambiguity string
}

// Policy returns the pass's ambiguity policy after defaults.
func (p Pass) Policy() string { return p.ambiguity }

// Many reports whether side ("left" or "right") is the many side.
func (p Pass) Many(side string) bool {
	switch p.Cardinality {
	case ManyToMany:
		return true
	case OneToMany:
		return side == "right"
	case ManyToOne:
		return side == "left"
	}
	return false
}

// GroupBy names the grouping columns of the many sides.
type GroupBy struct {
	Left  []string `yaml:"left"`
	Right []string `yaml:"right"`
}

// SubsetSum bounds the search for a subset of open items on the many side
// whose total settles one item on the other side. Only the MaxCandidates
// candidates closest in date (then lowest ids) are searched, in subsets of
// at most MaxItems.
type SubsetSum struct {
	MaxItems      int `yaml:"max_items"`
	MaxCandidates int `yaml:"max_candidates"`
}

// KeyPair equates a left value with a right value after normalisation. The
// values are columns, or SQL expressions over the side's columns.
type KeyPair struct {
	Left      string   `yaml:"left"`
	Right     string   `yaml:"right"`
	LeftExpr  string   `yaml:"left_expr"`
	RightExpr string   `yaml:"right_expr"`
	Normalize []string `yaml:"normalize"`
}

// Tolerance is how far two amounts may differ and still agree: the absolute
// Tolerance, or Relative of the left amount's magnitude when that is more,
// but never more than AtMost. Bounds are inclusive.
type Tolerance struct {
	Tolerance string `yaml:"tolerance"`
	Relative  string `yaml:"relative"` // a percentage, e.g. "1%"
	AtMost    string `yaml:"at_most"`

	abs, rel, max decimal.Decimal
	hasMax        bool
}

// Abs, Rel and Max return the parsed bounds; Rel is a fraction (0.01 for
// 1%), and Max reports false when no cap was given.
func (t Tolerance) Abs() decimal.Decimal         { return t.abs }
func (t Tolerance) Rel() decimal.Decimal         { return t.rel }
func (t Tolerance) Max() (decimal.Decimal, bool) { return t.max, t.hasMax }
func (t Tolerance) IsRelative() bool             { return !t.rel.IsZero() }

// String says the tolerance in words, e.g. "0.01" or "1% (at least 0.01, at
// most 5.00)".
func (t Tolerance) String() string {
	if t.rel.IsZero() {
		return t.abs.String()
	}
	s := t.rel.Shift(2).String() + "%"
	var b []string
	if !t.abs.IsZero() {
		b = append(b, "at least "+t.abs.String())
	}
	if t.hasMax {
		b = append(b, "at most "+t.max.String())
	}
	if len(b) > 0 {
		s += " (" + strings.Join(b, ", ") + ")"
	}
	return s
}

// AmountTol lets the amounts of a pair differ within a tolerance. With
// Convert, the right amount is first converted into the left currency at
// the rate in force on the left date (the rule's rates dataset).
type AmountTol struct {
	Left      string `yaml:"left"`
	Right     string `yaml:"right"`
	Tolerance `yaml:",inline"`
	Convert   bool `yaml:"convert"`
}

// DateTol bounds the right date minus the left date in days, both ends
// inclusive: WindowDays n means -n..n; MinDays and MaxDays give a direction
// (0 and 3: the right date 0 to 3 days after the left one).
type DateTol struct {
	Left       string `yaml:"left"`
	Right      string `yaml:"right"`
	WindowDays *int   `yaml:"window_days"`
	MinDays    *int   `yaml:"min_days"`
	MaxDays    *int   `yaml:"max_days"`

	min, max int
}

// Bounds returns the inclusive range of right date minus left date.
func (d DateTol) Bounds() (min, max int) { return d.min, d.max }

// Fuzzy pairs references by string similarity. Its matches are proposed,
// not confirmed: each raises a proposed_match break for a person to check.
type Fuzzy struct {
	Left      string   `yaml:"left"`
	Right     string   `yaml:"right"`
	Normalize []string `yaml:"normalize"`
	// Method is jaro_winkler (Threshold: the least similarity, 0 to 1) or
	// levenshtein (Threshold: the most edits).
	Method    string `yaml:"method"`
	Threshold string `yaml:"threshold"`

	threshold decimal.Decimal
}

// Limit returns the parsed threshold.
func (f Fuzzy) Limit() decimal.Decimal { return f.threshold }

// Comparison checks one field of every matched pair and raises Break when it
// differs.
type Comparison struct {
	Break     string           `yaml:"break"`
	Left      string           `yaml:"left"`
	Right     string           `yaml:"right"`
	Tolerance `yaml:",inline"` // amounts only
	// Days lets dates differ by up to this many days either way.
	Days int `yaml:"days"`
	// Map translates values into one vocabulary before comparing (status
	// values, say). It applies to both sides, so it may map either system's
	// words, or both onto shared ones; unmapped values compare as they are.
	Map map[string]string `yaml:"map"`
}

// Tol returns the absolute tolerance (zero when none was given).
func (c Comparison) Tol() decimal.Decimal { return c.abs }

// Adjustment declares the balanced journal entry to propose for a break type.
// For a positive difference (left exceeds right) Account is debited and
// CounterAccount credited; a negative difference swaps them.
type Adjustment struct {
	MaxDifference  string `yaml:"max_difference"`
	Journal        string `yaml:"journal"`
	Account        string `yaml:"account"`
	CounterAccount string `yaml:"counter_account"`
	Label          string `yaml:"label"`

	max decimal.Decimal
}

// Max returns the parsed threshold: only breaks whose absolute difference is
// at most this get an adjustment.
func (a Adjustment) Max() decimal.Decimal { return a.max }

// Expr is one SQL expression in a rule, with where it is and the columns it
// may use.
type Expr struct {
	SQL     string
	File    string
	Line    int
	Col     int
	Columns []string
}

// Exprs returns the rule's SQL expressions in file order.
func (r *Rule) Exprs() []Expr { return r.exprs }

// AuthoritativeFor returns the authoritative side ("left" or "right") for a
// field, falling back to the rule's default, then to left.
func (r *Rule) AuthoritativeFor(field string) string {
	if s, ok := r.Authoritative[field]; ok {
		return s
	}
	if s, ok := r.Authoritative["default"]; ok {
		return s
	}
	return "left"
}

// normalizers are the key normalisation steps a rule may name, as SQL
// templates over %s.
var normalizers = map[string]string{
	"trim":             "trim(%s)",
	"upper":            "upper(%s)",
	"lower":            "lower(%s)",
	"strip_punct":      "regexp_replace(%s, '[^[:alnum:]]', '', 'g')",
	"strip_space":      "regexp_replace(%s, '\\s', '', 'g')",
	"digits":           "regexp_replace(%s, '[^0-9]', '', 'g')",
	"no_leading_zeros": "ltrim(%s, '0')",
}

// NormalizerNames lists the normalisation steps, sorted.
func NormalizerNames() []string {
	names := make([]string, 0, len(normalizers))
	for n := range normalizers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Normalize wraps the SQL expression expr in the named steps, in order.
func Normalize(expr string, steps []string) string {
	for _, s := range steps {
		expr = fmt.Sprintf(normalizers[s], expr)
	}
	return expr
}

// SeverityOf returns the severity of a break type: the rule's entry for it,
// else the rule's default, else the built-in default.
func (r *Rule) SeverityOf(breakType string) model.Severity {
	if s, ok := r.severities[breakType]; ok {
		return s
	}
	if s, ok := r.severities[""]; ok {
		return s
	}
	return defaultSeverity(breakType)
}

func defaultSeverity(breakType string) model.Severity {
	switch breakType {
	case model.Unmatched, model.Duplicate, model.UnbalancedEntry, model.LimitBreach:
		return model.High
	case model.StatusMismatch, model.DateMismatch:
		return model.Low
	default:
		return model.Medium
	}
}

// Set is the rules of one run, sorted by recon name.
type Set struct {
	Rules []*Rule
}

// Hash is the SHA-256 over every rule file's name and hash, in order: it
// changes when any rule changes.
func (s *Set) Hash() string {
	h := sha256.New()
	for _, r := range s.Rules {
		fmt.Fprintf(h, "%s %s\n", filepath.Base(r.File), r.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Lookup returns the rule for recon.
func (s *Set) Lookup(recon string) (*Rule, bool) {
	for _, r := range s.Rules {
		if r.Recon == recon {
			return r, true
		}
	}
	return nil, false
}

// Load reads rules from paths, each a YAML file or a directory of them. All
// problems found are returned together.
func Load(paths ...string) (*Set, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		for _, pat := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			files = append(files, m...)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("rules: no .yaml files in %s", strings.Join(paths, ", "))
	}
	sort.Strings(files)
	set := &Set{}
	var errs []error
	seen := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("rules: %w", err))
			continue
		}
		r, err := Parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[r.Recon]; dup {
			errs = append(errs, &strictyaml.Error{File: f, Err: fmt.Errorf("recon %q is already declared in %s", r.Recon, prev)})
			continue
		}
		seen[r.Recon] = f
		set.Rules = append(set.Rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(set.Rules, func(i, j int) bool { return set.Rules[i].Recon < set.Rules[j].Recon })
	return set, nil
}

// Parse decodes and validates one rule file.
func Parse(file string, data []byte) (*Rule, error) {
	r := &Rule{}
	root, err := strictyaml.Decode(file, data, r)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	r.File, r.SHA256 = file, hex.EncodeToString(sum[:])
	if r.Recon == "" {
		r.Recon = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".yaml"), ".yml")
	}
	v := &validator{file: file, root: root}
	v.validate(r)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return r, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// BreakTypes lists, sorted, the break types the rule may raise: the built-in
// ones and those its comparisons, proofs and limits declare.
func (r *Rule) BreakTypes() []string {
	seen := map[string]bool{}
	for _, t := range model.BreakTypes {
		seen[t] = true
	}
	for _, c := range r.Compare {
		seen[c.Break] = true
	}
	for _, p := range append(append([]Proof(nil), r.Proofs...), r.Limits...) {
		seen[p.Break] = true
	}
	delete(seen, "")
	return sortedKeys(seen)
}

// CheckExprs validates every SQL expression of the set with check (which
// parses one expression over the given columns), and reports each problem
// at the expression's position.
func (s *Set) CheckExprs(check func(sql string, columns []string) error) error {
	var errs []error
	for _, r := range s.Rules {
		for _, e := range r.exprs {
			if err := check(e.SQL, e.Columns); err != nil {
				errs = append(errs, &strictyaml.Error{File: e.File, Line: e.Line, Col: e.Col, Err: err})
			}
		}
	}
	return errors.Join(errs...)
}
