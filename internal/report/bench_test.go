package report

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// BenchmarkWorkbook writes the workbook of a synthetic run of 10k, 100k and
// 1M breaks (the last skipped with -short) and reports rows/s and the peak
// RSS of the write. Run it with
//
//	go test ./internal/report/ -run '^$' -bench Workbook -benchtime 1x -benchmem
//
// Issue 6's target is a million breaks in under 30 s in bounded memory.
func BenchmarkWorkbook(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("large run skipped with -short")
			}
			dir := syntheticRun(b, n)
			resetPeakRSS()
			cpu := cpuTime()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				out := filepath.Join(b.TempDir(), "report.xlsx")
				res, err := Write(context.Background(), Options{RunDir: dir, Out: out})
				if err != nil {
					b.Fatal(err)
				}
				if res.Breaks != int64(n) {
					b.Fatalf("wrote %d breaks, want %d", res.Breaks, n)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			// CPU seconds (all threads, DuckDB's included) tell more than wall
			// time on a machine shared with other work.
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			if rss := peakRSS(); rss > 0 {
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			}
		})
	}
}

// BenchmarkWorkbookCapped writes 1M breaks into a workbook capped at 100k:
// the cost of ranking by amount at stake.
func BenchmarkWorkbookCapped(b *testing.B) {
	if testing.Short() {
		b.Skip("large run skipped with -short")
	}
	dir := syntheticRun(b, 1_000_000)
	resetPeakRSS()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		out := filepath.Join(b.TempDir(), "report.xlsx")
		if _, err := Write(context.Background(), Options{RunDir: dir, Out: out, MaxBreaks: 100_000}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	}
}

// BenchmarkReadReview reads back an untouched workbook of 100k breaks.
func BenchmarkReadReview(b *testing.B) {
	const n = 100_000
	dir := syntheticRun(b, n)
	res, err := Write(context.Background(), Options{RunDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	want, err := run.ReadManifest(dir)
	if err != nil {
		b.Fatal(err)
	}
	orig, err := RunBreaks(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rv, err := ReadReview(context.Background(), res.Path, want, orig)
		if err != nil {
			b.Fatal(err)
		}
		if len(rv.Edits) != n || len(rv.Refusals) != 0 {
			b.Fatalf("%d edits, %d refusals (first: %v)", len(rv.Edits), len(rv.Refusals), rv.Refusals[:min(1, len(rv.Refusals))])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// syntheticRun writes a run of n breaks spread over four recons, seven
// types and three currencies, with every column filled as a real run's.
func syntheticRun(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	writeJSON(b, filepath.Join(dir, run.ManifestJSON), fixtureManifest)
	sum := fixtureSummary
	sum.Recons = nil
	for _, r := range []string{"exposure", "invoices", "ledger", "payments"} {
		sum.Recons = append(sum.Recons, run.ReconSummary{Recon: r, Left: "billing.invoices", Right: "odoo.invoices",
			LeftRows: int64(n), RightRows: int64(n), MatchRate: "0.9731"})
	}
	writeJSON(b, filepath.Join(dir, run.SummaryJSON), sum)
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf(`COPY (
	SELECT printf('%%016x', hash(i)) AS break_id,
		['exposure', 'invoices', 'ledger', 'payments'][i %% 4 + 1] AS recon,
		CASE WHEN i %% 3 = 0 THEN NULL ELSE 'exact' END AS pass,
		['unmatched', 'amount_mismatch', 'date_mismatch', 'status_mismatch', 'duplicate', 'ambiguous', 'stale_exposure'][i %% 7 + 1] AS break_type,
		['low', 'medium', 'high', 'critical'][i %% 4 + 1] AS severity,
		'both' AS side,
		'billing.invoices' AS left_system, 'INV-' || i AS left_id,
		'odoo.invoices' AS right_system, CAST(100000 + i AS VARCHAR) AS right_id,
		'C' || (i %% 5000) AS partner_id, 'FR01' AS legal_entity,
		['EUR', 'USD', 'JPY'][i %% 3 + 1] AS currency,
		CAST((i %% 1000003) / 100 AS DECIMAL(18,4)) AS left_amount,
		CAST((i %% 1000003) / 100 - (i %% 97) AS DECIMAL(18,4)) AS right_amount,
		CAST(i %% 97 AS DECIMAL(18,4)) AS difference,
		DATE '2026-11-30' - CAST(i %% 120 AS INTEGER) AS first_seen,
		CAST(i %% 120 AS BIGINT) AS age_days,
		'amount differs by ' || (i %% 97) || '.00 (tolerance 0.01); matched in pass exact on invoice_number = external_ref' AS detail,
		'Partner ' || (i %% 5000) || ' GmbH' AS partner_name,
		'billing/invoices_export.csv:' || i AS left_origin, 'odoo/invoices.csv:' || i AS right_origin,
		'odoo.invoices' AS fix_in, CAST(1 + i %% 5 AS BIGINT) AS occurrences, i %% 50 = 0 AS reopened,
		CASE WHEN i %% 10 = 0 THEN 'investigating' END AS review_status,
		CASE WHEN i %% 10 = 0 THEN 'alice' END AS review_owner,
		CASE WHEN i %% 20 = 0 THEN 'asked billing for the credit note' END AS review_comment
	FROM range(%d) t(i)
	ORDER BY recon, break_type, break_id
) TO %s (FORMAT parquet)`, n, duck.Quote(filepath.Join(dir, run.BreaksParquet)))
	if _, err := db.ExecContext(ctx, q); err != nil {
		b.Fatal(err)
	}
	return dir
}

// resetPeakRSS resets the kernel's peak RSS of this process (Linux), so
// peakRSS measures what follows and not the fixture's making.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns the process's peak resident set in bytes (Linux), 0 if
// unknown.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
