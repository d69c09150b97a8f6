package report

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// DefaultMaxBreaks is how many breaks a workbook holds at most, across all
// its recon sheets, unless Options.MaxBreaks says otherwise. Past it, the
// workbook holds the breaks with the largest amounts at stake and its
// Summary points to breaks.csv for the rest: a million rows is about what
// Excel still opens in reasonable time on an accountant's laptop.
const DefaultMaxBreaks = 1_000_000

// stakeSQL is stake() in SQL: the ranking key when the workbook cannot hold
// every break. The two must agree exactly.
const stakeSQL = "abs(coalesce(difference, left_amount, right_amount))"

// selection decides which breaks go into the workbook: all of them, or past
// the limit the limit largest by stake, ties broken by break_id. It is found
// before the breaks stream, so that they can still stream in file order
// (grouped by recon) and be filtered on the way.
type selection struct {
	total int64 // breaks in the run
	limit int64
	// The last break kept, in the order stake DESC NULLS LAST, break_id;
	// only set when total > limit.
	cutStake decimal.NullDecimal
	cutID    string
}

func (s *selection) truncated() bool { return s.total > s.limit }

// kept is the number of breaks the workbook holds.
func (s *selection) kept() int64 { return min(s.total, s.limit) }

// keep reports whether b ranks at or above the last break kept.
func (s *selection) keep(b *run.Break) bool {
	if !s.truncated() {
		return true
	}
	st := stake(b)
	switch {
	case !s.cutStake.Valid: // the cut falls among breaks without amounts
		return st.Valid || b.ID <= s.cutID
	case !st.Valid:
		return false
	}
	if c := st.Decimal.Cmp(s.cutStake.Decimal); c != 0 {
		return c > 0
	}
	return b.ID <= s.cutID
}

// selectBreaks counts the run's breaks and, when there are more than limit,
// finds the last one to keep. DuckDB ranks them with a top-N over two
// columns, so memory stays proportional to limit at worst and no full sort
// of the breaks is needed.
func selectBreaks(ctx context.Context, db *sql.DB, dir string, limit int64) (*selection, error) {
	file := filepath.Join(dir, run.BreaksParquet)
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("read breaks: %w (is this a run directory written by finrecon match?)", err)
	}
	path := duck.Quote(file)
	s := &selection{limit: limit}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+path+")").Scan(&s.total); err != nil {
		return nil, fmt.Errorf("count breaks: %w", err)
	}
	if !s.truncated() {
		return s, nil
	}
	q := fmt.Sprintf("SELECT %s AS stake, break_id FROM read_parquet(%s) ORDER BY stake DESC NULLS LAST, break_id LIMIT 1 OFFSET %d",
		stakeSQL, path, limit-1)
	var cut duck.Decimal
	if err := db.QueryRowContext(ctx, q).Scan(&cut, &s.cutID); err != nil {
		return nil, fmt.Errorf("rank breaks by amount: %w", err)
	}
	s.cutStake = decimal.NullDecimal{Decimal: cut.D, Valid: cut.Valid}
	return s, nil
}
