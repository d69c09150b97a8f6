package config

import (
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no systems", "rules: [r]\n", "no systems"},
		{"unknown table", "systems:\n  b:\n    sources:\n      - {table: invoice, file: x.csv}\n",
			`c.yaml:4:10: table "invoice" is not canonical, maybe you mean "invoices"?`},
		{"unknown canonical column", "systems:\n  b:\n    sources:\n      - table: invoices\n        file: x.csv\n        columns: {amount_totl: Gross}\n",
			`columns: "amount_totl" is not a column of invoices, maybe you mean "amount_total"?`},
		{"flip a non-amount", "systems:\n  b:\n    sources:\n      - table: invoices\n        file: x.csv\n        flip_sign: {columns: [status]}\n",
			`flip_sign: "status" is not an amount column of invoices`},
		{"bad entity currency", "entities: {FR01: {currency: EURO}}\nsystems: {b: {dir: d}}\n", `entity FR01: unknown currency "EURO"`},
		{"bad fail_on", "fail_on: severe\nsystems: {b: {dir: d}}\n", `fail_on: unknown severity "severe"`},
		{"bad format", "systems:\n  b:\n    sources:\n      - {table: invoices, file: x.txt}\n", `format "txt": want one of csv, jsonl, parquet, xlsx`},
		{"two-char delimiter", "systems:\n  b:\n    sources:\n      - {table: invoices, file: x.csv, csv: {delimiter: ';;'}}\n", "csv delimiter must be a single character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v\nwant an error containing %s", err, tt.want)
			}
		})
	}
}

func TestDemoConfigLoads(t *testing.T) {
	cfg, err := Load("../../fixtures/demo/finrecon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := cfg.AllSources()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range srcs {
		got = append(got, s.Dataset().String())
	}
	want := "billing.invoices billing.payments odoo.invoices odoo.journal_lines odoo.payments risk.exposures"
	if strings.Join(got, " ") != want {
		t.Errorf("datasets %v, want %s", got, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("systems:\n  b:\n    sources:\n      - {table: invoices, file: x.csv}\n")
	f.Add("entities: {FR01: {currency: EUR}}\nsystems: {b: {dir: d}}\n")
	f.Fuzz(func(t *testing.T, s string) {
		Parse("c.yaml", []byte(s))
	})
}
