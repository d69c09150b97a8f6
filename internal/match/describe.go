package match

import (
	"fmt"
	"strings"

	"github.com/finrecon/finrecon/internal/rules"
)

// passDescription says in words what a pass matched on, for break details:
// "on invoice_number", "on partner_id, currency, amount_total within 0.01".
func passDescription(p rules.Pass) string {
	var parts []string
	for _, k := range p.Keys {
		parts = append(parts, k.String())
	}
	if f := p.Fuzzy; f != nil {
		parts = append(parts, fmt.Sprintf("%s similar to %s (%s)", f.Left, f.Right, f.Method))
	}
	if a := p.Amount; a != nil {
		what := a.Left
		if p.Cardinality != rules.OneToOne {
			what = "the total of " + a.Left
		}
		parts = append(parts, fmt.Sprintf("%s within %s", what, a.Tolerance))
		if a.Convert {
			parts[len(parts)-1] += " after conversion"
		}
	}
	if d := p.Date; d != nil {
		min, max := d.Bounds()
		if min == -max {
			parts = append(parts, fmt.Sprintf("%s within %d days", d.Left, max))
		} else {
			parts = append(parts, fmt.Sprintf("%s %d to %d days later than %s", d.Right, min, max, d.Left))
		}
	}
	desc := "on " + strings.Join(parts, ", ")
	if p.Cardinality != rules.OneToOne {
		desc += " (" + strings.ReplaceAll(p.Cardinality, "_", " ") + ")"
	}
	return desc
}
