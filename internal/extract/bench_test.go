package extract

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
)

// writeInvoices writes n canonical invoice rows, one in 500 with a quoted
// multi-line field and one in 1000 with a malformed amount.
func writeInvoices(b *testing.B, path string, n int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "invoice_id,invoice_number,partner_id,partner_name,currency,amount_total,issue_date,status")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("Customer %d", i%997)
		if i%500 == 0 {
			name = "\"Two\nlines\""
		}
		amount := fmt.Sprintf("%d.%02d", 100+i%9000, i%100)
		if i%1000 == 999 {
			amount = "12,3"
		}
		fmt.Fprintf(w, "B%d,INV-%07d,P%d,%s,EUR,%s,2026-10-%02d,open\n", i, i, i%997, name, amount, 1+i%28)
	}
	w.Flush()
	f.Close()
}

// BenchmarkExtractCSV measures extraction (parse, line map, checks,
// rejects, Parquet) per row; compare rows/s with a bare DuckDB read_csv.
func BenchmarkExtractCSV(b *testing.B) {
	const rows = 200_000
	dir := b.TempDir()
	writeInvoices(b, filepath.Join(dir, "inv.csv"), rows)
	cfg := &config.Config{Dir: dir, Systems: map[string]config.System{
		"billing": {Sources: []config.Source{{System: "billing", Table: "invoices", File: filepath.Join(dir, "inv.csv")}}},
	}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), Options{Config: cfg, OutDir: filepath.Join(dir, fmt.Sprint("s", i)), AsOf: "2026-11-30"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkScanLines(b *testing.B) {
	path := filepath.Join(b.TempDir(), "inv.csv")
	writeInvoices(b, path, 200_000)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := scanLines(path, '"', true, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareDuckDBCopy is the baseline: DuckDB's read_csv straight to
// Parquet, typed, no checks and no rejects kept.
func BenchmarkBareDuckDBCopy(b *testing.B) {
	const rows = 200_000
	dir := b.TempDir()
	path := filepath.Join(dir, "inv.csv")
	writeInvoices(b, path, rows)
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := fmt.Sprintf(`COPY (SELECT * FROM read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
			columns = {'invoice_id': 'VARCHAR', 'invoice_number': 'VARCHAR', 'partner_id': 'VARCHAR', 'partner_name': 'VARCHAR',
			'currency': 'VARCHAR', 'amount_total': 'DECIMAL(18,4)', 'issue_date': 'DATE', 'status': 'VARCHAR'}, ignore_errors = true))
			TO %s (FORMAT parquet, COMPRESSION zstd)`, duck.Quote(path), duck.Quote(filepath.Join(dir, fmt.Sprint("out", i, ".parquet"))))
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
