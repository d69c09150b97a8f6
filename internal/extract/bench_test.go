package extract

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
)

// writeInvoices writes n canonical invoice rows, one in 500 with a quoted
// multi-line field and one in 1000 with a malformed amount.
func writeInvoices(tb testing.TB, path string, n int) {
	tb.Helper()
	writeInvoicesEvery(tb, path, n, 500, 1000)
}

// writeInvoicesEvery writes n invoices with a two-line partner name on
// every multiEvery-th (from the first) and an amount that does not parse on
// every rejectEvery-th (from rejectEvery-1); 0 means none.
func writeInvoicesEvery(tb testing.TB, path string, n, multiEvery, rejectEvery int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "invoice_id,invoice_number,partner_id,partner_name,currency,amount_total,issue_date,status")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("Customer %d", i%997)
		if multiEvery > 0 && i%multiEvery == 0 {
			name = "\"Two\nlines\""
		}
		amount := fmt.Sprintf("%d.%02d", 100+i%9000, i%100)
		if rejectEvery > 0 && i%rejectEvery == rejectEvery-1 {
			amount = "12,3"
		}
		fmt.Fprintf(w, "B%d,INV-%07d,P%d,%s,EUR,%s,2026-10-%02d,open\n", i, i, i%997, name, amount, 1+i%28)
	}
	w.Flush()
	f.Close()
}

// BenchmarkExtractCSV measures extraction of one CSV source (parse, line
// map, checks, rejects, Parquet, manifest) against the bare baseline: the
// same file through DuckDB's read_csv straight to Parquet with the same
// writer settings, typed, no checks, no rejects kept. The baseline runs on
// an already open database (bare-ns/op, ratio) and, like Run, on a fresh
// one it opens and closes (bare-cold-ns/op, ratio-cold). The three alternate
// within each iteration so that all see the same machine; ns/op and rows/s
// are the extraction's.
//
//	go test ./internal/extract -run '^$' -bench ExtractCSV -benchtime 5x -count 3
func BenchmarkExtractCSV(b *testing.B) {
	for _, rows := range []int{200_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchExtractCSV(b, rows) })
	}
}

func benchExtractCSV(b *testing.B, rows int) {
	dir := b.TempDir()
	path := filepath.Join(dir, "inv.csv")
	writeInvoices(b, path, rows)
	cfg := &config.Config{Dir: dir, Systems: map[string]config.System{
		"billing": {Sources: []config.Source{{System: "billing", Table: "invoices", File: path}}},
	}}
	ctx := context.Background()
	open := func() *sql.DB {
		db, err := duck.Open(ctx, duck.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return db
	}
	warm := open()
	defer warm.Close()
	out := filepath.Join(dir, "bare.parquet")
	var extract, bare, cold time.Duration
	timed := func(total *time.Duration, fn func()) {
		start := time.Now()
		fn()
		*total += time.Since(start)
	}
	steps := []func(i int){
		func(i int) {
			timed(&extract, func() {
				if _, err := Run(ctx, Options{Config: cfg, OutDir: filepath.Join(dir, fmt.Sprint("s", i)), AsOf: "2026-11-30"}); err != nil {
					b.Fatal(err)
				}
			})
		},
		func(int) {
			b.StopTimer()
			timed(&bare, func() { bareCopy(b, warm, path, out) })
			b.StartTimer()
		},
		func(int) {
			b.StopTimer()
			timed(&cold, func() {
				db := open()
				bareCopy(b, db, path, out)
				db.Close()
			})
			b.StartTimer()
		},
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range steps {
			steps[(i+k)%len(steps)](i) // rotate which goes first
		}
	}
	b.ReportMetric(float64(rows*b.N)/extract.Seconds(), "rows/s")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(cold.Nanoseconds())/float64(b.N), "bare-cold-ns/op")
	b.ReportMetric(extract.Seconds()/bare.Seconds(), "ratio")
	b.ReportMetric(extract.Seconds()/cold.Seconds(), "ratio-cold")
}

// bareCopy is the baseline: read_csv with the dialect and types given, to
// Parquet with the snapshot's writer settings, dropping bad rows.
func bareCopy(b *testing.B, db *sql.DB, csvPath, out string) {
	q := fmt.Sprintf(`COPY (SELECT * FROM read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
		columns = {'invoice_id': 'VARCHAR', 'invoice_number': 'VARCHAR', 'partner_id': 'VARCHAR', 'partner_name': 'VARCHAR',
		'currency': 'VARCHAR', 'amount_total': 'DECIMAL(18,4)', 'issue_date': 'DATE', 'status': 'VARCHAR'}, ignore_errors = true))
		TO %s (%s)`, duck.Quote(csvPath), duck.Quote(out), parquetOptions)
	if _, err := db.Exec(q); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkScanLines(b *testing.B) {
	path := filepath.Join(b.TempDir(), "inv.csv")
	writeInvoices(b, path, 200_000)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := scanLines(path, comma, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHasPadding(b *testing.B) {
	path := filepath.Join(b.TempDir(), "inv.csv")
	writeInvoices(b, path, 200_000)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := hasPadding(path, comma); err != nil {
			b.Fatal(err)
		}
	}
}
