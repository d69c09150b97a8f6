package model

import "fmt"

// Break types of DESIGN §6. A rule may declare custom types too.
const (
	Unmatched        = "unmatched"
	AmountMismatch   = "amount_mismatch"
	TaxMismatch      = "tax_mismatch"
	CurrencyMismatch = "currency_mismatch"
	DateMismatch     = "date_mismatch"
	StatusMismatch   = "status_mismatch"
	PartnerMismatch  = "partner_mismatch"
	Duplicate        = "duplicate"
	VersionConflict  = "version_conflict"
	LimitBreach      = "limit_breach"
	UnbalancedEntry  = "unbalanced_entry"
	Ambiguous        = "ambiguous"
	// TimingDifference is a pair matched across a period end: one side is
	// dated on or before it, the other just after (a payment in transit).
	TimingDifference = "timing_difference"
	// ProposedMatch is a pair a fuzzy pass proposes; a person confirms it.
	ProposedMatch = "proposed_match"
)

// BreakTypes lists the built-in break types.
var BreakTypes = []string{
	Unmatched, AmountMismatch, TaxMismatch, CurrencyMismatch, DateMismatch,
	StatusMismatch, PartnerMismatch, Duplicate, VersionConflict, LimitBreach,
	UnbalancedEntry, Ambiguous, TimingDifference, ProposedMatch,
}

// BreakColumns is the header of breaks.csv, in the order DESIGN §6 fixes.
var BreakColumns = []string{
	"break_id", "recon", "pass", "break_type", "severity", "side",
	"left_system", "left_id", "right_system", "right_id",
	"partner_id", "legal_entity", "currency",
	"left_amount", "right_amount", "difference",
	"first_seen", "age_days", "detail",
}

// Severity orders how much a break matters. The zero value is invalid.
type Severity int

const (
	Low Severity = iota + 1
	Medium
	High
	Critical
)

var severityNames = []string{"", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Low || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses low, medium, high or critical.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && n == s {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want low, medium, high or critical)", s)
}

// SeverityNames lists the severities from lowest to highest.
func SeverityNames() []string { return append([]string(nil), severityNames[1:]...) }
