package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/odoo/odootest"
)

// TestIncrementalPull: the first pull reads everything; the next ones ask
// only for write_date >= the watermark, merge what changed into the
// mirror by id, drop what was deleted, and write full canonical files.
func TestIncrementalPull(t *testing.T) {
	srv := server(t, "17.0")
	s := settings(t, srv)
	s.Overlap = 0
	first := extractOK(t, s)
	if !first.Full || first.FullReason != "first pull" {
		t.Fatalf("first pull: full %v (%s)", first.Full, first.FullReason)
	}
	wm := readWatermarks(t, s.StateDir)
	if got := wm.Models["account.move"]; got.WriteDate != "2026-11-23 18:26:58" || fmt.Sprint(got.IDs) != "[28 32]" {
		t.Errorf("invoice watermark %+v, want 2026-11-23 18:26:58 with ids 28 and 32", got)
	}
	before := readFile(t, filepath.Join(first.Dir, "invoices.csv"))

	// Nothing changed: only the records at the watermark's second are
	// read again, and the files come out the same.
	n := len(srv.Calls())
	second := extractOK(t, s)
	if second.Full {
		t.Errorf("second pull was full: %s", second.FullReason)
	}
	for _, c := range srv.Calls()[n:] {
		if c.Method == "search_read" && c.Model == "account.move" && !strings.Contains(fmt.Sprint(c.Args["domain"]), "[write_date >= 2026-11-23 18:26:58]") {
			t.Errorf("incremental invoice query %v lacks the watermark", c.Args["domain"])
		}
	}
	if got := pulled(second, "account.move"); got != 2 {
		t.Errorf("second pull read %d invoices, want the 2 at the watermark", got)
	}
	if after := readFile(t, filepath.Join(second.Dir, "invoices.csv")); string(after) != string(before) {
		t.Errorf("an idle re-pull changed invoices.csv")
	}

	// Invoice 3 is paid in part and a draft's journal item deleted; the
	// next pull reads invoice 3 alone and drops the item.
	srv.Set("account.move", 3, "amount_residual", json.Number("10000.0"))
	srv.Set("account.move", 3, "payment_state", "partial")
	srv.Set("account.move", 3, "write_date", "2026-11-24 08:00:00")
	srv.Delete("account.move.line", 96)
	third := extractOK(t, s)
	if got := pulled(third, "account.move"); got != 3 {
		t.Errorf("third pull read %d invoices, want invoice 3 and the 2 at the watermark's second", got)
	}
	if got := removed(third, "account.move.line"); got != 1 {
		t.Errorf("third pull removed %d journal items, want 1", got)
	}
	inv := byID(readCSV(t, filepath.Join(third.Dir, "invoices.csv")), "invoice_id")
	if inv["3"]["amount_residual"] != "10000.00" || inv["3"]["status"] != "partial" || len(inv) != 15 {
		t.Errorf("invoice 3 after the change: %v (of %d)", inv["3"], len(inv))
	}
	if _, ok := byID(readCSV(t, filepath.Join(third.Dir, "journal_lines.csv")), "line_id")["96"]; ok {
		t.Error("deleted journal item 96 still extracted")
	}
	if got := readWatermarks(t, s.StateDir).Models["account.move"]; got.WriteDate != "2026-11-24 08:00:00" {
		t.Errorf("watermark %+v, want 2026-11-24 08:00:00", got)
	}
}

// TestOverlapReadsBack: with an overlap the query starts that much before
// the watermark.
func TestOverlapReadsBack(t *testing.T) {
	srv := server(t, "18.0")
	s := settings(t, srv)
	s.Overlap = DefaultOverlap
	extractOK(t, s)
	n := len(srv.Calls())
	extractOK(t, s)
	for _, c := range srv.Calls()[n:] {
		if c.Model == "account.move" && c.Method == "search_read" && !strings.Contains(fmt.Sprint(c.Args["domain"]), "[write_date >= 2026-11-23 18:19:12]") {
			t.Errorf("query %v does not start 10 minutes before the watermark 18:29:12", c.Args["domain"])
		}
	}
}

// TestFullResync: Full (--full) pulls everything again and rebuilds the
// mirror; so does a change of scope (companies).
func TestFullResync(t *testing.T) {
	srv := server(t, "17.0")
	s := settings(t, srv)
	extractOK(t, s)
	res, err := Extract(context.Background(), ExtractOptions{Settings: s, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || pulled(res, "account.move") != 15 {
		t.Errorf("--full: full %v, pulled %d invoices", res.Full, pulled(res, "account.move"))
	}
	s.Companies = []Company{{ID: 1, Entity: "US01"}}
	res = extractOK(t, s)
	if !res.Full || !strings.Contains(res.FullReason, "companies") {
		t.Errorf("a new company scope: full %v (%s)", res.Full, res.FullReason)
	}
}

// TestFailedPullChangesNothing: a pull that fails half way — invoices
// pulled and journal items not, or every model pulled and the partners not
// — leaves the mirror, the watermark and the canonical files exactly as
// they were, and no temporary file behind.
func TestFailedPullChangesNothing(t *testing.T) {
	for _, failing := range []func(odootest.Call) bool{
		odootest.OnMethod("account.move.line", "search_read"),
		odootest.OnMethod("res.partner", "read"),
	} {
		srv := server(t, "17.0")
		s := settings(t, srv)
		s.Overlap = 0
		res := extractOK(t, s)
		snap := snapshotDir(t, s.StateDir)

		srv.Set("account.move", 3, "amount_residual", json.Number("1.0"))
		srv.Set("account.move", 3, "write_date", "2026-11-24 08:00:00")
		srv.Inject(&odootest.Fault{Match: failing, Times: 100, Status: http.StatusBadGateway})
		if _, err := Extract(context.Background(), ExtractOptions{Settings: s}); !IsKind(err, KindUnavailable) {
			t.Fatalf("got %v, want the pull to fail", err)
		}
		if diff := cmp.Diff(snap, snapshotDir(t, s.StateDir)); diff != "" {
			t.Errorf("a failed pull changed the state folder (-before +after):\n%s", diff)
		}
		inv := byID(readCSV(t, filepath.Join(res.Dir, "invoices.csv")), "invoice_id")
		if inv["3"]["amount_residual"] != "22137.50" {
			t.Errorf("invoice 3 residual %s: the failed pull leaked into the canonical file", inv["3"]["amount_residual"])
		}
	}
}

// TestDamagedWatermark says how to recover.
func TestDamagedWatermark(t *testing.T) {
	srv := server(t, "17.0")
	s := settings(t, srv)
	extractOK(t, s)
	os.WriteFile(filepath.Join(s.StateDir, watermarkFile), []byte("{not json"), 0o644)
	_, err := Extract(context.Background(), ExtractOptions{Settings: s})
	if err == nil || !strings.Contains(err.Error(), "--full") {
		t.Errorf("got %v, want advice to run with --full", err)
	}
	if _, err := Extract(context.Background(), ExtractOptions{Settings: s, Full: true}); err != nil {
		t.Errorf("--full does not recover: %v", err)
	}
}

func pulled(res *ExtractResult, model string) int {
	for _, m := range res.Models {
		if m.Model == model {
			return m.Pulled
		}
	}
	return -1
}

func removed(res *ExtractResult, model string) int {
	for _, m := range res.Models {
		if m.Model == model {
			return m.Removed
		}
	}
	return -1
}

func readWatermarks(t *testing.T, dir string) watermarks {
	t.Helper()
	var wm watermarks
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, watermarkFile)), &wm); err != nil {
		t.Fatal(err)
	}
	return wm
}

// snapshotDir maps every file under dir to its content.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(readFile(t, p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
