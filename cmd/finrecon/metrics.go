package main

import (
	"context"
	"fmt"
	"time"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/match"
	"github.com/finrecon/finrecon/internal/metrics"
	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
	"github.com/finrecon/finrecon/internal/version"
)

// stages times a command's stages for its metrics.
type stages map[string]time.Duration

// time runs fn as stage name and records how long it took.
func (s stages) time(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	s[name] = time.Since(start)
	return err
}

// runMetrics is what a command that matched knows for --metrics-file.
type runMetrics struct {
	path     string
	stages   stages
	snapshot string // the snapshot folder matched, when known
	result   *match.Result
}

// write writes the metrics file for a command ending with err. A failure to
// write it is reported but does not change the command's exit code: the
// run itself succeeded or failed on its own terms.
func (m *runMetrics) write(ctx context.Context, err error, warn func(string, ...any)) {
	if m.path == "" {
		return
	}
	in := metrics.RunInfo{Version: version.Version, ExitCode: exitCode(err), Finished: time.Now(), Stages: m.stages}
	var sum *run.Summary
	if m.snapshot != "" {
		if snap, err := snapshot.Open(m.snapshot); err == nil {
			in.Sources = metrics.SnapshotSources(snap)
		}
	}
	if m.result != nil {
		sum = m.result.Summary
		ages, err := oldestAges(ctx, m.result)
		if err != nil {
			warn("metrics: oldest break ages", "err", err)
		}
		in.OldestOpenAgeDays = ages
	}
	if err := metrics.FromRun(sum, in).WriteFile(m.path); err != nil {
		warn(fmt.Sprintf("metrics file %s not written", m.path), "err", err)
	}
}

// oldestAges is the age of each recon's oldest break, 0 for a recon with
// none, so that its series stays.
func oldestAges(ctx context.Context, res *match.Result) (map[string]int64, error) {
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ages, err := run.OldestByRecon(ctx, db, res.Dir)
	if err != nil {
		return nil, err
	}
	for _, r := range res.Summary.Recons {
		if _, ok := ages[r.Recon]; !ok {
			ages[r.Recon] = 0
		}
	}
	return ages, nil
}
