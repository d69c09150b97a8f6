package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// fakeRun writes a run folder whose breaks.parquet holds ids (recon inv).
func fakeRun(t *testing.T, asOf string, ids ...string) (string, *run.Summary) {
	t.Helper()
	dir := t.TempDir()
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := "SELECT NULL::VARCHAR AS break_id, NULL::VARCHAR AS recon WHERE false"
	if len(ids) > 0 {
		vals := make([]string, len(ids))
		for i, id := range ids {
			vals[i] = "(" + duck.Quote(id) + ", 'inv')"
		}
		rows = "SELECT * FROM (VALUES " + strings.Join(vals, ", ") + ") t(break_id, recon)"
	}
	if _, err := db.Exec("COPY (" + rows + ") TO " + duck.Quote(filepath.Join(dir, run.BreaksParquet)) + " (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	return dir, &run.Summary{RunID: "r-" + asOf, AsOf: asOf, Recons: []run.ReconSummary{{Recon: "inv"}}}
}

type hist struct {
	ID          string
	First, Last string
	N           int64
	Resolved    string
	Reopened    bool
	Status      string
}

func history(t *testing.T, s *Store, asOf string) []hist {
	t.Helper()
	day, _ := time.Parse(time.DateOnly, asOf)
	path := filepath.Join(t.TempDir(), "h.parquet")
	if _, err := s.ExportHistory(context.Background(), day, path); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.Query(`SELECT break_id, strftime(first_seen, '%Y-%m-%d'), strftime(last_seen, '%Y-%m-%d'), occurrences,
		coalesce(strftime(resolved_on, '%Y-%m-%d'), ''), reopened, coalesce(review_status, '') FROM read_parquet(` + duck.Quote(path) + `) ORDER BY break_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []hist
	for rows.Next() {
		var h hist
		if err := rows.Scan(&h.ID, &h.First, &h.Last, &h.N, &h.Resolved, &h.Reopened, &h.Status); err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	return out
}

func record(t *testing.T, s *Store, asOf string, ids ...string) *Changes {
	t.Helper()
	dir, sum := fakeRun(t, asOf, ids...)
	ch, err := s.Record(context.Background(), dir, sum)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state", "breaks.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestHistoryAgesResolvesAndReopens(t *testing.T) {
	s := open(t)
	if got := record(t, s, "2026-11-01", "a", "b"); *got != (Changes{New: 2}) {
		t.Errorf("first run: %+v", got)
	}
	if got := record(t, s, "2026-11-02", "a"); *got != (Changes{Open: 1, Resolved: 1}) {
		t.Errorf("second run: %+v", got)
	}
	if got := record(t, s, "2026-11-03", "a", "b", "c"); *got != (Changes{New: 1, Open: 1, Reopened: 1}) {
		t.Errorf("third run: %+v", got)
	}
	want := []hist{
		{ID: "a", First: "2026-11-01", Last: "2026-11-03", N: 3},
		{ID: "b", First: "2026-11-01", Last: "2026-11-03", N: 2, Reopened: true},
		{ID: "c", First: "2026-11-03", Last: "2026-11-03", N: 1},
	}
	if diff := cmp.Diff(want, history(t, s, "2026-11-04")); diff != "" {
		t.Errorf("history as of 11-04 (-want +got):\n%s", diff)
	}
	// As of 11-03, b is resolved (11-02 did not report it) and c unknown.
	want = []hist{
		{ID: "a", First: "2026-11-01", Last: "2026-11-02", N: 2},
		{ID: "b", First: "2026-11-01", Last: "2026-11-01", N: 1, Resolved: "2026-11-02"},
	}
	if diff := cmp.Diff(want, history(t, s, "2026-11-03")); diff != "" {
		t.Errorf("history as of 11-03 (-want +got):\n%s", diff)
	}
}

func TestRerunOfADayReplacesIt(t *testing.T) {
	s := open(t)
	record(t, s, "2026-11-01", "a", "b")
	record(t, s, "2026-11-01", "a")
	want := []hist{{ID: "a", First: "2026-11-01", Last: "2026-11-01", N: 1}}
	if diff := cmp.Diff(want, history(t, s, "2026-11-02")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRunsRecordedOutOfOrderGiveTheSameHistory(t *testing.T) {
	inOrder, outOfOrder := open(t), open(t)
	for _, d := range []string{"2026-11-01", "2026-11-02", "2026-11-03"} {
		record(t, inOrder, d, "a", d)
	}
	for _, d := range []string{"2026-11-03", "2026-11-01", "2026-11-02"} {
		record(t, outOfOrder, d, "a", d)
	}
	if diff := cmp.Diff(history(t, inOrder, "2026-11-04"), history(t, outOfOrder, "2026-11-04")); diff != "" {
		t.Errorf("(-in order +out of order):\n%s", diff)
	}
}

func TestReviewsLatestWinsAndUnchangedEditsAreNotRepeated(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	record(t, s, "2026-11-01", "a", "b")
	n, err := s.SaveReviews(ctx, []Edit{
		{BreakID: "a", Status: "investigating", Owner: "marie", Comment: "asked billing"},
		{BreakID: "b", Status: "open"}, // as it was: not a change
	}, "r-1", "review.xlsx")
	if err != nil || n != 1 {
		t.Fatalf("SaveReviews = %d, %v; want 1 change", n, err)
	}
	n, err = s.SaveReviews(ctx, []Edit{{BreakID: "a", Status: "accepted", Owner: "marie", Comment: "timing"}}, "r-2", "review2.xlsx")
	if err != nil || n != 1 {
		t.Fatalf("SaveReviews = %d, %v; want 1 change", n, err)
	}
	got, err := s.Reviews(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Review{"a": {Status: "accepted", Owner: "marie", Comment: "timing"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if h := history(t, s, "2026-11-02"); h[0].Status != "accepted" {
		t.Errorf("history carries status %q, want accepted", h[0].Status)
	}
}

func TestStoreSurvivesReopening(t *testing.T) {
	path := filepath.Join(t.TempDir(), "breaks.duckdb")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	dir, sum := fakeRun(t, "2026-11-01", "a")
	if _, err := s.Record(ctx, dir, sum); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h := history(t, s, "2026-11-02"); len(h) != 1 {
		t.Errorf("after reopening: %v", h)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
}
