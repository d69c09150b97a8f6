// Command synth writes a synthetic finrecon data set with planted breaks and
// their exact truth (see internal/synth):
//
//	go run ./cmd/synth -out /tmp/synth -invoices 100000 -seed 1 -as-of 2026-11-30
//	finrecon run --config /tmp/synth/finrecon.yaml --as-of 2026-11-30
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/finrecon/finrecon/internal/synth"
)

func main() {
	out := flag.String("out", "", "folder to write the data set into (required)")
	invoices := flag.Int("invoices", 100000, "number of billing invoices")
	seed := flag.Uint64("seed", 1, "random seed")
	asOf := flag.String("as-of", "2026-11-30", "period end the run uses as --as-of (YYYY-MM-DD)")
	rules := flag.String("rules", "", "rules folder to name in finrecon.yaml (default: none)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: synth -out DIR [-invoices N] [-seed S] [-as-of YYYY-MM-DD] [-rules DIR]")
		os.Exit(2)
	}
	day, err := time.Parse(time.DateOnly, *asOf)
	if err != nil {
		fmt.Fprintf(os.Stderr, "synth: -as-of %q: want YYYY-MM-DD\n", *asOf)
		os.Exit(2)
	}
	rulesDir := *rules
	if rulesDir != "" {
		if rulesDir, err = filepath.Abs(rulesDir); err != nil {
			fmt.Fprintln(os.Stderr, "synth:", err)
			os.Exit(1)
		}
	}
	start := time.Now()
	st, err := synth.Generate(*out, synth.Options{Invoices: *invoices, Seed: *seed, AsOf: day, RulesDir: rulesDir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
	elapsed := time.Since(start)
	fmt.Print(st)
	fmt.Printf("wrote %d rows in %s (%.0f rows/s)\n", st.Rows(), elapsed.Round(time.Millisecond), float64(st.Rows())/elapsed.Seconds())
}
