package odoo

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/finrecon/finrecon/internal/odoo/odootest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var versions = []string{"17.0", "18.0", "19.0"}

// server starts the recorded Odoo of version.
func server(t *testing.T, version string) *odootest.Server {
	t.Helper()
	return odootest.New(t, "testdata", version)
}

// waits records the retry waits a client asked for, without waiting.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// settings are the settings of a test system on s: admin credentials,
// small pages (so that paging is exercised), tiny timeouts, and retries
// that record their waits instead of sleeping.
func settings(t *testing.T, s *odootest.Server) Settings {
	t.Helper()
	w := &waits{}
	return Settings{
		System: "odoo", URL: s.URL, DB: s.DB, Login: odootest.AdminLogin,
		Key: NewSecret(odootest.AdminKey), KeySource: "$FINRECON_TEST_ODOO_KEY",
		Protocol: "auto", PageSize: 4, Timeout: 2 * time.Second, Retries: 3, RetryDelay: time.Millisecond,
		StateDir: t.TempDir(), PartnerKey: "ref", sleep: w.sleep,
	}
}

// waitsOf returns the recorder behind settings' sleep.
func withWaits(s Settings) (Settings, *waits) {
	w := &waits{}
	s.sleep = w.sleep
	return s, w
}

// logBuffer is a debug-level logger writing into a buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// readCSV reads a canonical file into rows keyed by their first column's
// name.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// byID indexes rows by a column.
func byID(rows []map[string]string, col string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, r := range rows {
		out[r[col]] = r
	}
	return out
}

func extractOK(t *testing.T, s Settings) *ExtractResult {
	t.Helper()
	res, err := Extract(context.Background(), ExtractOptions{Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/golden/<name>, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file; run go test ./internal/odoo -update and review the diff\ngot:\n%s", path, got)
	}
}
