package odoo

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/odoo/odootest"
)

// TestTransientFaultsAreRetried injects each transient fault into the
// middle of a pull — on the second page of journal items — and checks the
// pull still yields exactly what a clean one does, after the retries.
func TestTransientFaultsAreRetried(t *testing.T) {
	linesPage2 := func(c odootest.Call) bool { return c.Model == "account.move.line" && c.Method == "search_read" }
	tests := []struct {
		name      string
		fault     odootest.Fault
		wantWaits func(w []time.Duration) bool
	}{
		{"502 then success", odootest.Fault{Match: linesPage2, After: 1, Status: http.StatusBadGateway},
			func(w []time.Duration) bool { return len(w) == 1 && w[0] <= time.Millisecond }},
		{"503 twice then success", odootest.Fault{Match: linesPage2, After: 1, Times: 2, Status: http.StatusServiceUnavailable},
			func(w []time.Duration) bool { return len(w) == 2 && w[1] <= 2*time.Millisecond }},
		{"429 with Retry-After", odootest.Fault{Match: linesPage2, After: 1, Status: http.StatusTooManyRequests, RetryAfter: "7"},
			func(w []time.Duration) bool { return len(w) == 1 && w[0] == 7*time.Second }},
		{"connection dropped mid-page", odootest.Fault{Match: linesPage2, After: 1, Drop: true},
			func(w []time.Duration) bool { return len(w) == 1 }},
		{"timeout", odootest.Fault{Match: linesPage2, After: 1, Delay: 300 * time.Millisecond},
			func(w []time.Duration) bool { return len(w) == 1 }},
	}
	clean := extractOK(t, settings(t, server(t, "17.0")))
	want := readFile(t, filepath.Join(clean.Dir, "journal_lines.csv"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, "17.0")
			f := tt.fault
			srv.Inject(&f)
			s, w := withWaits(settings(t, srv))
			s.Timeout = 100 * time.Millisecond
			res := extractOK(t, s)
			if srv.Fired(&f) == 0 {
				t.Fatal("the fault never fired")
			}
			if got := readFile(t, filepath.Join(res.Dir, "journal_lines.csv")); string(got) != string(want) {
				t.Errorf("journal lines differ from a clean pull:\n%s", got)
			}
			if !tt.wantWaits(w.all()) {
				t.Errorf("waits %v", w.all())
			}
		})
	}
}

// TestBackoffIsBoundedExponentialWithJitter: each wait is between half and
// all of base·2ⁿ, capped.
func TestBackoffIsBoundedExponentialWithJitter(t *testing.T) {
	c := &Client{retryDelay: 100 * time.Millisecond}
	for n := 1; n <= 12; n++ {
		full := min(100*time.Millisecond<<(n-1), maxBackoff)
		for i := 0; i < 50; i++ {
			d := c.backoff(n)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: wait %s outside [%s, %s]", n, d, full/2, full)
			}
		}
	}
}

// TestGivesUpAfterRetries: a server that keeps failing gets retries+1
// attempts, then an error naming the system, the call and the attempts.
func TestGivesUpAfterRetries(t *testing.T) {
	srv := server(t, "18.0")
	f := &odootest.Fault{Match: odootest.OnMethod("account.payment", "search_read"), Times: 100, Status: http.StatusBadGateway}
	srv.Inject(f)
	s, w := withWaits(settings(t, srv))
	_, err := Extract(context.Background(), ExtractOptions{Settings: s})
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != KindUnavailable || oe.Attempts != 4 {
		t.Fatalf("got %v, want unavailable after 4 attempts", err)
	}
	for _, want := range []string{`odoo system "odoo"`, "account.payment.search_read", "gave up after 4 attempts", "502"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(w.all()) != 3 {
		t.Errorf("waited %d times, want 3", len(w.all()))
	}
}

// TestRetryAfterTooLong gives up rather than sleep for an hour.
func TestRetryAfterTooLong(t *testing.T) {
	srv := server(t, "17.0")
	srv.Inject(&odootest.Fault{Match: odootest.OnMethod("account.move", "search_read"), Status: http.StatusTooManyRequests, RetryAfter: "3600"})
	_, err := Extract(context.Background(), ExtractOptions{Settings: settings(t, srv)})
	if !IsKind(err, KindUnavailable) || !strings.Contains(err.Error(), "asks to wait 1h0m0s") {
		t.Errorf("got %v, want a refusal to wait an hour", err)
	}
}

// TestOdooExceptionsAreNotRetried: JSON-2 answers an unknown field with
// HTTP 500 (j18); that is Odoo's exception, the same every time.
func TestOdooExceptionsAreNotRetried(t *testing.T) {
	srv := server(t, "19.0")
	s, w := withWaits(settings(t, srv))
	c, err := Dial(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SearchRead(context.Background(), "account.payment", nil, []string{"ref"}, Query{Limit: 1})
	if !IsKind(err, KindUnknownField) {
		t.Fatalf("got %v", err)
	}
	if n := len(w.all()); n != 0 {
		t.Errorf("retried %d times", n)
	}
}

// TestCreateIsNotRetriedBlindly: a create whose answer is lost may have
// been applied, so Client.Create does not send it again and says so.
func TestCreateIsNotRetriedBlindly(t *testing.T) {
	srv := server(t, "17.0")
	f := &odootest.Fault{Match: odootest.OnMethod("account.move", "create"), Drop: true, Apply: true}
	srv.Inject(f)
	c, err := Dial(context.Background(), settings(t, srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(context.Background(), "account.move", map[string]any{"move_type": "entry", "journal_id": 3, "ref": "k1", "date": "2026-10-31",
		"line_ids": []any{[]any{0, 0, map[string]any{"account_id": 27, "debit": 1, "credit": 0}}, []any{0, 0, map[string]any{"account_id": 13, "debit": 0, "credit": 1}}}})
	var oe *Error
	if !errors.As(err, &oe) || !oe.MaybeApplied {
		t.Fatalf("got %v, want an error saying the create may have been applied", err)
	}
	if got := len(srv.CallsTo("account.move", "create")); got != 1 {
		t.Errorf("create sent %d times, want 1", got)
	}
	if got := srv.Find("account.move", "ref", "k1"); len(got) != 1 {
		t.Errorf("moves with ref k1: %v, want the one Odoo committed", got)
	}
}

// TestCreateRetriedOn429: a 429 was not processed, so even a create is
// sent again.
func TestCreateRetriedOn429(t *testing.T) {
	srv := server(t, "17.0")
	srv.Inject(&odootest.Fault{Match: odootest.OnMethod("account.move", "create"), Status: http.StatusTooManyRequests, RetryAfter: "1"})
	c, err := Dial(context.Background(), settings(t, srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Create(context.Background(), "account.move", map[string]any{"move_type": "entry", "journal_id": 3, "ref": "k2", "date": "2026-10-31",
		"line_ids": []any{[]any{0, 0, map[string]any{"account_id": 27, "debit": 1, "credit": 0}}, []any{0, 0, map[string]any{"account_id": 13, "debit": 0, "credit": 1}}}})
	if err != nil || id == 0 {
		t.Fatalf("got %d, %v", id, err)
	}
	if diff := cmp.Diff([]int64{id}, srv.Find("account.move", "ref", "k2")); diff != "" {
		t.Errorf("moves with ref k2 (-want +got):\n%s", diff)
	}
}

// TestContextCancelStops: a cancelled run stops waiting and says why.
func TestContextCancelStops(t *testing.T) {
	srv := server(t, "17.0")
	srv.Inject(&odootest.Fault{Match: odootest.OnMethod("account.move", "search_read"), Delay: 5 * time.Second})
	s := settings(t, srv)
	s.sleep = nil // the real sleep
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Extract(ctx, ExtractOptions{Settings: s})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("got %v after %s, want a prompt deadline error", err, time.Since(start))
	}
}
