// Package metrics writes Prometheus text-format metrics for node_exporter's
// textfile collector: a small set of gauges and counters with labels,
// rendered in a deterministic order and replaced atomically on disk. It does
// not serve HTTP, keep state between runs or push anywhere.
package metrics

import (
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is a metric family's Prometheus type.
type Type string

// The types a Set writes. A batch job's per-run values are gauges; counters
// are for totals that only grow.
const (
	Counter Type = "counter"
	Gauge   Type = "gauge"
)

// Label is one label of a sample.
type Label struct {
	Name, Value string
}

// Value is a sample value, already formatted. Build it with Int, Float,
// Seconds or ParseValue: exact decimals stay exact in the file, so a money
// amount never passes through a float64 on its way there.
type Value struct{ s string }

// Int is an integer value.
func Int(n int64) Value { return Value{strconv.FormatInt(n, 10)} }

// Float is a value computed as a float (a ratio, a duration). NaN and ±Inf
// are written the way Prometheus reads them.
func Float(f float64) Value {
	switch {
	case math.IsNaN(f):
		return Value{"NaN"}
	case math.IsInf(f, 1):
		return Value{"+Inf"}
	case math.IsInf(f, -1):
		return Value{"-Inf"}
	}
	return Value{strconv.FormatFloat(f, 'g', -1, 64)}
}

// Seconds is a duration in seconds, exact to the nanosecond (no float
// rounding such as 0.30000000000000004).
func Seconds(d time.Duration) Value {
	return Value{exactFraction(int64(d), 9)}
}

// Timestamp is t in Unix seconds, exact to the millisecond.
func Timestamp(t time.Time) Value {
	return Value{exactFraction(t.UnixMilli(), 3)}
}

// exactFraction writes n / 10^places as a decimal without trailing zeros.
func exactFraction(n int64, places int) string {
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign, u = "-", uint64(-n) // two's complement: right even for MinInt64
	}
	digits := strconv.FormatUint(u, 10)
	if len(digits) <= places {
		digits = strings.Repeat("0", places-len(digits)+1) + digits
	}
	whole, frac := digits[:len(digits)-places], strings.TrimRight(digits[len(digits)-places:], "0")
	if frac == "" {
		return sign + whole
	}
	return sign + whole + "." + frac
}

// ParseValue accepts a number as text — a decimal string such as a match
// rate "0.9731" or an amount "-1234.5600" — and keeps it as written.
func ParseValue(s string) (Value, error) {
	// Prometheus parses values with strconv.ParseFloat; what it accepts here
	// it accepts in the file.
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return Value{}, fmt.Errorf("metrics: value %q is not a number", s)
	}
	return Value{s}, nil
}

// Set holds metric families and renders them. The zero Set is ready to use.
// Misuse (a bad name, a family declared twice with another type) is
// remembered and returned by WriteTo and WriteFile, so callers can declare
// and set metrics without checking an error at every line.
type Set struct {
	families map[string]*Family
	err      error
}

// Family is one metric name with its help, type and samples.
type Family struct {
	set     *Set
	name    string
	help    string
	typ     Type
	samples map[string]sample // by rendered label set
}

type sample struct {
	labels []Label // sorted by name
	value  Value
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Gauge declares (or returns, if already declared alike) a gauge family.
func (s *Set) Gauge(name, help string) *Family { return s.family(name, help, Gauge) }

// Counter declares (or returns, if already declared alike) a counter family.
func (s *Set) Counter(name, help string) *Family { return s.family(name, help, Counter) }

func (s *Set) family(name, help string, typ Type) *Family {
	if f, ok := s.families[name]; ok {
		if f.typ != typ || f.help != help {
			s.fail(fmt.Errorf("metrics: %s declared twice, as %s and as %s (or with another help text)", name, f.typ, typ))
			return &Family{name: name, typ: typ} // detached: its samples go nowhere
		}
		return f
	}
	f := &Family{set: s, name: name, help: help, typ: typ, samples: map[string]sample{}}
	if !metricName.MatchString(name) {
		s.fail(fmt.Errorf("metrics: %q is not a valid metric name", name))
		f.set = nil
		return f
	}
	if !utf8.ValidString(help) {
		s.fail(fmt.Errorf("metrics: %s: help text is not valid UTF-8", name))
		f.set = nil
		return f
	}
	if s.families == nil {
		s.families = map[string]*Family{}
	}
	s.families[name] = f
	return f
}

func (s *Set) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Err returns the first misuse of the set, if any.
func (s *Set) Err() error { return s.err }

// Set sets the sample with these labels to v, replacing an earlier value
// for the same label set. Label order does not matter.
func (f *Family) Set(v Value, labels ...Label) {
	if f.set == nil {
		return
	}
	if v.s == "" {
		f.set.fail(fmt.Errorf("metrics: %s: value not set (use Int, Float, Seconds or ParseValue)", f.name))
		return
	}
	sorted := slices.Clone(labels)
	slices.SortFunc(sorted, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	if err := checkLabels(sorted); err != nil {
		f.set.fail(fmt.Errorf("metrics: %s: %w", f.name, err))
		return
	}
	f.samples[renderLabels(sorted)] = sample{labels: sorted, value: v}
}

// checkLabels checks sorted labels for names Prometheus rejects.
func checkLabels(sorted []Label) error {
	for i, l := range sorted {
		switch {
		case !labelName.MatchString(l.Name):
			return fmt.Errorf("%q is not a valid label name", l.Name)
		case strings.HasPrefix(l.Name, "__"):
			return fmt.Errorf("label name %q is reserved (starts with __)", l.Name)
		case i > 0 && sorted[i-1].Name == l.Name:
			return fmt.Errorf("label %q given twice", l.Name)
		case !utf8.ValidString(l.Value):
			return fmt.Errorf("label %s: value is not valid UTF-8", l.Name)
		}
	}
	return nil
}

// WriteTo writes the set in the text exposition format: families by name,
// samples by label values, no timestamps (the textfile collector refuses
// them). Families without samples are left out.
func (s *Set) WriteTo(w io.Writer) (int64, error) {
	if s.err != nil {
		return 0, s.err
	}
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(s.families)) {
		f := s.families[name]
		if len(f.samples) == 0 {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, helpEscaper.Replace(f.help), name, f.typ)
		for _, smp := range f.sortedSamples() {
			fmt.Fprintf(&b, "%s%s %s\n", name, renderLabels(smp.labels), smp.value.s)
		}
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func (f *Family) sortedSamples() []sample {
	out := make([]sample, 0, len(f.samples))
	for _, smp := range f.samples {
		out = append(out, smp)
	}
	slices.SortFunc(out, func(a, b sample) int {
		return slices.CompareFunc(a.labels, b.labels, func(x, y Label) int {
			if c := strings.Compare(x.Name, y.Name); c != 0 {
				return c
			}
			return strings.Compare(x.Value, y.Value)
		})
	})
	return out
}

var (
	// The text format escapes backslash and newline in HELP, and also the
	// double quote in label values.
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// renderLabels writes {a="x",b="y"}, or nothing for no labels. Escaping is
// one-to-one, so the rendering also serves as the sample's identity.
func renderLabels(sorted []Label) string {
	if len(sorted) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range sorted {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(valueEscaper.Replace(l.Value))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
