package metrics

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads text the way Prometheus does, with the classic (legacy) name
// rules that node_exporter's textfile collector applies.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("Prometheus parser rejects the output: %v\n%s", err, text)
	}
	return fams
}

// samples flattens a family to "label=value,…" → value for assertions.
func samples(t *testing.T, fams map[string]*dto.MetricFamily, name string) map[string]float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("family %s missing", name)
	}
	out := map[string]float64{}
	for _, m := range f.GetMetric() {
		var key []string
		for _, l := range m.GetLabel() {
			key = append(key, l.GetName()+"="+l.GetValue())
		}
		v := m.GetGauge().GetValue()
		if f.GetType() == dto.MetricType_COUNTER {
			v = m.GetCounter().GetValue()
		}
		out[strings.Join(key, ",")] = v
	}
	return out
}

func render(t *testing.T, s *Set) string {
	t.Helper()
	var b strings.Builder
	if _, err := s.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteToIsSortedTextFormat(t *testing.T) {
	var s Set
	// Declared and set out of order on purpose.
	rows := s.Gauge("b_rows", "Rows.")
	rows.Set(Int(7), Label{"table", "payments"}, Label{"system", "odoo"})
	rows.Set(Int(3), Label{"system", "billing"}, Label{"table", "invoices"})
	s.Counter("a_total", "Things done.").Set(Int(2))
	s.Gauge("c_empty", "Never set: left out.")
	want := `# HELP a_total Things done.
# TYPE a_total counter
a_total 2
# HELP b_rows Rows.
# TYPE b_rows gauge
b_rows{system="billing",table="invoices"} 3
b_rows{system="odoo",table="payments"} 7
`
	if diff := cmp.Diff(want, render(t, &s)); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestSetReplacesSameLabelSet(t *testing.T) {
	var s Set
	g := s.Gauge("x", "X.")
	g.Set(Int(1), Label{"a", "1"}, Label{"b", "2"})
	g.Set(Int(5), Label{"b", "2"}, Label{"a", "1"})
	got := samples(t, parse(t, render(t, &s)), "x")
	if diff := cmp.Diff(map[string]float64{"a=1,b=2": 5}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLabelValuesAndHelpAreEscaped(t *testing.T) {
	tricky := "say \"hi\"\\path\nnext line – ünïcode"
	var s Set
	s.Gauge("finrecon_breaks", "Help with a \\ backslash\nand a newline.").Set(Int(1), Label{"recon", tricky})
	text := render(t, &s)
	if strings.Count(text, "\n") != 3 {
		t.Errorf("a raw newline leaked into the output:\n%s", text)
	}
	fams := parse(t, text)
	if got := fams["finrecon_breaks"].GetHelp(); got != "Help with a \\ backslash\nand a newline." {
		t.Errorf("help round trip = %q", got)
	}
	if got := fams["finrecon_breaks"].GetMetric()[0].GetLabel()[0].GetValue(); got != tricky {
		t.Errorf("label round trip = %q, want %q", got, tricky)
	}
}

func TestOutputIsDeterministic(t *testing.T) {
	build := func(order []string) string {
		var s Set
		for _, r := range order {
			s.Gauge("finrecon_match_rate", "Rate.").Set(Int(1), Label{"recon", r})
			s.Gauge("finrecon_breaks", "Breaks.").Set(Int(2), Label{"recon", r}, Label{"type", "unmatched"})
		}
		return render(t, &s)
	}
	a := build([]string{"payments", "a b", "a", "invoices"})
	b := build([]string{"invoices", "a", "payments", "a b"})
	if a != b {
		t.Errorf("output depends on insertion order:\n%s\n---\n%s", a, b)
	}
}

func TestValues(t *testing.T) {
	parsed := func(s string) Value {
		v, err := ParseValue(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		v    Value
		want string
	}{
		{"int", Int(-42), "-42"},
		{"float", Float(0.25), "0.25"},
		{"nan", Float(math.NaN()), "NaN"},
		{"inf", Float(math.Inf(1)), "+Inf"},
		{"seconds exact", Seconds(300 * time.Millisecond), "0.3"},
		{"seconds whole", Seconds(2 * time.Minute), "120"},
		{"seconds tiny", Seconds(time.Nanosecond), "0.000000001"},
		{"seconds negative", Seconds(-1500 * time.Millisecond), "-1.5"},
		{"timestamp", Timestamp(time.Date(2026, 11, 30, 2, 0, 0, 123e6, time.UTC)), "1796004000.123"},
		{"decimal kept as written", parsed("1234.5600"), "1234.5600"},
	}
	for _, tt := range tests {
		if tt.v.s != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.v.s, tt.want)
		}
	}
	if _, err := ParseValue("12,50"); err == nil {
		t.Error("ParseValue accepted 12,50")
	}
}

func TestMisuseIsReportedOnWrite(t *testing.T) {
	tests := map[string]func(s *Set){
		"bad metric name": func(s *Set) { s.Gauge("finrecon-rows", "x").Set(Int(1)) },
		"bad label name":  func(s *Set) { s.Gauge("x", "x").Set(Int(1), Label{"re-con", "a"}) },
		"reserved label":  func(s *Set) { s.Gauge("x", "x").Set(Int(1), Label{"__name__", "a"}) },
		"label twice":     func(s *Set) { s.Gauge("x", "x").Set(Int(1), Label{"a", "1"}, Label{"a", "2"}) },
		"bad utf-8 value": func(s *Set) { s.Gauge("x", "x").Set(Int(1), Label{"a", "\xff"}) },
		"zero value":      func(s *Set) { s.Gauge("x", "x").Set(Value{}) },
		"redeclared type": func(s *Set) { s.Gauge("x", "x"); s.Counter("x", "x").Set(Int(1)) },
		"redeclared help": func(s *Set) { s.Gauge("x", "x"); s.Gauge("x", "y").Set(Int(1)) },
	}
	for name, misuse := range tests {
		t.Run(name, func(t *testing.T) {
			var s Set
			misuse(&s)
			if _, err := s.WriteTo(&strings.Builder{}); err == nil {
				t.Error("WriteTo succeeded")
			}
			if s.Err() == nil {
				t.Error("Err is nil")
			}
		})
	}
}
