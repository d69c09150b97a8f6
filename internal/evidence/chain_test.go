package evidence

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/run"
)

// fakeManifest mirrors run.Manifest with the link fields this package
// proposes, in the order match would write them.
type fakeManifest struct {
	RunID                  string           `json:"run_id"`
	ToolVersion            string           `json:"tool_version"`
	SnapshotID             string           `json:"snapshot_id"`
	AsOf                   string           `json:"as_of"`
	Rules                  []run.FileDigest `json:"rules"`
	Outputs                []run.FileDigest `json:"outputs"`
	PreviousRun            string           `json:"previous_run,omitempty"`
	PreviousManifestSHA256 string           `json:"previous_manifest_sha256,omitempty"`
}

// writeRun writes a fake run the way match does: outputs and a rule copy,
// run.json with the link LinkFor gives, a signature when key is set, then
// LATEST.
func writeRun(t *testing.T, runsDir, id, key string) {
	t.Helper()
	link, err := LinkFor(runsDir, id)
	if err != nil {
		t.Fatal(err)
	}
	writeRunWithLink(t, runsDir, id, key, link)
}

func writeRunWithLink(t *testing.T, runsDir, id, key string, link Link) {
	t.Helper()
	dir := filepath.Join(runsDir, id)
	m := fakeManifest{RunID: id, ToolVersion: "test", SnapshotID: "s-1", AsOf: "2026-11-30",
		PreviousRun: link.PreviousRun, PreviousManifestSHA256: link.PreviousManifestSHA256}
	files := map[string]string{
		run.BreaksCSV:         "break_id,recon\nb1," + id + "\n",
		run.SummaryJSON:       `{"run_id":"` + id + `"}`,
		"rules/invoices.yaml": "recon: invoices\n",
	}
	// Sorted, as match writes them: run.json must not depend on map order.
	for _, name := range slices.Sorted(maps.Keys(files)) {
		content := files[name]
		path := filepath.Join(dir, filepath.FromSlash(name))
		mustWrite(t, path, content)
		d := run.FileDigest{File: name, SHA256: sha256Hex([]byte(content))}
		if filepath.Dir(name) == run.RulesDir {
			m.Rules = append(m.Rules, d)
		} else {
			m.Outputs = append(m.Outputs, d)
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, run.ManifestJSON), string(data)+"\n")
	if key != "" {
		if err := SignRun(dir, key); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.WriteLatest(runsDir, id); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// flipByte changes one byte of a file in place.
func flipByte(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func manifestHash(t *testing.T, runsDir, id string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(runsDir, id, run.ManifestJSON))
	if err != nil {
		t.Fatal(err)
	}
	return sha256Hex(data)
}

// Run ids as match makes them: r-<as-of>-<hash prefix>.
const (
	run1 = "r-20261128-aaaaaaaaaaaa"
	run2 = "r-20261129-bbbbbbbbbbbb"
	run3 = "r-20261130-cccccccccccc"
)

// threeRuns writes run1 ← run2 ← run3 and returns the runs folder.
func threeRuns(t *testing.T, key string) string {
	t.Helper()
	dir := t.TempDir()
	for _, id := range []string{run1, run2, run3} {
		writeRun(t, dir, id, key)
	}
	return dir
}

func TestLinkForFirstRunStartsChain(t *testing.T) {
	link, err := LinkFor(t.TempDir(), run1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Link{}, link); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLinkForRecordsLatestHash(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, run1, "")
	link, err := LinkFor(dir, run2)
	if err != nil {
		t.Fatal(err)
	}
	want := Link{PreviousRun: run1, PreviousManifestSHA256: manifestHash(t, dir, run1)}
	if diff := cmp.Diff(want, link); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLinkForRerunOfLatestKeepsItsLink(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, run1, "")
	writeRun(t, dir, run2, "")
	before := manifestHash(t, dir, run2)
	// Same inputs, same id: the run replaces itself and keeps its place.
	writeRun(t, dir, run2, "")
	if after := manifestHash(t, dir, run2); after != before {
		t.Errorf("re-running the latest run changed run.json: %s → %s", before, after)
	}
	rep, err := Verify(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("chain broken by a re-run: %v", err)
	}
}

func TestLinkForRefusesToRewritePastRun(t *testing.T) {
	dir := threeRuns(t, "")
	_, err := LinkFor(dir, run2)
	if !errors.Is(err, ErrRewritesHistory) {
		t.Errorf("LinkFor(past run) = %v, want ErrRewritesHistory", err)
	}
}

func TestLinkForLatestRunMissing(t *testing.T) {
	dir := threeRuns(t, "")
	if err := os.RemoveAll(filepath.Join(dir, run3)); err != nil {
		t.Fatal(err)
	}
	if _, err := LinkFor(dir, "r-20261201-dddddddddddd"); err == nil {
		t.Error("LinkFor linked to a deleted latest run")
	}
}

func TestLinkForRejectsUnsafeIDs(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"", ".staging", "../elsewhere", "a/b"} {
		if _, err := LinkFor(dir, id); err == nil {
			t.Errorf("LinkFor(%q) accepted", id)
		}
	}
	mustWrite(t, filepath.Join(dir, run.LatestFile), "../../etc\n")
	if _, err := LinkFor(dir, run1); err == nil {
		t.Error("LinkFor followed a LATEST that leaves the runs folder")
	}
}
