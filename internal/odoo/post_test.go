package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/odoo/odootest"
)

// testBatch is three balanced entries on accounts every recorded version
// has (443000 Cash Discount Loss, 201000 Current Liabilities, 121000
// Account Receivable), booked in YourCompany (USD), one with a partner.
func testBatch(t *testing.T) string {
	return writeBatch(t,
		entry("finrecon:test:adj-0001", "YourCompany", "USD", "2026-11-30",
			[4]string{"443000", "", "120.00", "0.00"}, [4]string{"201000", "", "0.00", "120.00"}),
		entry("finrecon:test:adj-0002", "YourCompany", "USD", "2026-11-30",
			[4]string{"443000", "", "0.37", "0.00"}, [4]string{"201000", "", "0.00", "0.25"}, [4]string{"201000", "", "0.00", "0.12"}),
		entry("finrecon:test:adj-0003", "YourCompany", "USD", "2026-11-30",
			[4]string{"121000", "C-ACME", "0.00", "0.42"}, [4]string{"443000", "", "0.42", "0.00"}),
	)
}

// postServer is a recorded server whose Acme partner carries the billing
// id C-ACME in ref.
func postServer(t *testing.T, version string) (*odootest.Server, Settings) {
	srv := server(t, version)
	for _, id := range srv.Find("res.partner", "name", "Acme Corp (finrecon)") {
		srv.Set("res.partner", id, "ref", "C-ACME")
	}
	return srv, settings(t, srv)
}

func runPost(t *testing.T, s Settings, dir string, apply bool) *PostResult {
	t.Helper()
	res, err := Post(context.Background(), PostOptions{Settings: s, BatchDir: dir, Apply: apply, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func fixedNow() time.Time { return time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC) }

func counts(r *PostResult) string {
	return fmt.Sprintf("created %d, present %d, refused %d, gone %d, would create %d", r.Created, r.Present, r.Refused, r.Gone, r.WouldCreate)
}

// TestUnbalancedRefusedBeforeAnyCall: one unbalanced entry refuses the
// batch before a single request reaches Odoo.
func TestUnbalancedRefusedBeforeAnyCall(t *testing.T) {
	srv, s := postServer(t, "17.0")
	dir := writeBatch(t,
		entry("finrecon:test:ok", "YourCompany", "USD", "2026-11-30", [4]string{"443000", "", "1.00", "0.00"}, [4]string{"201000", "", "0.00", "1.00"}),
		entry("finrecon:test:bad", "YourCompany", "USD", "2026-11-30", [4]string{"443000", "", "250.00", "0.00"}, [4]string{"201000", "", "0.00", "240.00"}))
	for _, apply := range []bool{false, true} {
		_, err := Post(context.Background(), PostOptions{Settings: s, BatchDir: dir, Apply: apply})
		var be *BatchError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), "line 2 (finrecon:test:bad): unbalanced") {
			t.Fatalf("got %v, want the batch refused for line 2", err)
		}
	}
	if n := srv.Requests(); n != 0 {
		t.Errorf("%d requests reached Odoo", n)
	}
	if fileExists(filepath.Join(dir, PostedFile)) {
		t.Error("posted.jsonl written for a refused batch")
	}
}

// TestPostDryRun reads and writes nothing: it says what it would create
// and what is already there (the key of file 30's draft).
func TestPostDryRun(t *testing.T) {
	srv, s := postServer(t, "17.0")
	existing := `finrecon:batch-2026-10-A:adj-0001` // created in the lab (file 28), found by file 30's search
	dir := writeBatch(t,
		entry(existing, "YourCompany", "USD", "2026-10-31", [4]string{"443000", "", "250.00", "0.00"}, [4]string{"201000", "", "0.00", "250.00"}),
		entry("finrecon:test:new", "YourCompany", "USD", "2026-11-30", [4]string{"443000", "", "1.00", "0.00"}, [4]string{"201000", "", "0.00", "1.00"}))
	res := runPost(t, s, dir, false)
	if counts(res) != "created 0, present 1, refused 0, gone 0, would create 1" {
		t.Errorf("dry run: %s", counts(res))
	}
	if res.Outcomes[0].MoveID != 35 || res.Outcomes[0].MoveName != "MISC/2026/10/0001" {
		t.Errorf("existing entry found as %d %q, want 35 MISC/2026/10/0001", res.Outcomes[0].MoveID, res.Outcomes[0].MoveName)
	}
	for _, c := range srv.Calls() {
		if c.Method != "search_read" && c.Method != "search" && c.Method != "read" && c.Service == "object" {
			t.Errorf("a dry run called %s.%s", c.Model, c.Method)
		}
	}
	if fileExists(filepath.Join(dir, PostedFile)) {
		t.Error("a dry run wrote posted.jsonl")
	}
}

// TestPostApplyTwice creates each entry once as a draft — whatever the
// version and protocol — and a second run finds them all.
func TestPostApplyTwice(t *testing.T) {
	for _, v := range versions {
		for _, protocol := range protocolsOf(v) {
			t.Run(v+"/"+protocol, func(t *testing.T) {
				srv, s := postServer(t, v)
				s.Protocol = protocol
				dir := testBatch(t)
				first := runPost(t, s, dir, true)
				if counts(first) != "created 3, present 0, refused 0, gone 0, would create 0" {
					t.Fatalf("first run: %s %+v", counts(first), first.Outcomes)
				}
				second := runPost(t, s, dir, true)
				if counts(second) != "created 0, present 3, refused 0, gone 0, would create 0" {
					t.Errorf("second run: %s", counts(second))
				}
				if n := len(srv.CallsTo("account.move", "create")); n != 3 {
					t.Errorf("%d creates, want 3", n)
				}
				for i, o := range first.Outcomes {
					ids := srv.Find("account.move", "ref", o.Entry.Key)
					if len(ids) != 1 || ids[0] != o.MoveID || second.Outcomes[i].MoveID != o.MoveID {
						t.Errorf("%s: moves %v, created %d, found %d", o.Entry.Key, ids, o.MoveID, second.Outcomes[i].MoveID)
					}
					m := srv.Record("account.move", o.MoveID)
					if m["state"] != "draft" || m["move_type"] != "entry" || m["date"] != "2026-11-30" {
						t.Errorf("%s: %v, want a draft entry dated 2026-11-30", o.Entry.Key, m)
					}
				}
				for _, c := range srv.Calls() {
					if strings.HasPrefix(c.Method, "action_") || c.Method == "write" || strings.Contains(fmt.Sprint(c.Args), "check_move_validity") {
						t.Errorf("post called %s.%s %v", c.Model, c.Method, c.Args)
					}
				}
				if n := len(postedLines(t, dir)); n != 6 {
					t.Errorf("posted.jsonl has %d lines, want 3 created + 3 present", n)
				}
			})
		}
	}
}

// TestPostSendsExactAmounts: the create carries the batch's decimals as
// JSON numbers with the batch's digits, the accounts, journal and partner
// resolved to the ids of the recordings.
func TestPostSendsExactAmounts(t *testing.T) {
	srv, s := postServer(t, "17.0")
	runPost(t, s, testBatch(t), true)
	creates := srv.CallsTo("account.move", "create")
	got, _ := json.Marshal(creates[1].Args["vals_list"])
	want := `[{"date":"2026-11-30","journal_id":3,"line_ids":[[0,0,{"account_id":27,"credit":0,"debit":0.37,"name":"finrecon test finrecon:test:adj-0002"}],` +
		`[0,0,{"account_id":13,"credit":0.25,"debit":0,"name":"finrecon test finrecon:test:adj-0002"}],` +
		`[0,0,{"account_id":13,"credit":0.12,"debit":0,"name":"finrecon test finrecon:test:adj-0002"}]],"move_type":"entry","ref":"finrecon:test:adj-0002"}]`
	if string(got) != want {
		t.Errorf("create values\n got %s\nwant %s", got, want)
	}
	partner, _ := json.Marshal(creates[2].Args["vals_list"])
	if !bytes.Contains(partner, []byte(`"partner_id":42`)) {
		t.Errorf("partner C-ACME not resolved to 42: %s", partner)
	}
}

// TestPostCrashMidwayThenRerun: the third create fails for good (the run
// stops, as a crash would), then a re-run creates the rest and nothing
// twice.
func TestPostCrashMidwayThenRerun(t *testing.T) {
	srv, s := postServer(t, "18.0")
	dir := testBatch(t)
	f := &odootest.Fault{Match: odootest.OnMethod("account.move", "create"), After: 2, Times: s.Retries + 1, Status: http.StatusInternalServerError}
	srv.Inject(f)
	res, err := Post(context.Background(), PostOptions{Settings: s, BatchDir: dir, Apply: true})
	if !IsKind(err, KindUnavailable) || res == nil || res.Created != 2 {
		t.Fatalf("got %v, %+v: want the run to stop after 2 created", err, res)
	}
	if n := len(postedLines(t, dir)); n != 2 {
		t.Errorf("posted.jsonl has %d lines after the crash, want 2", n)
	}
	again := runPost(t, s, dir, true)
	if counts(again) != "created 1, present 2, refused 0, gone 0, would create 0" {
		t.Errorf("re-run: %s", counts(again))
	}
	assertOnce(t, srv, dir)
}

// TestPostAnswerLostAfterCommit: Odoo commits the second create and the
// connection drops before the answer arrives. Post looks the key up
// instead of creating again.
func TestPostAnswerLostAfterCommit(t *testing.T) {
	srv, s := postServer(t, "19.0")
	dir := testBatch(t)
	f := &odootest.Fault{Match: odootest.OnMethod("account.move", "create"), After: 1, Drop: true, Apply: true}
	srv.Inject(f)
	res := runPost(t, s, dir, true)
	if srv.Fired(f) != 1 || counts(res) != "created 3, present 0, refused 0, gone 0, would create 0" {
		t.Errorf("fired %d, %s", srv.Fired(f), counts(res))
	}
	assertOnce(t, srv, dir)
	if n := len(srv.CallsTo("account.move", "create")); n != 3 {
		t.Errorf("%d creates reached Odoo, want 3: the lost answer is looked up, not created again", n)
	}
}

// TestPostLostRecordLine: posted.jsonl lost its last line (a crash between
// create and fsync); the ref search still finds the entry.
func TestPostLostRecordLine(t *testing.T) {
	srv, s := postServer(t, "17.0")
	dir := testBatch(t)
	runPost(t, s, dir, true)
	path := filepath.Join(dir, PostedFile)
	data := readFile(t, path)
	cut := bytes.LastIndexByte(bytes.TrimSuffix(data, []byte("\n")), '\n')
	os.WriteFile(path, append(data[:cut+1], []byte(`{"idempotency_key":"finrecon:test:adj-0003","sta`)...), 0o644)
	res := runPost(t, s, dir, true)
	if counts(res) != "created 0, present 3, refused 0, gone 0, would create 0" {
		t.Errorf("re-run: %s", counts(res))
	}
	assertOnce(t, srv, dir)
}

// TestPostRespectsLockDates: an entry dated on or before the company's
// latest lock date is dated the day after it; others keep their date.
func TestPostRespectsLockDates(t *testing.T) {
	tests := []struct {
		version string
		locks   map[string]string
		want    string
		by      string
	}{
		{"17.0", map[string]string{"fiscalyear_lock_date": "2026-09-30", "period_lock_date": "2026-11-30"}, "2026-12-01", "period_lock_date"},
		{"18.0", map[string]string{"fiscalyear_lock_date": "2026-11-30", "tax_lock_date": "2026-12-31"}, "2026-12-01", "fiscalyear_lock_date"},
		{"19.0", map[string]string{"sale_lock_date": "2026-10-31", "hard_lock_date": "2026-11-30"}, "2026-12-01", "hard_lock_date"},
		{"18.0", map[string]string{"fiscalyear_lock_date": "2026-11-29"}, "2026-11-30", ""},
	}
	for _, tt := range tests {
		t.Run(tt.version+"/"+tt.want, func(t *testing.T) {
			srv, s := postServer(t, tt.version)
			for f, d := range tt.locks {
				srv.Set("res.company", 1, f, d)
			}
			dir := testBatch(t)
			res := runPost(t, s, dir, true)
			for _, o := range res.Outcomes {
				if o.Date != tt.want || srv.Record("account.move", o.MoveID)["date"] != tt.want {
					t.Errorf("%s dated %s in Odoo %v, want %s", o.Entry.Key, o.Date, srv.Record("account.move", o.MoveID)["date"], tt.want)
				}
				if (o.LockNote != "") != (tt.by != "") || !strings.Contains(o.LockNote, tt.by) {
					t.Errorf("lock note %q, want one naming %q", o.LockNote, tt.by)
				}
			}
			if tt.by != "" {
				if p := postedLines(t, dir)[0]; p.OriginalDate != "2026-11-30" || p.Date != tt.want {
					t.Errorf("posted.jsonl %+v, want date %s from 2026-11-30", p, tt.want)
				}
			}
		})
	}
}

// TestPostRefusesWhatOdooCannotTake goes on past entries it cannot create,
// and says why for each.
func TestPostRefusesWhatOdooCannotTake(t *testing.T) {
	srv, s := postServer(t, "17.0")
	ok := [][4]string{{"443000", "", "1.00", "0.00"}, {"201000", "", "0.00", "1.00"}}
	dir := writeBatch(t,
		entry("k-account", "YourCompany", "USD", "2026-11-30", [4]string{"999999", "", "1.00", "0.00"}, [4]string{"201000", "", "0.00", "1.00"}),
		entry("k-partner", "YourCompany", "USD", "2026-11-30", [4]string{"121000", "C-NOBODY", "1.00", "0.00"}, [4]string{"201000", "", "0.00", "1.00"}),
		entry("k-currency", "YourCompany", "EUR", "2026-11-30", ok...),
		entry("k-entity", "XX99", "USD", "2026-11-30", ok...),
		entry("k-good", "YourCompany", "USD", "2026-11-30", ok...),
	)
	res := runPost(t, s, dir, true)
	if counts(res) != "created 1, present 0, refused 4, gone 0, would create 0" {
		t.Fatalf("%s", counts(res))
	}
	want := []string{
		"no account with code 999999 in YourCompany",
		`no partner has ref "C-NOBODY" in Odoo`,
		"the entry is in EUR but YourCompany books in USD",
		`legal entity "XX99": no Odoo company maps to it`,
	}
	for i, w := range want {
		if !strings.Contains(res.Outcomes[i].Reason, w) {
			t.Errorf("%s refused for %q, want %q", res.Outcomes[i].Entry.Key, res.Outcomes[i].Reason, w)
		}
	}
	if len(srv.CallsTo("account.move", "create")) != 1 {
		t.Error("a refused entry reached create")
	}
}

// TestPostDoesNotRecreateDeleted: an accountant deleted a draft post
// created; the next run says so and does not create it again.
func TestPostDoesNotRecreateDeleted(t *testing.T) {
	srv, s := postServer(t, "17.0")
	dir := testBatch(t)
	first := runPost(t, s, dir, true)
	runPost(t, s, dir, true) // posted.jsonl now also says "present"
	srv.Delete("account.move", first.Outcomes[0].MoveID)
	res := runPost(t, s, dir, true)
	if counts(res) != "created 0, present 2, refused 0, gone 1, would create 0" || !strings.Contains(res.Outcomes[0].Reason, "Odoo no longer has it") {
		t.Errorf("%s: %q", counts(res), res.Outcomes[0].Reason)
	}
}

// TestPostCompanyMapping books an entry in the company its legal entity
// maps to, searching and creating in that company only.
func TestPostCompanyMapping(t *testing.T) {
	srv, s := postServer(t, "19.0")
	s.Companies = []Company{{ID: 1, Entity: "US01"}, {ID: 2, Entity: "US02"}}
	dir := writeBatch(t, entry("k-us01", "US01", "USD", "2026-11-30", [4]string{"443000", "", "1.00", "0.00"}, [4]string{"201000", "", "0.00", "1.00"}))
	res := runPost(t, s, dir, true)
	if res.Created != 1 || res.Outcomes[0].CompanyID != 1 {
		t.Fatalf("%s, company %d", counts(res), res.Outcomes[0].CompanyID)
	}
	for _, c := range srv.Calls() {
		if c.Model == "account.move" && fmt.Sprint(c.Companies) != "[1]" {
			t.Errorf("%s ran in companies %v, want [1]", c.Method, c.Companies)
		}
	}
}

// TestPostTellsEachOutcome streams outcomes in batch order.
func TestPostTellsEachOutcome(t *testing.T) {
	_, s := postServer(t, "17.0")
	var got []string
	_, err := Post(context.Background(), PostOptions{Settings: s, BatchDir: testBatch(t), OnEntry: func(o Outcome) {
		got = append(got, o.Entry.Key+" "+o.Status)
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"finrecon:test:adj-0001 would create", "finrecon:test:adj-0002 would create", "finrecon:test:adj-0003 would create"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

// assertOnce checks every entry of the batch exists once in Odoo, and
// posted.jsonl names that move.
func assertOnce(t *testing.T, srv *odootest.Server, dir string) {
	t.Helper()
	b, err := ReadBatch(dir)
	if err != nil {
		t.Fatal(err)
	}
	recorded, _ := readPosted(filepath.Join(dir, PostedFile))
	for _, e := range b.Entries {
		ids := srv.Find("account.move", "ref", e.Key)
		if len(ids) != 1 {
			t.Errorf("%s exists %d times in Odoo: %v", e.Key, len(ids), ids)
			continue
		}
		if recorded[e.Key].MoveID != ids[0] {
			t.Errorf("%s: posted.jsonl says move %d, Odoo has %d", e.Key, recorded[e.Key].MoveID, ids[0])
		}
	}
}

func postedLines(t *testing.T, dir string) []posted {
	t.Helper()
	var out []posted
	for _, line := range bytes.Split(bytes.TrimSpace(readFile(t, filepath.Join(dir, PostedFile))), []byte("\n")) {
		var p posted
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatalf("posted.jsonl line %q: %v", line, err)
		}
		out = append(out, p)
	}
	return out
}
