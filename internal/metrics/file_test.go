package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func oneGauge(v int64) *Set {
	var s Set
	s.Gauge("finrecon_exit_code", "Exit code.").Set(Int(v))
	return &s
}

// onlyFile fails unless dir holds exactly the file name: no temporary
// file may be left behind.
func onlyFile(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != name {
		t.Errorf("folder holds %v, want only %s", names, name)
	}
}

func TestWriteFileReplacesWholeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "finrecon.prom")
	// An older, longer file: none of it may survive.
	if err := os.WriteFile(path, []byte(strings.Repeat("# stale line\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := oneGauge(1).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := render(t, oneGauge(1)); string(got) != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	parse(t, string(got))
	onlyFile(t, dir, "finrecon.prom")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o644 {
		t.Errorf("mode = %v, want 0644 so node_exporter can read it", perm)
	}
}

func TestWriteFileFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "finrecon.prom")
	if err := oneGauge(0).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	bad := oneGauge(1)
	bad.Gauge("bad name", "x")
	if err := bad.WriteFile(path); err == nil {
		t.Fatal("WriteFile of a misused set succeeded")
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := render(t, oneGauge(0)); string(got) != want {
		t.Errorf("old file changed: %q", got)
	}
	onlyFile(t, dir, "finrecon.prom")
}

func TestWriteFileMissingFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "finrecon.prom")
	if err := oneGauge(0).WriteFile(path); err == nil {
		t.Error("WriteFile into a missing folder succeeded")
	}
}
