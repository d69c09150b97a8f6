package strictyaml

import (
	"errors"
	"testing"
)

type doc struct {
	Name    string `yaml:"name"`
	Sources []struct {
		Table string `yaml:"table"`
	} `yaml:"sources"`
	Extra map[string]struct {
		Currency string `yaml:"currency"`
	} `yaml:"extra"`
}

func TestDecodeReportsPositionAndSuggestion(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"top-level typo", "nme: x\n", `f.yaml:1:1: unknown key "nme", maybe you mean "name"?`},
		{"nested in a list", "sources:\n  - tabel: x\n", `f.yaml:2:5: unknown key "tabel", maybe you mean "table"?`},
		{"inside a map value", "extra:\n  FR01: {curency: EUR}\n", `f.yaml:2:10: unknown key "curency", maybe you mean "currency"?`},
		{"nothing close", "zzzzzz: 1\n", `f.yaml:1:1: unknown key "zzzzzz"`},
		{"syntax error", "name: [\n", `f.yaml:1: did not find expected node content`},
		{"empty", "", `f.yaml: file is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			_, err := Decode("f.yaml", []byte(tt.input), &d)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error is not a *strictyaml.Error: %T", err)
			}
		})
	}
}

func TestDecodeAcceptsKnownKeys(t *testing.T) {
	var d doc
	if _, err := Decode("f.yaml", []byte("name: a\nsources: [{table: invoices}]\nextra: {FR01: {currency: EUR}}\n"), &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "a" || d.Sources[0].Table != "invoices" || d.Extra["FR01"].Currency != "EUR" {
		t.Errorf("decoded %+v", d)
	}
}

// FuzzDecode: any input gives a value or an error, never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"name: a\n", "sources:\n  - tabel: x\n", "extra: {a: {currency: 1}}", "- [", "&a [*a]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d doc
		Decode("f.yaml", []byte(s), &d)
	})
}
