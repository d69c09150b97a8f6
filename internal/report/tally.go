package report

import (
	"slices"

	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/run"
)

// ageBuckets are the Summary's ageing columns: days since a break was first
// seen, both ends included; the last bucket has no upper end.
var ageBuckets = []struct {
	label    string
	min, max int64
}{
	{"0–7", 0, 7},
	{"8–30", 8, 30},
	{"31–60", 31, 60},
	{"61–90", 61, 90},
	{"90+", 91, -1},
}

// ageBucket returns the index in ageBuckets of a break aged days. A negative
// age (a first_seen after the as-of date, which a re-run of an older night
// can give) counts as new.
func ageBucket(days int64) int {
	for i := len(ageBuckets) - 1; i > 0; i-- {
		if days >= ageBuckets[i].min {
			return i
		}
	}
	return 0
}

// stake is a break's amount at stake: the absolute difference when it has
// one, otherwise the absolute amount of its left side, else of its right
// side. A break with no amount at all (an ambiguous candidate list, say) has
// none. The Summary sums it by currency; past Options.MaxBreaks the workbook
// keeps the breaks with the largest stakes.
func stake(b *run.Break) decimal.NullDecimal {
	for _, d := range []decimal.NullDecimal{b.Difference, b.LeftAmount, b.RightAmount} {
		if d.Valid {
			return decimal.NullDecimal{Decimal: d.Decimal.Abs(), Valid: true}
		}
	}
	return decimal.NullDecimal{}
}

// reconTally counts one recon's breaks.
type reconTally struct {
	breaks     int64
	byType     map[string]int64
	bySeverity map[string]int64
	byStatus   map[string]int64
	byAge      []int64
	stake      map[string]decimal.Decimal // by currency
}

// tally adds up every break of the run while it streams past, for the
// Summary sheet. Its size depends on the number of recons, types and
// currencies, never on the number of breaks.
type tally struct {
	recons     map[string]*reconTally
	types      map[string]bool
	currencies map[string]bool
	statuses   map[string]bool
}

func newTally() *tally {
	return &tally{recons: map[string]*reconTally{}, types: map[string]bool{},
		currencies: map[string]bool{}, statuses: map[string]bool{}}
}

func (t *tally) add(b *run.Break) {
	r := t.recons[b.Recon]
	if r == nil {
		r = &reconTally{byType: map[string]int64{}, bySeverity: map[string]int64{},
			byStatus: map[string]int64{}, byAge: make([]int64, len(ageBuckets)),
			stake: map[string]decimal.Decimal{}}
		t.recons[b.Recon] = r
	}
	r.breaks++
	r.byType[b.Type]++
	r.bySeverity[b.Severity]++
	status := reviewStatus(b)
	r.byStatus[status]++
	r.byAge[ageBucket(b.AgeDays)]++
	if s := stake(b); s.Valid {
		r.stake[b.Currency] = r.stake[b.Currency].Add(s.Decimal)
		t.currencies[b.Currency] = true
	}
	t.types[b.Type] = true
	t.statuses[status] = true
}

// reconNames returns the recons that have breaks or that sum names, sorted.
func (t *tally) reconNames(sum *run.Summary) []string {
	seen := map[string]bool{}
	for r := range t.recons {
		seen[r] = true
	}
	for _, r := range sum.Recons {
		seen[r.Recon] = true
	}
	return sortedKeys(seen)
}

// typeNames returns the break types seen: the built-in ones in model's
// order, then custom ones sorted.
func (t *tally) typeNames() []string {
	return knownFirst(model.BreakTypes, t.types)
}

// customTypes returns the break types seen that model does not define, each
// with the recons (sorted) that raised it.
func (t *tally) customTypes() map[string][]string {
	custom := map[string][]string{}
	for _, recon := range sortedKeys(t.recons) {
		for typ := range t.recons[recon].byType {
			if !slices.Contains(model.BreakTypes, typ) {
				custom[typ] = append(custom[typ], recon)
			}
		}
	}
	return custom
}

// statusNames returns the review statuses to count: the four of the
// workbook always, then any other value the break store carried over.
func (t *tally) statusNames() []string {
	names := append([]string(nil), ReviewStatuses...)
	for _, s := range sortedKeys(t.statuses) {
		if !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	return names
}

// severityNames returns the severities to count, highest first, then any
// value model does not know.
func (t *tally) severityNames() []string {
	known := model.SeverityNames()
	slices.Reverse(known)
	seen := map[string]bool{}
	for _, r := range t.recons {
		for s := range r.bySeverity {
			seen[s] = true
		}
	}
	names := append([]string(nil), known...)
	for _, s := range sortedKeys(seen) {
		if !slices.Contains(known, s) {
			names = append(names, s)
		}
	}
	return names
}

// knownFirst returns the keys of seen, those in order first (in that order),
// then the others sorted.
func knownFirst(order []string, seen map[string]bool) []string {
	var names []string
	for _, n := range order {
		if seen[n] {
			names = append(names, n)
		}
	}
	for _, n := range sortedKeys(seen) {
		if !slices.Contains(order, n) {
			names = append(names, n)
		}
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
