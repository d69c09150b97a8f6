package metrics

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
)

func demoSummary() *run.Summary {
	return &run.Summary{
		RunID: "r-20261130-0123456789ab", SnapshotID: "s-abc", AsOf: "2026-11-30",
		Recons: []run.ReconSummary{
			{Recon: "invoices", MatchRate: "0.9731", Breaks: []run.BreakCount{
				{Type: "amount_mismatch", Severity: "high", Count: 3},
				{Type: "unmatched", Severity: "medium", Count: 12},
			}},
			{Recon: "journal", MatchRate: "", Breaks: []run.BreakCount{}}, // no left rows
		},
	}
}

func TestFromRun(t *testing.T) {
	in := RunInfo{
		Version:  "1.2.3",
		ExitCode: 1,
		Finished: time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC),
		Sources: []Source{
			{System: "billing", Table: "invoices", Rows: 1000, Rejects: 2},
			{System: "odoo", Table: "invoices", Rows: 998},
		},
		Stages:            map[string]time.Duration{"extract": 1500 * time.Millisecond, "match": 42 * time.Second},
		OldestOpenAgeDays: map[string]int64{"invoices": 37, "journal": 0},
	}
	fams := parse(t, render(t, FromRun(demoSummary(), in)))
	want := map[string]map[string]float64{
		"finrecon_run_info":                   {"run_id=r-20261130-0123456789ab,snapshot_id=s-abc,version=1.2.3": 1},
		"finrecon_exit_code":                  {"": 1},
		"finrecon_last_run_timestamp_seconds": {"": 1796004000},
		"finrecon_source_rows":                {"system=billing,table=invoices": 1000, "system=odoo,table=invoices": 998},
		"finrecon_source_rejects":             {"system=billing,table=invoices": 2, "system=odoo,table=invoices": 0},
		"finrecon_breaks": {
			"recon=invoices,severity=high,type=amount_mismatch": 3,
			"recon=invoices,severity=medium,type=unmatched":     12,
		},
		"finrecon_match_rate":                 {"recon=invoices": 0.9731},
		"finrecon_oldest_open_break_age_days": {"recon=invoices": 37, "recon=journal": 0},
		"finrecon_stage_duration_seconds":     {"stage=extract": 1.5, "stage=match": 42},
	}
	got := map[string]map[string]float64{}
	for name := range fams {
		got[name] = samples(t, fams, name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

func TestFromRunWithoutSummary(t *testing.T) {
	// The command failed before match: cron still learns version and exit code.
	fams := parse(t, render(t, FromRun(nil, RunInfo{Version: "1.2.3", ExitCode: 3})))
	for _, name := range []string{"finrecon_breaks", "finrecon_match_rate", "finrecon_last_run_timestamp_seconds"} {
		if _, ok := fams[name]; ok {
			t.Errorf("%s written without a summary or finish time", name)
		}
	}
	if got := samples(t, fams, "finrecon_exit_code"); got[""] != 3 {
		t.Errorf("exit code = %v, want 3", got)
	}
}

func TestFromRunRejectsMalformedMatchRate(t *testing.T) {
	sum := demoSummary()
	sum.Recons[0].MatchRate = "97,31%"
	if err := FromRun(sum, RunInfo{}).Err(); err == nil {
		t.Error("a malformed match rate was accepted")
	}
}

func TestSnapshotSources(t *testing.T) {
	m := &snapshot.Manifest{Datasets: []snapshot.Dataset{
		{Name: "billing.invoices", Sources: []snapshot.Source{
			{Read: 10, Accepted: 9, Rejected: 1},
			{Read: 5, Accepted: 5},
		}},
		{Name: "risk.exposures", Sources: []snapshot.Source{{Read: 3, Accepted: 1, Rejected: 2}}},
	}}
	want := []Source{
		{System: "billing", Table: "invoices", Rows: 14, Rejects: 1},
		{System: "risk", Table: "exposures", Rows: 1, Rejects: 2},
	}
	if diff := cmp.Diff(want, SnapshotSources(m)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
