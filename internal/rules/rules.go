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
	"gopkg.in/yaml.v3"

	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/strictyaml"
)

// Rule is one reconciliation, as declared in one file.
type Rule struct {
	Recon       string                `yaml:"recon"`
	Description string                `yaml:"description"`
	Left        Side                  `yaml:"left"`
	Right       Side                  `yaml:"right"`
	Duplicates  []DuplicateCheck      `yaml:"duplicates"`
	Passes      []Pass                `yaml:"passes"`
	Compare     []Comparison          `yaml:"compare"`
	Severity    map[string]string     `yaml:"severity"`
	Adjust      map[string]Adjustment `yaml:"adjust"`

	// File is where the rule was read from; SHA256 is the hash of its bytes.
	File   string `yaml:"-"`
	SHA256 string `yaml:"-"`
	// severities is Severity parsed, with "default" under the key "".
	severities map[string]model.Severity
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
}

// DatasetName returns the parsed dataset.
func (s Side) DatasetName() model.Dataset { return s.dataset }

// DuplicateCheck finds copies of one key inside one side's dataset.
type DuplicateCheck struct {
	Side      string   `yaml:"side"` // left, right or both
	Keys      []string `yaml:"keys"`
	Normalize []string `yaml:"normalize"`
}

// Pass is one step of the matching waterfall.
type Pass struct {
	Name   string     `yaml:"name"`
	Keys   []KeyPair  `yaml:"keys"`
	Amount *AmountTol `yaml:"amount"`
	Date   *DateTol   `yaml:"date"`
}

// KeyPair equates a left column with a right column after normalisation.
type KeyPair struct {
	Left      string   `yaml:"left"`
	Right     string   `yaml:"right"`
	Normalize []string `yaml:"normalize"`
}

// AmountTol allows the amounts of a pair to differ by at most Tolerance
// (inclusive).
type AmountTol struct {
	Left      string `yaml:"left"`
	Right     string `yaml:"right"`
	Tolerance string `yaml:"tolerance"`

	tol decimal.Decimal
}

// Tol returns the parsed tolerance.
func (a AmountTol) Tol() decimal.Decimal { return a.tol }

// DateTol allows the dates of a pair to differ by at most WindowDays days,
// either way (inclusive).
type DateTol struct {
	Left       string `yaml:"left"`
	Right      string `yaml:"right"`
	WindowDays int    `yaml:"window_days"`
}

// Comparison checks one field of every matched pair and raises Break when it
// differs.
type Comparison struct {
	Break     string `yaml:"break"`
	Left      string `yaml:"left"`
	Right     string `yaml:"right"`
	Tolerance string `yaml:"tolerance"` // amounts only
	// Map translates left values into the right system's vocabulary before
	// comparing (status values, say). Unmapped values compare as they are.
	Map map[string]string `yaml:"map"`

	tol decimal.Decimal
}

// Tol returns the parsed tolerance (zero when none was given).
func (c Comparison) Tol() decimal.Decimal { return c.tol }

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
	v.rule(r)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return r, nil
}

// validator collects every problem of one file, each at its position.
type validator struct {
	file string
	root *yaml.Node
	errs []error
}

// at finds the node at a path of mapping keys and sequence indexes, falling
// back to the closest ancestor that exists.
func (v *validator) at(path ...any) *yaml.Node {
	n := v.root
	for _, p := range path {
		next := child(n, p)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// key finds the key node (not the value) at path, for "unknown column" style
// errors that should point at the key.
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

func (v *validator) errorf(path []any, format string, args ...any) {
	v.errs = append(v.errs, strictyaml.Errorf(v.file, v.at(path...), format, args...))
}

func (v *validator) rule(r *Rule) {
	if !model.ValidIdent(r.Recon) {
		v.errorf([]any{"recon"}, "recon %q: use lower-case letters, digits and _", r.Recon)
	}
	leftCols := v.side(&r.Left, "left")
	rightCols := v.side(&r.Right, "right")
	if r.Left.Dataset != "" && r.Right.Dataset == "" && len(r.Passes) > 0 {
		v.errorf([]any{"passes"}, "passes need a right dataset to match against")
	}
	for i, d := range r.Duplicates {
		path := []any{"duplicates", i}
		switch d.Side {
		case "left", "right", "both":
		default:
			v.errorf(append(path, "side"), "side %q: want left, right or both", d.Side)
		}
		if len(d.Keys) == 0 {
			v.errorf(path, "a duplicate check needs keys")
		}
		for j, k := range d.Keys {
			if d.Side != "right" {
				v.column(leftCols, k, append(path, "keys", j))
			}
			if d.Side != "left" && rightCols != nil {
				v.column(rightCols, k, append(path, "keys", j))
			}
		}
		v.normalize(d.Normalize, append(path, "normalize"))
	}
	passNames := map[string]bool{}
	for i := range r.Passes {
		p := &r.Passes[i]
		path := []any{"passes", i}
		if !model.ValidIdent(p.Name) {
			v.errorf(append(path, "name"), "pass name %q: use lower-case letters, digits and _", p.Name)
		}
		if passNames[p.Name] {
			v.errorf(append(path, "name"), "pass %q is declared twice", p.Name)
		}
		passNames[p.Name] = true
		if len(p.Keys) == 0 && p.Amount == nil {
			v.errorf(path, "pass %q needs keys or an amount tolerance to match on", p.Name)
		}
		for j, k := range p.Keys {
			kp := append(path, "keys", j)
			v.column(leftCols, k.Left, append(kp, "left"))
			v.column(rightCols, k.Right, append(kp, "right"))
			v.normalize(k.Normalize, append(kp, "normalize"))
		}
		if a := p.Amount; a != nil {
			v.column(leftCols, a.Left, append(path, "amount", "left"))
			v.column(rightCols, a.Right, append(path, "amount", "right"))
			a.tol = v.decimal(a.Tolerance, append(path, "amount", "tolerance"), true)
		}
		if d := p.Date; d != nil {
			v.column(leftCols, d.Left, append(path, "date", "left"))
			v.column(rightCols, d.Right, append(path, "date", "right"))
			if d.WindowDays < 0 {
				v.errorf(append(path, "date", "window_days"), "window_days must not be negative")
			}
		}
	}
	for i := range r.Compare {
		c := &r.Compare[i]
		path := []any{"compare", i}
		if !model.ValidIdent(c.Break) {
			v.errorf(append(path, "break"), "break type %q: use lower-case letters, digits and _", c.Break)
		}
		v.column(leftCols, c.Left, append(path, "left"))
		v.column(rightCols, c.Right, append(path, "right"))
		c.tol = v.decimal(c.Tolerance, append(path, "tolerance"), false)
	}
	r.severities = map[string]model.Severity{}
	for t, s := range r.Severity {
		sev, err := model.ParseSeverity(s)
		if err != nil {
			v.errorf([]any{"severity", t}, "%v", err)
			continue
		}
		if t == "default" {
			t = ""
		}
		r.severities[t] = sev
	}
	for t := range r.Adjust {
		a := r.Adjust[t]
		path := []any{"adjust", t}
		a.max = v.decimal(a.MaxDifference, append(path, "max_difference"), true)
		for name, val := range map[string]string{"journal": a.Journal, "account": a.Account, "counter_account": a.CounterAccount} {
			if strings.TrimSpace(val) == "" {
				v.errorf(path, "adjustment for %s needs %s", t, name)
			}
		}
		r.Adjust[t] = a
	}
}

// side validates a side and returns the columns rules may name on it.
func (v *validator) side(s *Side, name string) map[string]bool {
	if s.Dataset == "" {
		if name == "left" {
			v.errorf([]any{name}, "left needs a dataset, e.g. billing.invoices")
		}
		return nil
	}
	ds, err := model.ParseDataset(s.Dataset)
	if err != nil {
		v.errorf([]any{name, "dataset"}, "%v", err)
		return nil
	}
	s.dataset = ds
	t, _ := model.LookupTable(ds.Table)
	cols := map[string]bool{model.Origin: true}
	for _, c := range t.ColumnNames() {
		cols[c] = true
	}
	for _, c := range s.Columns {
		cols[c] = true
	}
	return cols
}

func (v *validator) column(cols map[string]bool, name string, path []any) {
	if cols == nil {
		return
	}
	if name == "" {
		v.errorf(path, "a column name is required")
		return
	}
	if !cols[name] {
		names := make([]string, 0, len(cols))
		for c := range cols {
			names = append(names, c)
		}
		v.errorf(path, "unknown column %q%s (declare extra source columns under the side's columns:)", name, strictyaml.Suggest(name, names))
	}
}

func (v *validator) normalize(steps []string, path []any) {
	for i, s := range steps {
		if _, ok := normalizers[s]; !ok {
			v.errorf(append(path, i), "unknown normalisation %q%s (known: %s)", s, strictyaml.Suggest(s, NormalizerNames()), strings.Join(NormalizerNames(), ", "))
		}
	}
}

func (v *validator) decimal(s string, path []any, required bool) decimal.Decimal {
	if s == "" {
		if required {
			v.errorf(path, "a non-negative amount is required, e.g. \"0.01\"")
		}
		return decimal.Zero
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.IsNegative() {
		v.errorf(path, "%q is not a non-negative amount, e.g. \"0.01\"", s)
		return decimal.Zero
	}
	return d
}
