package evidence

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/run"
)

func verify(t *testing.T, dir string, opts Options) *Report {
	t.Helper()
	rep, err := Verify(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// firstProblem returns the report's first failure, failing the test if
// the chain verified.
func firstProblem(t *testing.T, rep *Report) *Problem {
	t.Helper()
	var p *Problem
	if !errors.As(rep.Err(), &p) {
		t.Fatalf("chain verified, want a failure; report:\n%s", written(t, rep))
	}
	return p
}

func written(t *testing.T, rep *Report) string {
	t.Helper()
	var b strings.Builder
	if err := rep.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// where is a problem's identity without its free-text detail.
type where struct {
	Run, File string
	Kind      Kind
}

func at(p *Problem) where { return where{p.Run, p.File, p.Kind} }

func TestVerifyIntactChain(t *testing.T) {
	dir := threeRuns(t, "")
	rep := verify(t, dir, Options{})
	if err := rep.Err(); err != nil {
		t.Fatalf("intact chain failed: %v", err)
	}
	var ids []string
	for _, r := range rep.Runs {
		ids = append(ids, r.ID)
		if r.Files != 3 {
			t.Errorf("run %s: %d files checked, want 3", r.ID, r.Files)
		}
	}
	if diff := cmp.Diff([]string{run3, run2, run1}, ids); diff != "" {
		t.Errorf("chain (-want +got):\n%s", diff)
	}
	if !rep.Runs[2].Start || rep.Runs[0].Start {
		t.Error("only the run without a previous link starts the chain")
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings: %v", rep.Warnings)
	}
	out := written(t, rep)
	if !strings.Contains(out, "OK: 3 run(s), 9 files") || !strings.Contains(out, manifestHash(t, dir, run3)) {
		t.Errorf("report does not say OK with the latest hash:\n%s", out)
	}
}

func TestVerifyEditedOutputNamesRunAndFile(t *testing.T) {
	dir := threeRuns(t, "")
	path := filepath.Join(dir, run2, run.BreaksCSV)
	recorded := sha256Hex(readFile(t, path))
	flipByte(t, path)
	found := sha256Hex(readFile(t, path))

	rep := verify(t, dir, Options{})
	p := firstProblem(t, rep)
	want := fmt.Sprintf("run %s: breaks.csv: sha256 mismatch (recorded %s, found %s)", run2, recorded, found)
	if p.Error() != want {
		t.Errorf("problem = %q\nwant      %q", p.Error(), want)
	}
	if len(rep.Problems()) != 1 {
		t.Errorf("problems = %v, want only the edited file", rep.Problems())
	}
	if out := written(t, rep); !strings.Contains(out, "FAIL "+want) || !strings.Contains(out, "FAILED") {
		t.Errorf("report does not show the failure:\n%s", out)
	}
}

func TestVerifyEditedRuleCopy(t *testing.T) {
	dir := threeRuns(t, "")
	flipByte(t, filepath.Join(dir, run1, "rules", "invoices.yaml"))
	if got, want := at(firstProblem(t, verify(t, dir, Options{}))), (where{run1, "rules/invoices.yaml", FileMismatch}); got != want {
		t.Errorf("problem at %+v, want %+v", got, want)
	}
}

func TestVerifyMissingOutput(t *testing.T) {
	dir := threeRuns(t, "")
	if err := os.Remove(filepath.Join(dir, run3, run.SummaryJSON)); err != nil {
		t.Fatal(err)
	}
	if got, want := at(firstProblem(t, verify(t, dir, Options{}))), (where{run3, run.SummaryJSON, FileMissing}); got != want {
		t.Errorf("problem at %+v, want %+v", got, want)
	}
}

func TestVerifyEditedManifestBreaksNextLink(t *testing.T) {
	dir := threeRuns(t, "")
	// A plausible forgery: run.json stays valid JSON, its own files still
	// match, only a recorded field changes.
	path := filepath.Join(dir, run2, run.ManifestJSON)
	edited := strings.Replace(string(readFile(t, path)), `"as_of": "2026-11-30"`, `"as_of": "2026-11-29"`, 1)
	recorded := manifestHash(t, dir, run2)
	mustWrite(t, path, edited)

	rep := verify(t, dir, Options{})
	p := firstProblem(t, rep)
	if got, want := at(p), (where{run2, run.ManifestJSON, LinkMismatch}); got != want {
		t.Errorf("problem at %+v, want %+v", got, want)
	}
	for _, s := range []string{"run " + run3, recorded, sha256Hex([]byte(edited))} {
		if !strings.Contains(p.Detail, s) {
			t.Errorf("detail %q does not mention %s", p.Detail, s)
		}
	}
	// The walk goes on past the broken link and still reaches run1.
	if len(rep.Runs) != 3 {
		t.Errorf("walk stopped at the broken link: %d runs", len(rep.Runs))
	}
}

func TestVerifyDeletedRun(t *testing.T) {
	dir := threeRuns(t, "")
	if err := os.RemoveAll(filepath.Join(dir, run2)); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, dir, Options{})
	p := firstProblem(t, rep)
	if got, want := at(p), (where{run2, "", RunMissing}); got != want {
		t.Errorf("problem at %+v, want %+v", got, want)
	}
	if !strings.Contains(p.Error(), "run "+run2+": deleted: run "+run3+" links to it") {
		t.Errorf("problem = %q", p)
	}
	// run1 is cut off from the chain: a warning, not a second failure.
	if len(rep.Warnings) != 1 || at(rep.Warnings[0]) != (where{run1, "", NotInChain}) {
		t.Errorf("warnings = %v, want run1 not in chain", rep.Warnings)
	}
}

func TestVerifyDeletedManifestOnly(t *testing.T) {
	dir := threeRuns(t, "")
	if err := os.Remove(filepath.Join(dir, run2, run.ManifestJSON)); err != nil {
		t.Fatal(err)
	}
	p := firstProblem(t, verify(t, dir, Options{}))
	if at(p) != (where{run2, "", RunMissing}) || !strings.Contains(p.Detail, "run.json is missing") {
		t.Errorf("problem = %v", p)
	}
}

func TestVerifyDeletedLatestRun(t *testing.T) {
	dir := threeRuns(t, "")
	if err := os.RemoveAll(filepath.Join(dir, run3)); err != nil {
		t.Fatal(err)
	}
	p := firstProblem(t, verify(t, dir, Options{}))
	if at(p) != (where{run3, "", RunMissing}) || !strings.Contains(p.Detail, "LATEST names it") {
		t.Errorf("problem = %v", p)
	}
}

func TestVerifyLatestMovedBackWarns(t *testing.T) {
	dir := threeRuns(t, "")
	if err := run.WriteLatest(dir, run2); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, dir, Options{})
	if err := rep.Err(); err != nil {
		t.Errorf("shortened chain failed: %v", err)
	}
	if len(rep.Warnings) != 1 || at(rep.Warnings[0]) != (where{run3, "", NotInChain}) {
		t.Errorf("warnings = %v, want run3 outside the chain", rep.Warnings)
	}
}

func TestVerifyRunWithoutLinkStartsChain(t *testing.T) {
	// Runs written before the chain existed carry no link: the oldest of
	// them that LATEST still reaches is where verification starts.
	dir := t.TempDir()
	writeRunWithLink(t, dir, run1, "", Link{})
	writeRunWithLink(t, dir, run2, "", Link{}) // a pre-chain run: run1 is left outside
	writeRun(t, dir, run3, "")
	rep := verify(t, dir, Options{})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || !rep.Runs[1].Start || rep.Runs[1].ID != run2 {
		t.Errorf("chain = %+v, want run3 ← run2 (start)", rep.Runs)
	}
	if len(rep.Warnings) != 1 || rep.Warnings[0].Run != run1 {
		t.Errorf("warnings = %v, want run1", rep.Warnings)
	}
}

func TestVerifyRenamedRunFolder(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, run1, "")
	if err := os.Rename(filepath.Join(dir, run1), filepath.Join(dir, run2)); err != nil {
		t.Fatal(err)
	}
	if err := run.WriteLatest(dir, run2); err != nil {
		t.Fatal(err)
	}
	if got := at(firstProblem(t, verify(t, dir, Options{}))); got != (where{run2, run.ManifestJSON, BadManifest}) {
		t.Errorf("problem at %+v", got)
	}
}

func TestVerifyRefusesPathsOutsideTheRun(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "secret.txt"), "x")
	mustWrite(t, filepath.Join(dir, run1, run.ManifestJSON),
		`{"run_id":"`+run1+`","outputs":[{"file":"../secret.txt","sha256":"`+sha256Hex([]byte("x"))+`"}]}`)
	if err := run.WriteLatest(dir, run1); err != nil {
		t.Fatal(err)
	}
	if got := at(firstProblem(t, verify(t, dir, Options{}))); got != (where{run1, "../secret.txt", BadManifest}) {
		t.Errorf("problem at %+v", got)
	}
}

func TestVerifyLinkLoop(t *testing.T) {
	dir := t.TempDir()
	writeRunWithLink(t, dir, run1, "", Link{PreviousRun: run2, PreviousManifestSHA256: strings.Repeat("0", 64)})
	writeRunWithLink(t, dir, run2, "", Link{PreviousRun: run1, PreviousManifestSHA256: strings.Repeat("0", 64)})
	rep := verify(t, dir, Options{}) // must terminate
	var kinds []Kind
	for _, p := range rep.Problems() {
		kinds = append(kinds, p.Kind)
	}
	if diff := cmp.Diff([]Kind{LinkMismatch, Cycle}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
}

func TestVerifyNeedsLatest(t *testing.T) {
	if _, err := Verify(t.TempDir(), Options{}); err == nil {
		t.Error("Verify of a folder without LATEST succeeded")
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
