package rules

import (
	"strings"
	"testing"
)

const base = `recon: inv
left: {dataset: billing.invoices}
right: {dataset: odoo.invoices}
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"misspelt key", base + "pases: []\n", `r.yaml:4:1: unknown key "pases", maybe you mean "passes"?`},
		{"unknown column", base + "passes:\n  - name: p\n    keys: [{left: invoice_numbr, right: external_ref}]\n",
			`r.yaml:6:19: unknown column "invoice_numbr", maybe you mean "invoice_number"?`},
		{"unknown dataset table", "left: {dataset: billing.invoice}\n", `unknown table "invoice"`},
		{"bad normalisation", base + "passes:\n  - name: p\n    keys: [{left: invoice_number, right: external_ref, normalize: [uper]}]\n",
			`unknown normalisation "uper", maybe you mean "upper"?`},
		{"negative tolerance", base + "passes:\n  - name: p\n    amount: {left: amount_total, right: amount_total, tolerance: \"-1\"}\n",
			`"-1" is not a non-negative amount`},
		{"duplicate pass", base + "passes:\n  - {name: p, keys: [{left: partner_id, right: partner_id}]}\n  - {name: p, keys: [{left: partner_id, right: partner_id}]}\n",
			`pass "p" is declared twice`},
		{"bad severity", base + "severity: {unmatched: urgent}\n", `unknown severity "urgent"`},
		{"adjustment without accounts", base + "adjust:\n  amount_mismatch: {max_difference: \"1\", journal: MISC}\n", "needs account"},
		{"severity for a type the rule never raises", base + "severity: {amount_mismatc: high}\n",
			`r.yaml:4:28: severity: recon inv raises no break of type "amount_mismatc", maybe you mean "amount_mismatch"?`},
		{"adjustment for a type the rule never raises", base + "adjust:\n  tax_mismatc: {max_difference: \"1\", journal: MISC, account: \"1\", counter_account: \"2\"}\n",
			`adjust: recon inv raises no break of type "tax_mismatc", maybe you mean "tax_mismatch"?`},
		{"two comparisons raising one type", base + "compare:\n  - {left: amount_total, right: amount_total, break: amount_mismatch}\n  - {left: amount_tax, right: amount_tax, break: amount_mismatch}\n",
			`compare 2 raises amount_mismatch too (so does compare 1)`},
		{"convert without a date", base + "rates: {dataset: odoo.rates}\npasses:\n  - name: p\n    amount: {left: amount_total, right: amount_total, tolerance: \"0.01\", convert: true}\n",
			`convert needs the pass's date`},
		{"duplicate side", base + "duplicates: [{side: middle, keys: [external_ref]}]\n", `side "middle": want left, right or both`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v\nwant an error containing %s", err, tt.want)
			}
		})
	}
}

func TestSeverityFallsBackToDefaults(t *testing.T) {
	r, err := Parse("r.yaml", []byte(base+"severity: {default: low, duplicate: critical}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.SeverityOf("duplicate").String(); got != "critical" {
		t.Errorf("duplicate: %s", got)
	}
	if got := r.SeverityOf("unmatched").String(); got != "low" {
		t.Errorf("unmatched falls back to the rule default: %s", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(base + "passes:\n  - {name: p, keys: [{left: partner_id, right: partner_id}]}\n")
	f.Fuzz(func(t *testing.T, s string) {
		Parse("r.yaml", []byte(s))
	})
}
