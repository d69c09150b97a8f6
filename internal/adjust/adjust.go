// Package adjust turns the breaks of a run into a batch of proposed adjusting
// journal entries for Odoo (DESIGN §7).
//
// For every break whose rule declares an adjustment for the break's type, it
// proposes one balanced two-line entry that writes the difference off: for a
// positive difference (left exceeds right) the adjustment's account is
// debited, with the break's partner, and its counter account credited; a
// negative difference swaps the sides. A break gets no entry, and is listed
// as skipped with the reason, when its difference is missing, zero, above the
// rule's threshold, not representable in its currency's decimals, when its
// legal entity is not configured, or when its currency is not the entity's
// company currency (this first cut books company-currency differences only:
// a foreign-currency write-off needs a rate, and is posted by hand).
//
// A batch is written to one folder, each file written aside and renamed into
// place, so that a failure leaves no half-written file:
//
//   - adjustments.csv: the entries in the format of Odoo's import wizard for
//     account.move with line_ids (journal and accounts by code, partners by
//     name). Odoo appends every line again when the same file is imported a
//     second time, so a batch must be imported once only; the file cannot
//     say so itself (the wizard would read a comment as data), batch.json
//     does.
//   - adjustments.jsonl: one Record per entry, the payload of an
//     account.move create call with accounts, journal and partner still as
//     codes and references. The post command (not this package) resolves
//     them to Odoo ids, searches Odoo's ref for each entry's idempotency key
//     and creates only the entries not already there, as drafts.
//   - batch.json: the Batch header: where the batch comes from, the number
//     of entries, totals per currency, the skipped breaks and the
//     import-once warning.
//
// The batch is a pure function of the run: the batch id comes from the run
// id, entries follow the run's break order, and the idempotency key of an
// entry (finrecon:<recon>:<break_id>) comes from its break alone, so the same
// break gives the same key in every run. Building twice gives byte-identical
// files. Amounts are exact decimals throughout and written as strings.
//
// This package neither talks to Odoo nor checks lock dates, account codes or
// partner names against it: that is post's job.
package adjust

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
)

// Files of an adjustment batch.
const (
	CSVFile   = "adjustments.csv"
	JSONLFile = "adjustments.jsonl"
	BatchFile = "batch.json"
)

// Options say which run to build a batch for and where to write it.
type Options struct {
	// RunDir is a run written by match; its rule copies are in RunDir/rules.
	RunDir string
	// OutDir defaults to RunDir/adjustments.
	OutDir string
	// Entities maps a legal entity to its company currency (from the
	// config). A break of an entity not in it gets no entry.
	Entities map[string]config.Entity
}

// Result describes the batch written.
type Result struct {
	BatchID string
	Entries int
	// Skipped lists the breaks that had an adjustment rule but got no
	// entry, with the reason, in break order.
	Skipped []Skip
	// Files are the paths written: CSV, JSON Lines, batch header.
	Files []string
	// Totals are the debits and credits per currency, sorted by currency.
	Totals []CurrencyTotal
}

// Skip is a break that had an adjustment rule but got no entry.
type Skip struct {
	BreakID string `json:"break_id"`
	Reason  string `json:"reason"`
}

// CurrencyTotal sums the entries of one currency. Debit equals Credit.
type CurrencyTotal struct {
	Currency      string
	Debit, Credit decimal.Decimal
}

// Build writes the adjustment batch of the run in opts.RunDir.
func Build(ctx context.Context, opts Options) (*Result, error) {
	if opts.RunDir == "" {
		return nil, errors.New("adjust: no run directory given")
	}
	runDir, err := filepath.Abs(opts.RunDir)
	if err != nil {
		return nil, fmt.Errorf("adjust: %w", err)
	}
	outDir := opts.OutDir
	if outDir == "" {
		outDir = filepath.Join(runDir, run.AdjustDir)
	}
	m, set, err := readRun(runDir)
	if err != nil {
		return nil, err
	}
	b := newBuilder(m, set, opts.Entities)
	w, err := createBatch(outDir)
	if err != nil {
		return nil, err
	}
	defer w.abort() // a no-op once committed
	if err := b.eachEntry(ctx, runDir, w.writeEntry); err != nil {
		return nil, err
	}
	res := b.result()
	header := b.header(res)
	if err := w.commit(&header); err != nil {
		return nil, err
	}
	res.Files = w.paths()
	return res, nil
}

// readRun reads the run's manifest and the rules it used, and checks that
// those rules are the ones the manifest recorded.
func readRun(dir string) (*run.Manifest, *rules.Set, error) {
	m, err := run.ReadManifest(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("adjust: %w", err)
	}
	if m.RunID == "" {
		return nil, nil, fmt.Errorf("adjust: %s has no run_id", filepath.Join(dir, run.ManifestJSON))
	}
	if _, err := time.Parse(time.DateOnly, m.AsOf); err != nil {
		return nil, nil, fmt.Errorf("adjust: %s: as_of %q is not a YYYY-MM-DD date", filepath.Join(dir, run.ManifestJSON), m.AsOf)
	}
	set, err := rules.Load(filepath.Join(dir, run.RulesDir))
	if err != nil {
		return nil, nil, fmt.Errorf("adjust: the run's rules: %w", err)
	}
	if m.RulesHash != "" && set.Hash() != m.RulesHash {
		return nil, nil, fmt.Errorf("adjust: the rules in %s (hash %s) are not the ones run %s used (hash %s)",
			filepath.Join(dir, run.RulesDir), set.Hash(), m.RunID, m.RulesHash)
	}
	return m, set, nil
}

// eachEntry streams the run's breaks in break order and calls fn with the
// entry proposed for each eligible one; ineligible ones are recorded as
// skipped.
func (b *builder) eachEntry(ctx context.Context, runDir string, fn func(*entry) error) error {
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return fmt.Errorf("adjust: %w", err)
	}
	defer db.Close()
	// Nothing but our own query runs here, but reading is all it may do.
	if err := duck.LockDown(ctx, db, runDir); err != nil {
		return fmt.Errorf("adjust: %w", err)
	}
	err = run.EachBreak(ctx, db, runDir, "", func(brk *run.Break) error {
		e, err := b.add(brk)
		if err != nil || e == nil {
			return err
		}
		return fn(e)
	})
	if err != nil {
		return fmt.Errorf("adjust: %w", err)
	}
	return nil
}

// sortedTotals returns the per-currency totals, sorted by currency.
func sortedTotals(m map[string]*CurrencyTotal) []CurrencyTotal {
	out := make([]CurrencyTotal, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out
}
