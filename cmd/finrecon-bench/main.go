// Command finrecon-bench measures finrecon at scale (issue 6, `make bench`):
// it generates data sets with internal/synth, runs the real CLI's stages as
// child processes (extract, match, report, adjust), times them and records
// each child's peak RSS, and sets them against DuckDB baselines: a bare
// read_csv → COPY for extraction, and a hand-written SQL implementation of
// the invoices recon (internal/bench) for matching.
//
//	finrecon-bench -finrecon bin/finrecon -sizes 1000000,10000000
//	finrecon-bench -quick                      # 100k invoices, one run each
//
// Results go to stdout and, as JSON, to <dir>/results-<N>.json. The
// baseline and the CSV copy run as child processes of this program
// (`finrecon-bench baseline …`, `finrecon-bench csvcopy …`) so that they
// are measured the way finrecon is. Everything that needs memory (the
// generator, the comparison of outputs, DuckDB itself) runs in children
// too: on Linux a child's peak RSS (rusage) starts from its parent's at the
// fork, so the parent must stay small for the children's figures to be
// their own.
package main

import (
	"fmt"
	"os"
)

func main() {
	os.Exit(main1(os.Args[1:]))
}

func main1(args []string) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "baseline":
		err = baselineChild(args[1:])
	case len(args) > 0 && args[0] == "csvcopy":
		err = csvCopyChild(args[1:])
	case len(args) > 0 && args[0] == "generate":
		err = generateChild(args[1:])
	case len(args) > 0 && args[0] == "compare":
		err = compareChild(args[1:])
	case len(args) > 0 && args[0] == "duckdb-version":
		err = duckdbVersionChild()
	default:
		err = benchMain(args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "finrecon-bench:", err)
		return 1
	}
	return 0
}
