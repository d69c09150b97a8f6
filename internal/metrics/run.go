package metrics

import (
	"strings"
	"time"

	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
)

// RunInfo is what the command knows about one run besides its summary:
// facts from outside the run folder and from the wall clock, which the run
// itself must not depend on.
type RunInfo struct {
	Version string // tool version
	// ExitCode is the command's exit code (DESIGN §8): alert on it, since a
	// failed run may leave the other metrics incomplete.
	ExitCode int
	// Finished is when the command ended; the zero time leaves
	// finrecon_last_run_timestamp_seconds out.
	Finished time.Time
	Sources  []Source                 // rows per dataset, e.g. from SnapshotSources
	Stages   map[string]time.Duration // by stage: extract, match, report, adjust
	// OldestOpenAgeDays is the age of the oldest open break per recon, from
	// the break store (or max(age_days) of the run's breaks). Give 0 for a
	// recon with no open break, so its series does not vanish.
	OldestOpenAgeDays map[string]int64
}

// Source counts one dataset's rows: Read = Rows + Rejects.
type Source struct {
	System, Table string
	Rows          int64 // accepted into the snapshot
	Rejects       int64 // rejected, with a reason, into rejects.parquet
}

// SnapshotSources counts each dataset of a snapshot, summing its sources.
func SnapshotSources(m *snapshot.Manifest) []Source {
	out := make([]Source, 0, len(m.Datasets))
	for _, d := range m.Datasets {
		system, table, _ := strings.Cut(d.Name, ".")
		src := Source{System: system, Table: table}
		for _, s := range d.Sources {
			src.Rows += s.Accepted
			src.Rejects += s.Rejected
		}
		out = append(out, src)
	}
	return out
}

// FromRun builds the metrics of one run. sum may be nil when the command
// failed before match wrote a summary: the set then still says which
// version ran, when, and with which exit code.
func FromRun(sum *run.Summary, in RunInfo) *Set {
	s := &Set{}
	runInfo(s, sum, in)
	sources(s, in.Sources)
	if sum != nil {
		recons(s, sum)
	}
	ages(s, in.OldestOpenAgeDays)
	stages(s, in.Stages)
	return s
}

func runInfo(s *Set, sum *run.Summary, in RunInfo) {
	var runID, snapshotID string
	if sum != nil {
		runID, snapshotID = sum.RunID, sum.SnapshotID
	}
	s.Gauge("finrecon_run_info", "The last run: its id, snapshot and tool version (value always 1).").
		Set(Int(1), Label{"run_id", runID}, Label{"snapshot_id", snapshotID}, Label{"version", in.Version})
	s.Gauge("finrecon_exit_code", "Exit code of the last run: 0 no failing breaks, 1 failing breaks, 2 usage or configuration, 3 source or system failure.").
		Set(Int(int64(in.ExitCode)))
	if !in.Finished.IsZero() {
		s.Gauge("finrecon_last_run_timestamp_seconds", "When the last run finished, in Unix seconds.").
			Set(Timestamp(in.Finished))
	}
}

func sources(s *Set, srcs []Source) {
	rows := s.Gauge("finrecon_source_rows", "Rows of a dataset accepted into the snapshot.")
	rejects := s.Gauge("finrecon_source_rejects", "Rows of a dataset rejected with a reason (see the snapshot's rejects.parquet).")
	for _, src := range srcs {
		labels := []Label{{"system", src.System}, {"table", src.Table}}
		rows.Set(Int(src.Rows), labels...)
		rejects.Set(Int(src.Rejects), labels...)
	}
}

func recons(s *Set, sum *run.Summary) {
	breaks := s.Gauge("finrecon_breaks", "Breaks of the last run by reconciliation, break type and severity.")
	rate := s.Gauge("finrecon_match_rate", "Matched left rows over left rows, per reconciliation (0 to 1).")
	for _, r := range sum.Recons {
		for _, b := range r.Breaks {
			breaks.Set(Int(b.Count), Label{"recon", r.Recon}, Label{"type", b.Type}, Label{"severity", b.Severity})
		}
		// An empty rate means no left rows: no sample beats a made-up 0 or 1.
		if r.MatchRate == "" {
			continue
		}
		v, err := ParseValue(r.MatchRate)
		if err != nil {
			s.fail(err)
			continue
		}
		rate.Set(v, Label{"recon", r.Recon})
	}
}

func ages(s *Set, oldest map[string]int64) {
	g := s.Gauge("finrecon_oldest_open_break_age_days", "Age in days (as of the run's --as-of) of the oldest open break, per reconciliation.")
	for recon, days := range oldest {
		g.Set(Int(days), Label{"recon", recon})
	}
}

func stages(s *Set, durations map[string]time.Duration) {
	g := s.Gauge("finrecon_stage_duration_seconds", "Wall-clock duration of each stage of the last run.")
	for stage, d := range durations {
		g.Set(Seconds(d), Label{"stage", stage})
	}
}
