package run

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/finrecon/finrecon/internal/duck"
)

// writeBreaks writes n breaks with ids b0000000, b0000001, … into
// dir/breaks.parquet, in the columns match writes.
func writeBreaks(t testing.TB, dir string, n int) {
	t.Helper()
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf(`COPY (SELECT printf('b%%07d', i) AS break_id, 'invoices' AS recon, NULL::VARCHAR AS pass,
		'unmatched' AS break_type, 'high' AS severity, 'left' AS side, 'billing.invoices' AS left_system,
		CAST(i AS VARCHAR) AS left_id, 'odoo.invoices' AS right_system, NULL::VARCHAR AS right_id,
		'P' || (i %% 97) AS partner_id, 'FR01' AS legal_entity, 'EUR' AS currency,
		CAST(CAST(i AS DECIMAL(18,4)) / 100 AS DECIMAL(18,4)) AS left_amount, NULL::DECIMAL(18,4) AS right_amount,
		CAST(CAST(i AS DECIMAL(18,4)) / 100 AS DECIMAL(18,4)) AS difference, DATE '2026-11-30' AS first_seen, 0::BIGINT AS age_days,
		'no odoo.invoices record matched ' || i AS detail, NULL::VARCHAR AS partner_name,
		'billing/invoices.csv:' || (i + 2) AS left_origin, NULL::VARCHAR AS right_origin, 'odoo.invoices' AS fix_in,
		1::BIGINT AS occurrences, false AS reopened, NULL::VARCHAR AS review_status,
		NULL::VARCHAR AS review_owner, NULL::VARCHAR AS review_comment
		FROM range(%d) t(i)) TO %s (FORMAT parquet)`, n, duck.Quote(filepath.Join(dir, BreaksParquet)))
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

func TestEachBreakReadsEveryBreakInFileOrderAcrossBatches(t *testing.T) {
	for _, n := range []int{0, 1, breakBatch - 1, breakBatch, 2*breakBatch + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			writeBreaks(t, dir, n)
			db, err := duck.Open(context.Background(), duck.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			i := 0
			err = EachBreak(context.Background(), db, dir, "", func(b *Break) error {
				if want := fmt.Sprintf("b%07d", i); b.ID != want {
					return fmt.Errorf("break %d is %s, want %s", i, b.ID, want)
				}
				if b.Occurrences != 1 || b.FixIn != "odoo.invoices" || !b.Difference.Valid {
					return fmt.Errorf("break %d read wrong: %+v", i, b)
				}
				i++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if i != n {
				t.Errorf("read %d breaks, want %d", i, n)
			}
		})
	}
}

// BenchmarkEachBreak reads a million breaks; heap-MB is the Go heap in use
// at the end, which stays flat with the batch size.
func BenchmarkEachBreak(b *testing.B) {
	dir := b.TempDir()
	const n = 1_000_000
	writeBreaks(b, dir, n)
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ResetTimer()
	for range b.N {
		count := 0
		if err := EachBreak(context.Background(), db, dir, "", func(*Break) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("read %d", count)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "breaks/s")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/1e6, "heap-MB")
}
