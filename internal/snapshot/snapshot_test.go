package snapshot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// publish makes a snapshot of two small files in parent.
func publish(t *testing.T, parent, content string) (string, *Manifest) {
	t.Helper()
	staging, err := os.MkdirTemp(parent, ".staging-")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(staging, "billing.invoices.parquet"), []byte(content), 0o644)
	os.WriteFile(filepath.Join(staging, RejectsFile), []byte("no rejects"), 0o644)
	m := &Manifest{SchemaVersion: 1, ToolVersion: "test", AsOf: "2026-11-30",
		Datasets: []Dataset{{Name: "billing.invoices", File: File{File: "billing.invoices.parquet", Rows: 2}}},
		Rejects:  File{File: RejectsFile}}
	dir, err := Publish(staging, parent, m)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func TestPublishIsContentAddressedAndIdempotent(t *testing.T) {
	parent := t.TempDir()
	dir1, m1 := publish(t, parent, "rows")
	dir2, m2 := publish(t, parent, "rows")
	if dir1 != dir2 || m1.ID != m2.ID {
		t.Errorf("same content gave %s and %s", dir1, dir2)
	}
	_, m3 := publish(t, parent, "other rows")
	if m3.ID == m1.ID {
		t.Error("different content gave the same id")
	}
	latest, err := Resolve(parent)
	if err != nil || filepath.Base(latest) != m3.ID {
		t.Errorf("Resolve(parent) = %s, %v; want the latest, %s", latest, err, m3.ID)
	}
	if entries, _ := filepath.Glob(filepath.Join(parent, ".staging-*")); len(entries) != 0 {
		t.Errorf("staging folders left behind: %v", entries)
	}
}

func TestVerifyNamesTheChangedFile(t *testing.T) {
	dir, _ := publish(t, t.TempDir(), "rows")
	if _, err := Verify(dir); err != nil {
		t.Fatalf("fresh snapshot: %v", err)
	}
	path := filepath.Join(dir, "billing.invoices.parquet")
	os.Chmod(path, 0o644)
	os.WriteFile(path, []byte("rowz"), 0o644)
	_, err := Verify(dir)
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("Verify after a change = %v, want ErrTampered", err)
	}
	if !strings.Contains(err.Error(), "billing.invoices.parquet") {
		t.Errorf("error does not name the file: %v", err)
	}
}

func TestVerifyDetectsAnEditedManifest(t *testing.T) {
	dir, _ := publish(t, t.TempDir(), "rows")
	path := filepath.Join(dir, ManifestFile)
	data, _ := os.ReadFile(path)
	os.Chmod(path, 0o644)
	os.WriteFile(path, []byte(strings.Replace(string(data), `"rows": 2`, `"rows": 3`, 1)), 0o644)
	if _, err := Verify(dir); !errors.Is(err, ErrTampered) {
		t.Fatalf("Verify after editing counts = %v, want ErrTampered", err)
	}
}
