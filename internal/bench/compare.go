package bench

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// Agreement compares the baseline's output with an engine run's, row by
// row: every column of matches.parquet, and every column of breaks.parquet
// except the free-text detail and the review columns.
type Agreement struct {
	MatchesEngineOnly, MatchesBaselineOnly int64
	BreaksEngineOnly, BreaksBaselineOnly   int64
	// DetailsDiffer counts breaks (equal otherwise) whose detail text
	// differs: wording, not results.
	DetailsDiffer int64
}

// Same reports whether the two found the same matches and breaks.
func (a Agreement) Same() bool {
	return a.MatchesEngineOnly == 0 && a.MatchesBaselineOnly == 0 && a.BreaksEngineOnly == 0 && a.BreaksBaselineOnly == 0
}

func (a Agreement) String() string {
	return fmt.Sprintf("matches: %d only in the engine's, %d only in the baseline's; breaks: %d only in the engine's, %d only in the baseline's; %d details worded differently",
		a.MatchesEngineOnly, a.MatchesBaselineOnly, a.BreaksEngineOnly, a.BreaksBaselineOnly, a.DetailsDiffer)
}

const breakKey = `break_id, recon, pass, break_type, severity, side, left_system, left_id, right_system, right_id,
	partner_id, legal_entity, currency, left_amount, right_amount, difference, partner_name, left_origin, right_origin, fix_in`

// Compare reads both runs' files for recon and counts the differences.
func Compare(ctx context.Context, engineRun, baselineDir, recon string) (Agreement, error) {
	var a Agreement
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return a, err
	}
	defer db.Close()
	pq := func(dir, name string) string { return "read_parquet(" + duck.Quote(filepath.Join(dir, name)) + ")" }
	em, bm := pq(engineRun, run.MatchesParquet), pq(baselineDir, run.MatchesParquet)
	eb, bb := pq(engineRun, run.BreaksParquet), pq(baselineDir, run.BreaksParquet)
	r := duck.Quote(recon)
	qs := []struct {
		dst *int64
		q   string
	}{
		{&a.MatchesEngineOnly, fmt.Sprintf("SELECT count(*) FROM (SELECT * FROM %s WHERE recon = %s EXCEPT ALL SELECT * FROM %s)", em, r, bm)},
		{&a.MatchesBaselineOnly, fmt.Sprintf("SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s WHERE recon = %s)", bm, em, r)},
		{&a.BreaksEngineOnly, fmt.Sprintf("SELECT count(*) FROM (SELECT %[1]s FROM %[2]s WHERE recon = %[3]s EXCEPT ALL SELECT %[1]s FROM %[4]s)", breakKey, eb, r, bb)},
		{&a.BreaksBaselineOnly, fmt.Sprintf("SELECT count(*) FROM (SELECT %[1]s FROM %[2]s EXCEPT ALL SELECT %[1]s FROM %[3]s WHERE recon = %[4]s)", breakKey, bb, eb, r)},
		{&a.DetailsDiffer, fmt.Sprintf("SELECT count(*) FROM %s e JOIN %s b USING (break_id) WHERE e.recon = %s AND e.detail IS DISTINCT FROM b.detail", eb, bb, r)},
	}
	for _, x := range qs {
		if err := db.QueryRowContext(ctx, x.q).Scan(x.dst); err != nil {
			return a, fmt.Errorf("compare runs: %w", err)
		}
	}
	return a, nil
}
