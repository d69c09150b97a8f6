// Package snapshot publishes and verifies immutable snapshots: one Parquet
// file per dataset, the rejected rows, and manifest.json with counts and
// SHA-256 hashes (DESIGN §2). A snapshot is written aside and renamed into
// place, its id is derived from its content, and nothing ever modifies it
// afterwards. The package does not know how the Parquet files were made.
package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ManifestFile is the name of a snapshot's manifest.
const ManifestFile = "manifest.json"

// RejectsFile holds every rejected input row of a snapshot.
const RejectsFile = "rejects.parquet"

// Manifest describes a snapshot. Everything that feeds the id is content.
type Manifest struct {
	ID            string `json:"id"`
	SchemaVersion int    `json:"schema_version"`
	ToolVersion   string `json:"tool_version"`
	// AsOf is the extraction's as-of date; Window the source time window
	// where a source is incremental (empty for files read whole).
	AsOf     string    `json:"as_of"`
	Window   *Window   `json:"window,omitempty"`
	Datasets []Dataset `json:"datasets"`
	Rejects  File      `json:"rejects"`
}

// Window is a source time window.
type Window struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// File is one file of the snapshot.
type File struct {
	File   string `json:"file"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

// Dataset is one dataset's Parquet file and the sources it came from.
type Dataset struct {
	Name string `json:"name"`
	File
	Sources []Source `json:"sources"`
}

// Source counts one source's rows: Read = Accepted + Rejected.
type Source struct {
	Path     string `json:"path"`
	Format   string `json:"format"`
	SHA256   string `json:"sha256"`
	Read     int64  `json:"read"`
	Accepted int64  `json:"accepted"`
	Rejected int64  `json:"rejected"`
}

// Dataset returns the dataset called name.
func (m *Manifest) Dataset(name string) (Dataset, bool) {
	for _, d := range m.Datasets {
		if d.Name == name {
			return d, true
		}
	}
	return Dataset{}, false
}

// computeID derives the id from the content: schema version, and each data
// file's name, row count and hash. Tool version and as-of are metadata: the
// same data extracted twice is the same snapshot.
func (m *Manifest) computeID() string {
	h := sha256.New()
	fmt.Fprintf(h, "schema %d\n", m.SchemaVersion)
	for _, d := range m.Datasets {
		fmt.Fprintf(h, "%s %d %s\n", d.File.File, d.Rows, d.SHA256)
	}
	fmt.Fprintf(h, "%s %d %s\n", m.Rejects.File, m.Rejects.Rows, m.Rejects.SHA256)
	return "s-" + hex.EncodeToString(h.Sum(nil))[:20]
}

// Publish hashes the files in staging (a folder inside parent), completes the
// manifest, writes it and renames staging to parent/<id>. Publishing the same
// content twice keeps the first snapshot and discards staging.
func Publish(staging, parent string, m *Manifest) (string, error) {
	for i := range m.Datasets {
		sum, err := HashFile(filepath.Join(staging, m.Datasets[i].File.File))
		if err != nil {
			return "", fmt.Errorf("publish snapshot: %w", err)
		}
		m.Datasets[i].SHA256 = sum
	}
	sort.Slice(m.Datasets, func(i, j int) bool { return m.Datasets[i].Name < m.Datasets[j].Name })
	sum, err := HashFile(filepath.Join(staging, m.Rejects.File))
	if err != nil {
		return "", fmt.Errorf("publish snapshot: %w", err)
	}
	m.Rejects.SHA256 = sum
	m.ID = m.computeID()
	if err := writeJSON(filepath.Join(staging, ManifestFile), m); err != nil {
		return "", fmt.Errorf("publish snapshot: %w", err)
	}
	if err := freeze(staging); err != nil {
		return "", fmt.Errorf("publish snapshot: %w", err)
	}
	final := filepath.Join(parent, m.ID)
	if _, err := os.Stat(final); err == nil {
		// Same content already published: snapshots are immutable.
		return final, os.RemoveAll(staging)
	}
	if err := os.Rename(staging, final); err != nil {
		return "", fmt.Errorf("publish snapshot: %w", err)
	}
	if err := writeLatest(parent, m.ID); err != nil {
		return "", err
	}
	return final, nil
}

// freeze makes the snapshot's files read-only: a reminder, not a guard
// (Verify is the guard), that a published snapshot is never edited.
func freeze(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o444); err != nil {
			return err
		}
	}
	return nil
}

// LatestFile in a snapshots folder names the most recently published one.
const LatestFile = "LATEST"

func writeLatest(parent, id string) error {
	tmp := filepath.Join(parent, "."+LatestFile+".tmp")
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return fmt.Errorf("publish snapshot: %w", err)
	}
	return os.Rename(tmp, filepath.Join(parent, LatestFile))
}

// Resolve turns a snapshot reference into a folder: a snapshot folder
// itself, or a snapshots folder (its latest snapshot).
func Resolve(ref string) (string, error) {
	if _, err := os.Stat(filepath.Join(ref, ManifestFile)); err == nil {
		return ref, nil
	}
	data, err := os.ReadFile(filepath.Join(ref, LatestFile))
	if err != nil {
		return "", fmt.Errorf("snapshot %s: not a snapshot (no %s) nor a snapshots folder (no %s); run finrecon extract first", ref, ManifestFile, LatestFile)
	}
	return filepath.Join(ref, strings.TrimSpace(string(data))), nil
}

// Open reads the manifest of the snapshot in dir.
func Open(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", dir, err)
	}
	return &m, nil
}

// ErrTampered is returned (wrapped) when a snapshot's content no longer
// matches its manifest.
var ErrTampered = errors.New("snapshot changed since it was published")

// Verify re-hashes every file of the snapshot in dir against its manifest
// and checks the id. Every mismatch is reported, each naming its file.
func Verify(dir string) (*Manifest, error) {
	m, err := Open(dir)
	if err != nil {
		return nil, err
	}
	var errs []error
	check := func(f File) {
		got, err := HashFile(filepath.Join(dir, f.File))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w: %w", f.File, ErrTampered, err))
		case got != f.SHA256:
			errs = append(errs, fmt.Errorf("%s: %w: sha256 is %s, manifest says %s", filepath.Join(dir, f.File), ErrTampered, got, f.SHA256))
		}
	}
	for _, d := range m.Datasets {
		check(d.File)
	}
	check(m.Rejects)
	if id := m.computeID(); id != m.ID {
		errs = append(errs, fmt.Errorf("%s: %w: content gives id %s, manifest says %s", filepath.Join(dir, ManifestFile), ErrTampered, id, m.ID))
	}
	return m, errors.Join(errs...)
}

// HashFile returns the hex SHA-256 of a file.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
