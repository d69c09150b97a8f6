package extract

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
)

// A CSV source's ordinal is the checked table's rowid, which follows the
// file only if DuckDB inserts in scan order (BATCH_CREATE_TABLE_AS). A join
// anywhere in the check query (an IN list or IN subquery is planned as one)
// makes DuckDB insert in parallel, out of order, and every line number after
// the first batch goes wrong. This test plans the check query of every
// canonical table, with every kind of check and mapping feature turned on.
func TestCheckedPlanKeepsFileOrder(t *testing.T) {
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := createSupportTables(ctx, db); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, table := range model.Tables() {
		for _, decimalComma := range []bool{false, true} {
			name := fmt.Sprintf("%s_dc%t", table.Name, decimalComma)
			src := config.Source{System: "s", Table: table.Name, File: filepath.Join(dir, name+".csv"),
				DecimalComma: decimalComma, DateFormat: "%d/%m/%Y", TimestampFormat: "%d/%m/%Y %H:%M",
				Values: map[string]map[string]string{}}
			var header []string
			for _, c := range table.Columns {
				header = append(header, c.Name)
				if len(c.Values) > 0 {
					src.Values[c.Name] = map[string]string{"X": c.Values[0]}
				}
				if c.Kind == model.Amount && src.FlipSign == nil {
					src.FlipSign = &config.FlipSign{Columns: []string{c.Name}, When: map[string]string{table.Columns[0].Name: "x"}}
				}
			}
			// A quoted header name with a space and a padded value, so that
			// the trimming variant is planned too.
			header = append(header, `"Note, free"`)
			data := strings.Join(header, ",") + "\n" + strings.Repeat(" x ,", len(header)-1) + "x\n"
			if err := os.WriteFile(src.File, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			st, err := stage(ctx, db, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			m, err := buildMapping(src, st.headers, st.trim)
			if err != nil {
				t.Fatal(err)
			}
			var plan strings.Builder
			eachPlanLine(t, db, "EXPLAIN CREATE TABLE checked AS "+m.checkedSQL(st, src), &plan)
			if !strings.Contains(plan.String(), "BATCH_CREATE_TABLE_AS") || strings.Contains(plan.String(), "JOIN") {
				t.Errorf("%s: the check query does not insert in file order:\n%s", name, plan.String())
			}
		}
	}
}

func eachPlanLine(t *testing.T, db *sql.DB, q string, out *strings.Builder) {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, plan string
		if err := rows.Scan(&kind, &plan); err != nil {
			t.Fatal(err)
		}
		out.WriteString(plan)
	}
}

// TestGoodAmountAgreesWithChecks: the pattern that lets a good amount skip
// the full checks must accept exactly the amounts the full checks accept
// (with a decimal comma it may leave some valid grouped ones to them).
func TestGoodAmountAgreesWithChecks(t *testing.T) {
	inputs := []string{"0", "00", "000.000", "1", "+1", "-1", "1.", ".5", "1.5", "1.50000", "1.00005", "1.2345", "1.23456",
		"12345678901234", "123456789012345", "0000012345678901234.5", "99999999999999.9999", "1e5", "1,5", "1,50000",
		"1,23456", "1.234,56", "1.234.567,89", "12.34", "1.234.567.890.123,4", "12.345.678.901.234,5", "1.234.567.890.1234",
		"1.2345.678", " 1", "1 ", "abc", "--1", "1.2.3", "1,2,3", "١٢٣", "+", "-", ","}
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, dc := range []bool{false, true} {
		for _, in := range inputs {
			q := fmt.Sprintf("SELECT regexp_full_match(t, %s), (%s) IS NULL FROM (SELECT %s AS t)",
				duck.Quote(goodAmount(dc)), amountProblem("t", "amount", dc), duck.Quote(in))
			var fast, ok bool
			if err := db.QueryRow(q).Scan(&fast, &ok); err != nil {
				t.Fatal(err)
			}
			if fast && !ok || !fast && ok && !dc {
				t.Errorf("decimal comma %t, %q: pattern %t, full checks accept %t", dc, in, fast, ok)
			}
		}
	}
}

// TestExtractDatasetOfTwoSources: two files of one dataset are written one
// after the other, each row traced to its own file and physical line.
func TestExtractDatasetOfTwoSources(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"finrecon.yaml": `
snapshots: snaps
systems:
  billing:
    sources:
      - {table: invoices, file: a.csv}
      - {table: invoices, file: b.csv, columns: {invoice_id: ID}}
`,
		"a.csv": "invoice_id,partner_id,currency,amount_total,issue_date,note\n" +
			"A1,P1,EUR,1.00,2026-10-01,\"two\nlines\"\n" +
			"A2,P1,EUR,2.00,2026-10-01,\n",
		"b.csv": "ID,partner_id,currency,amount_total,issue_date\n" +
			"\n" +
			"B1,P2,USD,3.00,2026-10-02\n" +
			"B2,P2,USD,bad,2026-10-02\n" +
			"B3,P2,USD,4.00,2026-10-02\n",
	})
	cfg, err := config.Load(filepath.Join(dir, "finrecon.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Config: cfg, AsOf: "2026-11-23"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"A1", "EUR", "1.0000", "2026-10-01", "a.csv:2"},
		{"A2", "EUR", "2.0000", "2026-10-01", "a.csv:4"},
		{"B1", "USD", "3.0000", "2026-10-02", "b.csv:3"},
		{"B3", "USD", "4.0000", "2026-10-02", "b.csv:5"},
	}
	if diff := cmp.Diff(want, readAccepted(t, filepath.Join(res.Dir, "billing.invoices.parquet"))); diff != "" {
		t.Errorf("accepted rows (-want +got):\n%s", diff)
	}
	wantRejects := []rejectRow{{"billing.invoices", "b.csv", 4, "amount_total", `malformed number "bad" for amount_total`}}
	if diff := cmp.Diff(wantRejects, readRejects(t, res.Dir)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
}

// TestExtractLinesAcrossBatches extracts files big enough for DuckDB to
// parse in several parallel batches, with many, a few or no quoted
// newlines and rejected records along the way, and checks every row's
// line, that rows are in line order, and that the dataset file is
// byte-identical whatever the number of threads. (Writing the checked rows
// in scan order without the sort keeps the order but not the bytes: the
// row groups follow how the threads split the CSV.)
func TestExtractLinesAcrossBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and extracts 300,000 rows three times")
	}
	const rows = 300_000
	for _, tc := range []struct {
		name                    string
		multiEvery, rejectEvery int
	}{
		{"many segments", 500, 1000},
		{"few segments", 100_000, 150_000},
		{"one segment", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "inv.csv")
			writeInvoicesEvery(t, path, rows, tc.multiEvery, tc.rejectEvery)
			cfg := &config.Config{Dir: dir, Systems: map[string]config.System{
				"billing": {Sources: []config.Source{{System: "billing", Table: "invoices", File: path}}},
			}}
			// Invoice i is on line 2+i, pushed down one line by each earlier
			// multi-line record (every multiEvery-th, from 0).
			line := "(2 + i)"
			if m := tc.multiEvery; m > 0 {
				line = fmt.Sprintf("(2 + i + CASE WHEN i > 0 THEN (i - 1) // %d + 1 ELSE 0 END)", m)
			}
			rejects := 0
			if tc.rejectEvery > 0 {
				rejects = rows / tc.rejectEvery
			}
			var sums []string
			for i, threads := range []int{1, 3} {
				res, err := Run(context.Background(), Options{Config: cfg, OutDir: filepath.Join(dir, fmt.Sprint("s", i)),
					AsOf: "2026-11-30", Duck: duck.Options{Threads: threads}})
				if err != nil {
					t.Fatal(err)
				}
				ds := res.Manifest.Datasets[0]
				sums = append(sums, ds.SHA256)
				if src := ds.Sources[0]; src.Read != rows || src.Rejected != int64(rejects) {
					t.Errorf("threads %d: read %d, rejected %d; want %d, %d", threads, src.Read, src.Rejected, rows, rejects)
				}
				q := `SELECT count(*) FILTER (WHERE _origin <> 'inv.csv:' || ` + line + `),
						count(*) FILTER (WHERE prev >= i)
					FROM (SELECT i, _origin, lag(i) OVER (ORDER BY file_row_number) AS prev
						FROM (SELECT substr(invoice_id, 2)::BIGINT AS i, _origin, file_row_number
							FROM read_parquet('` + filepath.Join(res.Dir, ds.File.File) + `', file_row_number = true)))`
				eachRow(t, q, func(r *sql.Rows) error {
					var wrongLine, outOfOrder int64
					if err := r.Scan(&wrongLine, &outOfOrder); err != nil {
						return err
					}
					if wrongLine > 0 || outOfOrder > 0 {
						t.Errorf("threads %d: %d rows traced to the wrong line, %d out of line order", threads, wrongLine, outOfOrder)
					}
					return nil
				})
				if rejects > 0 {
					var lines []int64
					for _, r := range readRejects(t, res.Dir) {
						lines = append(lines, r.Line)
					}
					// The first reject is invoice rejectEvery-1.
					r := int64(tc.rejectEvery - 1)
					want := 2 + r
					if m := int64(tc.multiEvery); m > 0 {
						want += (r-1)/m + 1
					}
					if len(lines) != rejects || lines[0] != want {
						t.Errorf("threads %d: reject lines start %v, want %d of them from %d", threads, lines[:min(3, len(lines))], rejects, want)
					}
				}
			}
			if sums[0] != sums[1] {
				t.Errorf("dataset differs between 1 and 3 threads: %s vs %s", sums[0], sums[1])
			}
		})
	}
}
