package extract

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
)

// writeFiles creates files under dir from a name -> content map.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type rejectRow struct {
	Dataset, File string
	Line          int64
	Column        string
	Reason        string
}

func readRejects(t *testing.T, snapDir string) []rejectRow {
	t.Helper()
	var out []rejectRow
	q := "SELECT dataset, file, line, \"column\", reason FROM read_parquet('" + filepath.Join(snapDir, "rejects.parquet") + "') ORDER BY file, line"
	eachRow(t, q, func(rows *sql.Rows) error {
		var r rejectRow
		err := rows.Scan(&r.Dataset, &r.File, &r.Line, &r.Column, &r.Reason)
		out = append(out, r)
		return err
	})
	return out
}

// eachRow runs q in a fresh DuckDB and calls scan for every row.
func eachRow(t *testing.T, q string, scan func(rows *sql.Rows) error) {
	t.Helper()
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestExtractRejectsBadRowsAndKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"finrecon.yaml": `
snapshots: snaps
systems:
  billing:
    sources:
      - table: invoices
        file: inv.csv
        csv: {delimiter: ";"}
        decimal_comma: true
        date_format: "%d/%m/%Y"
        columns: {invoice_id: ID, partner_id: Customer, amount_total: Gross, issue_date: Issued, currency: Cur}
`,
		"inv.csv": "ID;Customer;Gross;Issued;Cur;Note\n" +
			"1;C1;100,50;01/10/2026;EUR;plain\n" +
			"2;C2;12,34,5;01/10/2026;EUR;malformed amount\n" +
			"3;C3;1.234,56;31/02/2026;EUR;impossible date\n" +
			"4;C4;10,00;01/10/2026;EUX;unknown currency\n" +
			"5;;10,00;01/10/2026;EUR;missing partner\n" +
			"6;C6;10,00;01/10/2026;EUR;too;many\n" +
			"7;C7;\"7,00\";02/10/2026;EUR;\"multi\nline note\"\n" +
			"8;C8;1,23456;02/10/2026;EUR;too precise\n" +
			"9;C9;bad\xff;02/10/2026;EUR;bad utf8\n" +
			"10;C10;3,00;03/10/2026;usd;lower-case currency is fine\n",
	})
	cfg, err := config.Load(filepath.Join(dir, "finrecon.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Config: cfg, AsOf: "2026-11-23"})
	if err != nil {
		t.Fatal(err)
	}
	want := []rejectRow{
		{"billing.invoices", "inv.csv", 3, "Gross", `malformed number "12,34,5" for amount_total`},
		{"billing.invoices", "inv.csv", 4, "Issued", `impossible or malformed date "31/02/2026" for issue_date (expected %d/%m/%Y)`},
		{"billing.invoices", "inv.csv", 5, "Cur", `unknown currency "EUX" (want an ISO 4217 code such as EUR)`},
		{"billing.invoices", "inv.csv", 6, "Customer", "missing required value for partner_id"},
		{"billing.invoices", "inv.csv", 7, "", "wrong column count: expected number of columns: 6 found: 7"},
		{"billing.invoices", "inv.csv", 10, "Gross", `amount_total "1,23456" has more than 4 decimals`},
		{"billing.invoices", "inv.csv", 11, "Gross", "invalid UTF-8: the file must be UTF-8 encoded"},
	}
	if diff := cmp.Diff(want, readRejects(t, res.Dir)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	src := res.Manifest.Datasets[0].Sources[0]
	if src.Read != 10 || src.Accepted != 3 || src.Rejected != 7 {
		t.Errorf("counts read=%d accepted=%d rejected=%d, want 10 = 3 + 7", src.Read, src.Accepted, src.Rejected)
	}
}

func readAccepted(t *testing.T, file string) [][]string {
	t.Helper()
	var out [][]string
	q := "SELECT invoice_id, currency, amount_total::VARCHAR, issue_date::VARCHAR, _origin FROM read_parquet('" + file + "')"
	eachRow(t, q, func(rows *sql.Rows) error {
		r := make([]string, 5)
		out = append(out, r)
		return rows.Scan(&r[0], &r[1], &r[2], &r[3], &r[4])
	})
	return out
}

func TestExtractAcceptedRowsTraceToTheirLine(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"finrecon.yaml": `
snapshots: snaps
systems:
  billing:
    sources:
      - table: invoices
        file: inv.csv
        columns: {invoice_id: ID, partner_id: Customer, amount_total: Gross, issue_date: Issued, currency: Cur, kind: Type}
        values: {kind: {CN: credit_note, INV: invoice}}
        flip_sign: {columns: [amount_total], when: {kind: credit_note}}
`,
		"inv.csv": "ID,Customer,Gross,Issued,Cur,Type,Note\n" +
			"1,C1,100.50,2026-10-01,EUR,INV,\"two\nlines\"\n" +
			"2,C2,oops,2026-10-01,EUR,INV,\n" +
			"3,C3,1,2,3,4,5,6,7\n" +
			"4,C4,25.00,2026-10-02,gbp,CN,\n",
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
		{"1", "EUR", "100.5000", "2026-10-01", "inv.csv:2"},
		{"4", "GBP", "-25.0000", "2026-10-02", "inv.csv:6"},
	}
	if diff := cmp.Diff(want, readAccepted(t, filepath.Join(res.Dir, "billing.invoices.parquet"))); diff != "" {
		t.Errorf("accepted rows (-want +got):\n%s", diff)
	}
	var lines []int64
	for _, r := range readRejects(t, res.Dir) {
		lines = append(lines, r.Line)
	}
	if diff := cmp.Diff([]int64{4, 5}, lines); diff != "" {
		t.Errorf("reject lines (-want +got):\n%s", diff)
	}
}
