package adjust

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testEntities are the company currencies of the fixture's legal entities.
var testEntities = map[string]config.Entity{
	"FR01": {Currency: "EUR"},
	"US01": {Currency: "USD"},
	"JP01": {Currency: "JPY"},
}

// brk is one row of the fixture's breaks.parquet. Amounts are SQL decimal
// literals, "" for NULL.
type brk struct {
	id, typ, entity, currency string
	left, right, diff         string
	partnerID, partnerName    string
	leftID, rightID, recon    string
	fixIn                     string
}

// fixtureBreaks covers every case, deliberately out of break order.
var fixtureBreaks = []brk{
	{id: "b-status", typ: "status_mismatch", entity: "FR01", currency: "EUR", left: "10", right: "10", diff: "0", partnerID: "P1", partnerName: "Acme SARL"},
	{id: "b-pos", typ: "amount_mismatch", entity: "FR01", currency: "EUR", left: "100.42", right: "100.00", diff: "0.42", partnerID: "P1", partnerName: "Acme SARL"},
	{id: "b-neg", typ: "amount_mismatch", entity: "FR01", currency: "EUR", left: "99.65", right: "100.00", diff: "-0.35", partnerID: "P2"},
	{id: "b-at-threshold", typ: "amount_mismatch", entity: "FR01", currency: "EUR", left: "51.00", right: "50.00", diff: "1.00", partnerID: "P1", partnerName: "Acme SARL"},
	{id: "b-over", typ: "amount_mismatch", entity: "FR01", currency: "EUR", left: "220.00", right: "100.00", diff: "120.00", partnerID: "P1", partnerName: "Acme SARL"},
	{id: "b-foreign", typ: "amount_mismatch", entity: "US01", currency: "EUR", left: "10.50", right: "10.00", diff: "0.50", partnerID: "P3", partnerName: "Globex Inc"},
	{id: "b-unknown-entity", typ: "amount_mismatch", entity: "XX99", currency: "EUR", left: "10.50", right: "10.00", diff: "0.50", partnerID: "P3", partnerName: "Globex Inc"},
	{id: "b-quotes", typ: "amount_mismatch", entity: "FR01", currency: "EUR", left: "5.10", right: "5.00", diff: "0.10", partnerID: "P4", partnerName: `Smith, "Junior" & Sons`},
	{id: "b-yen", typ: "amount_mismatch", entity: "JP01", currency: "JPY", left: "1000", right: "1001", diff: "-1", partnerID: "P5", partnerName: "Nippon KK"},
	{id: "b-sub-cent", typ: "amount_mismatch", entity: "FR01", currency: "EUR", left: "5.0050", right: "5.0000", diff: "0.0050", partnerID: "P1", partnerName: "Acme SARL"},
	{id: "b-fix-billing", typ: "amount_mismatch", entity: "FR01", currency: "EUR", left: "10.20", right: "10.00", diff: "0.20", partnerID: "P1", fixIn: "billing.invoices"},
	{id: "b-zero", typ: "amount_mismatch", entity: "FR01", currency: "EUR", left: "5", right: "5", diff: "0", partnerID: "P1", partnerName: "Acme SARL"},
	{id: "b-tax", typ: "tax_mismatch", entity: "FR01", currency: "EUR", left: "20.00", right: "20.03", diff: "-0.03", partnerID: "P1", partnerName: "Acme SARL"},
	{id: "b-tax-missing", typ: "tax_mismatch", entity: "FR01", currency: "EUR", left: "20.00", partnerID: "P1", partnerName: "Acme SARL"},
}

// writeFixtureRun writes a run directory with the fixture's manifest, rules
// and breaks, and returns its path.
func writeFixtureRun(t *testing.T, breaks []brk) string {
	t.Helper()
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, run.RulesDir)
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "rules", "invoices.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rulesDir, "invoices.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := rules.Load(rulesDir)
	if err != nil {
		t.Fatal(err)
	}
	writeManifest(t, dir, run.Manifest{RunID: "r-test", AsOf: "2026-11-30", SnapshotID: "s-test", RulesHash: set.Hash()})
	writeBreaks(t, filepath.Join(dir, run.BreaksParquet), breaks)
	return dir
}

func writeManifest(t *testing.T, dir string, m run.Manifest) {
	t.Helper()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, run.ManifestJSON), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeBreaks writes breaks.parquet with DuckDB, with the column types
// match writes.
func writeBreaks(t *testing.T, path string, breaks []brk) {
	t.Helper()
	str := func(s string) string {
		if s == "" {
			return "NULL"
		}
		return duck.Quote(s)
	}
	var values []string
	for _, b := range breaks {
		recon := b.recon
		if recon == "" {
			recon = "invoices"
		}
		leftID, rightID := b.leftID, b.rightID
		if leftID == "" && rightID == "" {
			leftID, rightID = "INV-"+b.id, "odoo-"+b.id
		}
		values = append(values, "("+strings.Join([]string{
			str(b.id), str(recon), str("exact"), str(b.typ), str("medium"), str("both"),
			str("billing.invoices"), str(leftID), str("odoo.invoices"), str(rightID),
			str(b.partnerID), str(b.entity), str(b.currency),
			str(b.left), str(b.right), str(b.diff),
			str("2026-11-28"), "2", str("fixture"), str(b.partnerName),
			str("billing/invoices.csv:2"), str("account.move:7"), str(b.fixIn),
		}, ", ")+")")
	}
	q := `COPY (SELECT
		break_id::VARCHAR AS break_id, recon::VARCHAR AS recon, pass::VARCHAR AS pass,
		break_type::VARCHAR AS break_type, severity::VARCHAR AS severity, side::VARCHAR AS side,
		left_system::VARCHAR AS left_system, left_id::VARCHAR AS left_id,
		right_system::VARCHAR AS right_system, right_id::VARCHAR AS right_id,
		partner_id::VARCHAR AS partner_id, legal_entity::VARCHAR AS legal_entity, currency::VARCHAR AS currency,
		left_amount::DECIMAL(18,4) AS left_amount, right_amount::DECIMAL(18,4) AS right_amount,
		difference::DECIMAL(18,4) AS difference,
		first_seen::DATE AS first_seen, age_days::BIGINT AS age_days, detail::VARCHAR AS detail,
		partner_name::VARCHAR AS partner_name, left_origin::VARCHAR AS left_origin, right_origin::VARCHAR AS right_origin,
		fix_in::VARCHAR AS fix_in
	FROM (VALUES ` + strings.Join(values, ",\n") + `) AS t(break_id, recon, pass, break_type, severity, side,
		left_system, left_id, right_system, right_id, partner_id, legal_entity, currency,
		left_amount, right_amount, difference, first_seen, age_days, detail,
		partner_name, left_origin, right_origin, fix_in)
	ORDER BY recon, break_type, break_id -- as match writes it
	) TO ` + duck.Quote(path) + ` (FORMAT parquet)`
	ctx := context.Background()
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, q); err != nil {
		t.Fatalf("write breaks: %v", err)
	}
}

func TestBuildGolden(t *testing.T) {
	dir := writeFixtureRun(t, fixtureBreaks)
	res, err := Build(context.Background(), Options{RunDir: dir, Entities: testEntities})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, run.AdjustDir)
	for _, name := range []string{CSVFile, JSONLFile, BatchFile} {
		golden(t, name, readFile(t, filepath.Join(out, name)))
	}
	want := &Result{
		BatchID: "adj-r-test",
		Entries: 6,
		Skipped: []Skip{
			{"b-fix-billing", "the rule makes odoo authoritative here, so the fix belongs in billing.invoices, not in an adjustment"},
			{"b-foreign", "EUR differs from US01's company currency USD; foreign-currency write-offs need a rate: post it by hand"},
			{"b-over", "difference 120.00 exceeds the write-off threshold 1.00"},
			{"b-sub-cent", "difference 0.005 has more decimals than EUR's 2; it is not rounded to be written off: post it by hand"},
			{"b-unknown-entity", "legal entity XX99 is not configured (entities: in the config), so its company currency is unknown"},
			{"b-zero", "the difference is zero: nothing to write off"},
			{"b-tax-missing", "no difference to write off: an amount is missing"},
		},
		Files: []string{filepath.Join(out, CSVFile), filepath.Join(out, JSONLFile), filepath.Join(out, BatchFile)},
		Totals: []CurrencyTotal{
			{Currency: "EUR", Debit: dec("1.90"), Credit: dec("1.90")},
			{Currency: "JPY", Debit: dec("1"), Credit: dec("1")},
		},
	}
	if diff := cmp.Diff(want, res, cmp.Comparer(decimal.Decimal.Equal)); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	assertBalanced(t, out)
	assertNoTempFiles(t, out)
}

func TestBuildIsReproducible(t *testing.T) {
	dir := writeFixtureRun(t, fixtureBreaks)
	ctx := context.Background()
	first := filepath.Join(t.TempDir(), "first")
	second := filepath.Join(t.TempDir(), "second")
	for _, out := range []string{first, second, second} { // the last overwrites
		if _, err := Build(ctx, Options{RunDir: dir, OutDir: out, Entities: testEntities}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{CSVFile, JSONLFile, BatchFile} {
		if a, b := readFile(t, filepath.Join(first, name)), readFile(t, filepath.Join(second, name)); !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds:\n%s", name, cmp.Diff(string(a), string(b)))
		}
	}
}

func TestBuildWithNoEntitiesSkipsEverything(t *testing.T) {
	dir := writeFixtureRun(t, fixtureBreaks[:3])
	res, err := Build(context.Background(), Options{RunDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, run.AdjustDir)
	want := strings.Join(CSVHeader, ",") + "\n"
	if got := string(readFile(t, filepath.Join(out, CSVFile))); got != want {
		t.Errorf("adjustments.csv = %q, want the header only", got)
	}
	if got := readFile(t, filepath.Join(out, JSONLFile)); len(got) != 0 {
		t.Errorf("adjustments.jsonl = %q, want empty", got)
	}
	if res.Entries != 0 || len(res.Skipped) != 2 || len(res.Totals) != 0 {
		t.Errorf("got %d entries, %d skipped, totals %v; want 0, 2 (b-neg, b-pos), none", res.Entries, len(res.Skipped), res.Totals)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string // in the error message
	}{
		{
			name:  "not a run",
			setup: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, run.ManifestJSON)) },
			want:  "is this a run directory",
		},
		{
			name: "rules changed since the run",
			setup: func(t *testing.T, dir string) {
				writeManifest(t, dir, run.Manifest{RunID: "r-test", AsOf: "2026-11-30", RulesHash: "0123"})
			},
			want: "are not the ones run r-test used",
		},
		{
			name: "bad as-of",
			setup: func(t *testing.T, dir string) {
				writeManifest(t, dir, run.Manifest{RunID: "r-test", AsOf: "30/11/2026"})
			},
			want: `as_of "30/11/2026"`,
		},
		{
			name: "break of a recon without a rule",
			setup: func(t *testing.T, dir string) {
				// Entries are written before the bad break is read: the
				// failure must still leave no file behind.
				breaks := append([]brk{}, fixtureBreaks...)
				breaks = append(breaks, brk{id: "b-x", recon: "zzz", typ: "amount_mismatch", entity: "FR01", currency: "EUR", diff: "0.01"})
				writeBreaks(t, filepath.Join(dir, run.BreaksParquet), breaks)
			},
			want: `recon "zzz" has no rule`,
		},
		{
			name: "duplicate break id",
			setup: func(t *testing.T, dir string) {
				b := fixtureBreaks[1]
				writeBreaks(t, filepath.Join(dir, run.BreaksParquet), []brk{b, b})
			},
			want: "is already used by break b-pos",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFixtureRun(t, fixtureBreaks)
			tt.setup(t, dir)
			out := filepath.Join(t.TempDir(), "out")
			_, err := Build(context.Background(), Options{RunDir: dir, OutDir: out, Entities: testEntities})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				t.Errorf("a failed build left %s", e.Name())
			}
		})
	}
}

func TestEligible(t *testing.T) {
	adj := mustAdjustment(t)
	tests := []struct {
		name   string
		brk    run.Break
		places int32
		reason string
	}{
		{"positive", breakOf("FR01", "EUR", "0.42"), 2, ""},
		{"negative", breakOf("FR01", "EUR", "-0.42"), 2, ""},
		{"at the threshold", breakOf("FR01", "EUR", "-1.0000"), 2, ""},
		{"zero decimals", breakOf("JP01", "JPY", "1"), 0, ""},
		{"above the threshold", breakOf("FR01", "EUR", "-1.01"), 0, "difference -1.01 exceeds the write-off threshold 1.00"},
		{"above, in yen", breakOf("JP01", "JPY", "2"), 0, "difference 2 exceeds the write-off threshold 1"},
		{"zero", breakOf("FR01", "EUR", "0"), 0, "the difference is zero: nothing to write off"},
		{"missing", run.Break{LegalEntity: "FR01", Currency: "EUR"}, 0, "no difference to write off: an amount is missing"},
		{"foreign", breakOf("US01", "EUR", "0.10"), 0, "EUR differs from US01's company currency USD; foreign-currency write-offs need a rate: post it by hand"},
		{"no entity", breakOf("", "EUR", "0.10"), 0, "the break has no legal entity, so its company currency is unknown"},
		{"unknown entity", breakOf("XX99", "EUR", "0.10"), 0, "legal entity XX99 is not configured (entities: in the config), so its company currency is unknown"},
		{"unknown currency", breakOf("FR01", "EUX", "0.10"), 0, `unknown currency "EUX"`},
		{"sub-unit", breakOf("JP01", "JPY", "0.5"), 0, "difference 0.5 has more decimals than JPY's 0; it is not rounded to be written off: post it by hand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			places, reason := eligible(&tt.brk, adj, testEntities)
			if diff := cmp.Diff(tt.reason, reason); diff != "" {
				t.Errorf("reason (-want +got):\n%s", diff)
			}
			if places != tt.places {
				t.Errorf("places = %d, want %d", places, tt.places)
			}
		})
	}
}

func TestEntrySides(t *testing.T) {
	adj := mustAdjustment(t)
	b := newBuilder(&run.Manifest{RunID: "r", AsOf: "2026-11-30"}, &rules.Set{}, testEntities)
	tests := []struct {
		diff string
		// want is account:debit:credit per line.
		want []string
	}{
		{"0.42", []string{"121000:0.42:0", "658000:0:0.42"}},
		{"-0.42", []string{"121000:0:0.42", "658000:0.42:0"}},
	}
	for _, tt := range tests {
		brk := breakOf("FR01", "EUR", tt.diff)
		e := b.entry(&brk, adj, 2)
		var got []string
		for _, l := range e.lines {
			got = append(got, l.account+":"+l.debit.String()+":"+l.credit.String())
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("difference %s (-want +got):\n%s", tt.diff, diff)
		}
		if e.lines[0].partnerRef != "P1" || e.lines[1].partnerRef != "" {
			t.Errorf("difference %s: partners %q, %q; want the break's on the account line only", tt.diff, e.lines[0].partnerRef, e.lines[1].partnerRef)
		}
		if err := e.checkBalanced(); err != nil {
			t.Error(err)
		}
	}
}

func TestCheckBalancedRefusesBrokenEntries(t *testing.T) {
	brk := breakOf("FR01", "EUR", "0.42")
	ok := func() *entry {
		return &entry{externalID: "x", brk: &brk, currency: "EUR", places: 2, lines: []line{
			{account: "1", debit: dec("0.42"), credit: decimal.Zero},
			{account: "2", debit: decimal.Zero, credit: dec("0.42")},
		}}
	}
	tests := []struct {
		name   string
		mutate func(e *entry)
	}{
		{"unbalanced", func(e *entry) { e.lines[1].credit = dec("0.41") }},
		{"one line", func(e *entry) { e.lines = e.lines[:1] }},
		{"both sides", func(e *entry) { e.lines[0].credit = dec("0.01"); e.lines[1].credit = dec("0.43") }},
		{"negative", func(e *entry) { e.lines[0].debit = dec("-0.42"); e.lines[1].credit = dec("-0.42") }},
		{"too precise", func(e *entry) { e.lines[0].debit = dec("0.425"); e.lines[1].credit = dec("0.425") }},
	}
	if err := ok().checkBalanced(); err != nil {
		t.Fatalf("a balanced entry: %v", err)
	}
	for _, tt := range tests {
		e := ok()
		tt.mutate(e)
		if err := e.checkBalanced(); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestExternalID(t *testing.T) {
	if got, want := externalID(BatchID("2026-11-30.ab/c"), 7), "finrecon_adj.adj_2026_11_30_ab_c_0007"; got != want {
		t.Errorf("externalID = %q, want %q", got, want)
	}
}

// assertBalanced reads the CSV back, as the import wizard would, and checks
// that every entry balances and agrees with the JSON Lines file.
func assertBalanced(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	fromCSV := map[string]*[2]decimal.Decimal{}
	var id string
	for _, row := range rows[1:] {
		if row[0] != "" {
			id = row[0]
			fromCSV[id] = &[2]decimal.Decimal{}
		}
		s := fromCSV[id]
		s[0], s[1] = s[0].Add(dec(row[7])), s[1].Add(dec(row[8]))
	}
	for id, s := range fromCSV {
		if !s[0].Equal(s[1]) {
			t.Errorf("CSV entry %s: debits %s, credits %s", id, s[0], s[1])
		}
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(readFile(t, filepath.Join(dir, JSONLFile)), []byte("\n")), []byte("\n")) {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil { // amounts that are not strings fail here
			t.Fatalf("adjustments.jsonl line %d: %v", i+1, err)
		}
		debit, credit := decimal.Zero, decimal.Zero
		for _, l := range r.Move.Lines {
			debit, credit = debit.Add(dec(l.Debit)), credit.Add(dec(l.Credit))
		}
		if !debit.Equal(credit) {
			t.Errorf("JSON entry %s: debits %s, credits %s", r.ExternalID, debit, credit)
		}
		if s := fromCSV[r.ExternalID]; s == nil || !s[0].Equal(debit) {
			t.Errorf("JSON entry %s does not match the CSV", r.ExternalID)
		}
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left a temporary file: %s", e.Name())
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s missing: run go test -update", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func breakOf(entity, currency, diff string) run.Break {
	return run.Break{
		ID: "b-1", Recon: "invoices", Type: "amount_mismatch",
		LegalEntity: entity, Currency: currency, PartnerID: "P1", PartnerName: "Acme SARL",
		Difference: decimal.NullDecimal{Decimal: dec(diff), Valid: true},
	}
}

// mustAdjustment is the fixture rule's amount_mismatch adjustment.
func mustAdjustment(t *testing.T) rules.Adjustment {
	t.Helper()
	set, err := rules.Load(filepath.Join("testdata", "rules"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := set.Lookup("invoices")
	return r.Adjust["amount_mismatch"]
}
