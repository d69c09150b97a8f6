package synth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/extract"
	"github.com/finrecon/finrecon/internal/match"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
)

var asOf = time.Date(2026, time.November, 30, 0, 0, 0, 0, time.UTC)

const asOfText = "2026-11-30"

var dataFiles = []string{FileBillingInvoices, FileBillingPayments, FileOdooInvoices, FileOdooPayments, FileJournalLines, FileExposures, FileTruth, FileConfig}

// TestGenerateDeterministic: the same options give the same bytes, another
// seed other data, and the counts add up.
func TestGenerateDeterministic(t *testing.T) {
	opt := Options{Invoices: 20000, Seed: 7, AsOf: asOf}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	sa, err := Generate(a, opt)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Generate(b, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sa.String() != sb.String() {
		t.Errorf("stats differ:\n%s\n%s", sa, sb)
	}
	for _, f := range dataFiles {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same options", f)
		}
	}
	opt.Seed = 8
	if _, err := Generate(c, opt); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(filepath.Join(a, FileTruth))
	y, _ := os.ReadFile(filepath.Join(c, FileTruth))
	if bytes.Equal(x, y) {
		t.Error("another seed gave the same truth")
	}

	// Counts add up: rows per file, truth per type, billing invoices.
	for _, f := range sa.Files {
		if n := countLines(t, filepath.Join(a, f.Name)) - 1; n != f.N {
			t.Errorf("%s: %d rows, stats say %d", f.Name, n, f.N)
		}
	}
	truth := readTruth(t, filepath.Join(a, FileTruth))
	if int64(len(truth)) != sa.Truth {
		t.Errorf("truth.csv has %d rows, stats say %d", len(truth), sa.Truth)
	}
	var sum int64
	perType := map[string]int64{}
	leftDups := int64(0)
	for _, tr := range truth {
		perType[tr.recon+"/"+tr.typ]++
		if tr.recon == reconInvoices && tr.typ == "duplicate" && strings.HasPrefix(tr.left, "B") {
			leftDups += int64(strings.Count(tr.left, "|"))
		}
	}
	for _, c := range sa.Breaks {
		sum += c.N
		if perType[c.Name] != c.N {
			t.Errorf("%s: truth.csv has %d, stats say %d", c.Name, perType[c.Name], c.N)
		}
	}
	if sum != sa.Truth {
		t.Errorf("breaks per type add up to %d, truth has %d", sum, sa.Truth)
	}
	if got := sa.Files[0].N; got != int64(opt.Invoices)+leftDups {
		t.Errorf("billing invoices: %d rows, want %d invoices + %d duplicated rows", got, opt.Invoices, leftDups)
	}
	// Every break type of the four rules is planted, and so is every trap.
	for _, typ := range []string{
		"exposure/limit_breach", "exposure/stale_exposure", "exposure/version_conflict",
		"invoices/ambiguous", "invoices/amount_mismatch", "invoices/currency_mismatch", "invoices/date_mismatch",
		"invoices/duplicate", "invoices/partner_mismatch", "invoices/proposed_match", "invoices/status_mismatch",
		"invoices/tax_mismatch", "invoices/unmatched", "ledger/ar_control_mismatch", "ledger/unbalanced_entry",
		"payments/ambiguous", "payments/amount_mismatch", "payments/currency_mismatch", "payments/date_mismatch",
		"payments/duplicate", "payments/timing_difference", "payments/unmatched",
	} {
		if perType[typ] == 0 {
			t.Errorf("no %s planted", typ)
		}
	}
	if len(sa.Traps) != int(nTraps) {
		var have []string
		for _, c := range sa.Traps {
			have = append(have, c.Name)
		}
		t.Errorf("%d of %d traps planted: %v", len(sa.Traps), nTraps, have)
	}
	// The truth names ids that exist, and the config loads.
	ids := map[string]bool{}
	for _, f := range []string{FileBillingInvoices, FileBillingPayments, FileOdooInvoices, FileOdooPayments, FileJournalLines, FileExposures} {
		forEachRecord(t, filepath.Join(a, f), func(rec []string) { ids[rec[0]] = true })
	}
	for _, tr := range truth {
		for _, id := range strings.Split(tr.left+"|"+tr.right, "|") {
			if id != "" && !ids[id] {
				t.Errorf("truth %v names %q, which no file has", tr, id)
			}
		}
	}
	cfg, err := config.Load(filepath.Join(a, FileConfig))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Systems) != 3 || len(cfg.Entities) != 3 {
		t.Errorf("config: %d systems, %d entities", len(cfg.Systems), len(cfg.Entities))
	}
	t.Logf("%d invoices:\n%s", opt.Invoices, sa)
}

// TestJaroWinklerMatchesDuckDB: the generator's similarity, used to keep
// unrelated references apart and planted typos close, is DuckDB's.
func TestJaroWinklerMatchesDuckDB(t *testing.T) {
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	pairs := [][2]string{{"MARTHA", "MARHTA"}, {"DIXON", "DICKSONX"}, {"ABC", "ABC"}, {"A", "B"}, {"AB", "BA"}, {"JELLYFISH", "SMELLYFISH"}}
	for i := 0; i < 1500; i++ {
		a := "BL" + rnd(10)
		c := []byte("BL" + rnd(10))
		switch i % 3 {
		case 0:
			c = []byte(a)
			c[2+r.IntN(10)] = alphabet[r.IntN(32)]
		case 1:
			c = []byte(a)
			k := 2 + r.IntN(9)
			c[k], c[k+1] = c[k+1], c[k]
		}
		if i%7 == 0 {
			c = c[:r.IntN(len(c))]
		}
		pairs = append(pairs, [2]string{a, string(c)})
	}
	var vals []string
	for _, p := range pairs {
		vals = append(vals, "("+duck.Quote(p[0])+", "+duck.Quote(p[1])+")")
	}
	rows, err := db.Query("SELECT a, b, jaro_winkler_similarity(a, b) FROM (VALUES " + strings.Join(vals, ", ") + ") AS t(a, b)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var a, b string
		var want float64
		if err := rows.Scan(&a, &b, &want); err != nil {
			t.Fatal(err)
		}
		if got := jaroWinkler(a, b); math.Abs(got-want) > 1e-12 {
			t.Errorf("jaro_winkler(%q, %q) = %v, DuckDB says %v", a, b, got, want)
		}
		n++
	}
	if n != len(pairs) {
		t.Fatalf("compared %d of %d pairs", n, len(pairs))
	}
}

// TestTruth generates 100,000 invoices (seed 1), runs extract and match with the
// shipped rules exactly as finrecon does, and compares the breaks with the
// generator's truth: precision and recall must both be 100%.
func TestTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("generates, extracts and matches 100,000 invoices")
	}
	ctx := context.Background()
	dir := t.TempDir()
	rulesDir, err := filepath.Abs("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	// SYNTH_INVOICES and SYNTH_SEED change the size and the seed, e.g. for
	// a run at a million invoices.
	opt := Options{Invoices: 100_000, Seed: 1, AsOf: asOf, RulesDir: rulesDir}
	if v := os.Getenv("SYNTH_INVOICES"); v != "" {
		if opt.Invoices, err = strconv.Atoi(v); err != nil {
			t.Fatalf("SYNTH_INVOICES: %v", err)
		}
	}
	if v := os.Getenv("SYNTH_SEED"); v != "" {
		if opt.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SYNTH_SEED: %v", err)
		}
	}
	start := time.Now()
	st, err := Generate(filepath.Join(dir, "data"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d rows in %s", st.Rows(), time.Since(start).Round(time.Millisecond))
	cfg, err := config.Load(filepath.Join(dir, "data", FileConfig))
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	snap, err := extract.Run(ctx, extract.Options{Config: cfg, OutDir: filepath.Join(dir, "snaps"), AsOf: asOfText})
	if err != nil {
		t.Fatal(err)
	}
	if n := snap.Manifest.Rejects.Rows; n != 0 {
		t.Fatalf("extract rejected %d rows of generated data", n)
	}
	t.Logf("extracted in %s", time.Since(start).Round(time.Millisecond))
	set, err := rules.Load(rulesDir)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	res, err := match.Run(ctx, match.Options{SnapshotDir: snap.Dir, Rules: set, RunsDir: filepath.Join(dir, "runs"), AsOf: asOfText, FailOn: model.High})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("matched in %s", time.Since(start).Round(time.Millisecond))

	want := map[string]truthRow{}
	for _, tr := range readTruth(t, filepath.Join(dir, "data", FileTruth)) {
		if _, dup := want[tr.key()]; dup {
			t.Errorf("truth lists %s twice", tr.key())
		}
		want[tr.key()] = tr
	}
	got := map[string]truthRow{}
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT recon, break_type, coalesce(left_id, ''), coalesce(right_id, ''),
			coalesce(legal_entity, ''), coalesce(partner_id, ''), coalesce(currency, ''), coalesce(detail, '')
		FROM read_parquet(`+duck.Quote(filepath.Join(res.Dir, "breaks.parquet"))+`)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tr truthRow
		var ent, partner, cur string
		if err := rows.Scan(&tr.recon, &tr.typ, &tr.left, &tr.right, &ent, &partner, &cur, &tr.detail); err != nil {
			t.Fatal(err)
		}
		if tr.left == "" && tr.right == "" {
			tr.group = ent + "/" + partner + "/" + cur
		}
		if _, dup := got[tr.key()]; dup {
			t.Errorf("the run reports %s twice", tr.key())
		}
		got[tr.key()] = tr
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	type tally struct {
		tp, fp, fn int
		swapped    int // false positives that are a false negative with left and right ids swapped
		fps, fns   []truthRow
	}
	per := map[string]*tally{}
	at := func(tr truthRow) *tally {
		k := tr.recon + "/" + tr.typ
		if per[k] == nil {
			per[k] = &tally{}
		}
		return per[k]
	}
	for k, tr := range got {
		x := at(tr)
		if _, ok := want[k]; ok {
			x.tp++
		} else {
			x.fp++
			x.fps = append(x.fps, tr)
			sw := tr
			sw.left, sw.right = tr.right, tr.left
			if _, ok := want[sw.key()]; ok {
				x.swapped++
			}
		}
	}
	for k, tr := range want {
		if _, ok := got[k]; !ok {
			x := at(tr)
			x.fn++
			x.fns = append(x.fns, tr)
		}
	}
	names := make([]string, 0, len(per))
	for k := range per {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	var tp, fp, fn int
	fmt.Fprintf(&b, "%-34s %7s %7s %7s\n", "recon/break_type", "TP", "FP", "FN")
	for _, k := range names {
		x := per[k]
		tp, fp, fn = tp+x.tp, fp+x.fp, fn+x.fn
		fmt.Fprintf(&b, "%-34s %7d %7d %7d\n", k, x.tp, x.fp, x.fn)
		if x.swapped > 0 {
			fmt.Fprintf(&b, "    %d of the false positives are planted breaks reported with left_id and right_id swapped\n", x.swapped)
		}
		sortRows(x.fps)
		sortRows(x.fns)
		for i, tr := range x.fps {
			if i == 5 {
				break
			}
			fmt.Fprintf(&b, "    FP %s | %s | %s  detail: %s\n", tr.left, tr.right, tr.group, tr.detail)
		}
		for i, tr := range x.fns {
			if i == 5 {
				break
			}
			fmt.Fprintf(&b, "    FN %s | %s | %s\n", tr.left, tr.right, tr.group)
		}
	}
	precision, recall := ratio(tp, tp+fp), ratio(tp, tp+fn)
	fmt.Fprintf(&b, "total: %d planted, %d reported, %d true positives; precision %.4f%%, recall %.4f%%\n",
		len(want), len(got), tp, 100*precision, 100*recall)
	if fp > 0 || fn > 0 {
		t.Errorf("breaks differ from the truth:\n%s", b.String())
	} else {
		t.Logf("breaks equal the truth:\n%s", b.String())
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// BenchmarkGenerate measures generation at 1,000,000 invoices; rows/s
// counts every data row written (truth excluded).
func BenchmarkGenerate(b *testing.B) {
	dir := b.TempDir()
	var rows int64
	for i := 0; i < b.N; i++ {
		st, err := Generate(filepath.Join(dir, fmt.Sprint(i)), Options{Invoices: 1_000_000, Seed: uint64(i + 1), AsOf: asOf})
		if err != nil {
			b.Fatal(err)
		}
		rows += st.Rows()
		os.RemoveAll(filepath.Join(dir, fmt.Sprint(i)))
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
}

// ---------------------------------------------------------------------------

type truthRow struct {
	recon, typ, left, right, group string
	detail                         string
}

func (r truthRow) key() string {
	return r.recon + "|" + r.typ + "|" + r.left + "|" + r.right + "|" + r.group
}

func sortRows(rs []truthRow) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].key() < rs[j].key() })
}

func readTruth(t testing.TB, path string) []truthRow {
	var out []truthRow
	first := true
	forEachRecord(t, path, func(rec []string) {
		if first {
			first = false
			if strings.Join(rec, ",") != "recon,break_type,left_id,right_id,group" {
				t.Fatalf("truth header %v", rec)
			}
			return
		}
		out = append(out, truthRow{recon: rec[0], typ: rec[1], left: rec[2], right: rec[3], group: rec[4]})
	})
	return out
}

func forEachRecord(t testing.TB, path string, fn func([]string)) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fn(rec)
	}
}

func countLines(t testing.TB, path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(bytes.Count(data, []byte{'\n'}))
}
