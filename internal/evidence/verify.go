package evidence

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
)

// Options are Verify's settings.
type Options struct {
	// PublicKeyFile, when set, makes a good signature mandatory for every
	// run in the chain.
	PublicKeyFile string
	// AllowUnsignedHistory accepts unsigned runs older than the oldest
	// signed run, for a runs folder where signing was switched on later:
	// the signed run's link covers them through the hash chain. The latest
	// run must be signed all the same.
	AllowUnsignedHistory bool
}

// Kind classifies a problem, for callers that branch on it.
type Kind int

// Kinds of problems. All are failures except NotInChain, a warning.
const (
	FileMismatch     Kind = iota + 1 // a file's SHA-256 differs from run.json's
	FileMissing                      // a file run.json lists is gone or unreadable
	LinkMismatch                     // run.json differs from what the next run recorded
	RunMissing                       // a run named by LATEST or a link is gone
	BadManifest                      // run.json is unreadable, inconsistent or unsafe
	Cycle                            // the links loop
	SignatureMissing                 // no run.json.sig, and a public key was given
	SignatureBad                     // run.json.sig does not verify
	NotInChain                       // a run folder the chain does not reach
)

var kindNames = map[Kind]string{
	FileMismatch: "file_mismatch", FileMissing: "file_missing", LinkMismatch: "link_mismatch",
	RunMissing: "run_missing", BadManifest: "bad_manifest", Cycle: "cycle",
	SignatureMissing: "signature_missing", SignatureBad: "signature_bad", NotInChain: "not_in_chain",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Problem is one finding about one run, and an error.
type Problem struct {
	Run    string // run id (the run folder's name)
	File   string // relative to the run folder; empty for the run as a whole
	Kind   Kind
	Detail string
}

// Error reads "run <id>: <file>: <detail>".
func (p *Problem) Error() string {
	if p.File == "" {
		return fmt.Sprintf("run %s: %s", p.Run, p.Detail)
	}
	return fmt.Sprintf("run %s: %s: %s", p.Run, p.File, p.Detail)
}

// RunResult is what Verify found about one run of the chain.
type RunResult struct {
	ID             string
	ManifestSHA256 string // of run.json; empty when it is missing
	Files          int    // recorded files checked (outputs and rule copies)
	Signed         bool   // its signature verified
	Start          bool   // it records no previous run: the chain starts here
	Problems       []*Problem
}

// Report is the outcome of Verify.
type Report struct {
	RunsDir  string
	Latest   string       // the run LATEST names
	Runs     []*RunResult // the chain, newest first, as far as it could be followed
	Warnings []*Problem   // run folders outside the chain
}

// Problems lists every failure, newest run first.
func (r *Report) Problems() []*Problem {
	var out []*Problem
	for _, res := range r.Runs {
		out = append(out, res.Problems...)
	}
	return out
}

// Err returns the first failure (newest run first) as a *Problem, or nil
// when the chain verified.
func (r *Report) Err() error {
	if ps := r.Problems(); len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// Verify walks the chain of runsDir from the run LATEST names back to the
// first run. For every run it recomputes the SHA-256 of each file run.json
// lists, checks that run.json is what the next run linked to, and checks
// the signature when a public key is given. Findings go in the Report; an
// error means verification could not be done at all (no LATEST, a bad key
// file).
func Verify(runsDir string, opts Options) (*Report, error) {
	var pub ed25519.PublicKey
	if opts.PublicKeyFile != "" {
		var err error
		if pub, err = LoadPublicKey(opts.PublicKeyFile); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
	}
	latest, err := readLatest(runsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("verify %s: no %s file: not a runs folder, or its %s was deleted", runsDir, run.LatestFile, run.LatestFile)
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", runsDir, err)
	}
	rep := &Report{RunsDir: runsDir, Latest: latest}
	seen := walk(rep, pub)
	if pub != nil && opts.AllowUnsignedHistory {
		forgiveUnsignedHistory(rep)
	}
	if err := findOutsiders(rep, seen); err != nil {
		return nil, err
	}
	return rep, nil
}

// walk follows the links from LATEST and returns the runs it reached.
func walk(rep *Report, pub ed25519.PublicKey) map[string]bool {
	seen := map[string]bool{}
	id, newer, expect := rep.Latest, "", ""
	for {
		if seen[id] {
			last := rep.Runs[len(rep.Runs)-1]
			last.add(run.ManifestJSON, Cycle, fmt.Sprintf("previous_run %s leads back into the chain: the links loop", id))
			return seen
		}
		seen[id] = true
		res := &RunResult{ID: id}
		rep.Runs = append(rep.Runs, res)
		prev, ok := checkRun(rep.RunsDir, res, newer, expect, pub)
		if !ok {
			return seen
		}
		if prev.PreviousRun == "" {
			res.Start = true
			return seen
		}
		newer, id, expect = id, prev.PreviousRun, prev.PreviousManifestSHA256
	}
}

// checkRun checks one run; newer and expect are the run that links to it
// and the hash that run recorded (both empty for the latest run). It
// returns the run's own link, and false when the chain cannot be followed
// further.
func checkRun(runsDir string, res *RunResult, newer, expect string, pub ed25519.PublicKey) (Link, bool) {
	dir := filepath.Join(runsDir, res.ID)
	data, err := os.ReadFile(filepath.Join(dir, run.ManifestJSON))
	if err != nil {
		res.add("", RunMissing, missingDetail(dir, newer, expect, err))
		return Link{}, false
	}
	res.ManifestSHA256 = sha256Hex(data)
	if expect != "" && res.ManifestSHA256 != expect {
		res.add(run.ManifestJSON, LinkMismatch, fmt.Sprintf("sha256 mismatch with the link in run %s (recorded %s, found %s): edited after run %s was written",
			newer, expect, res.ManifestSHA256, newer))
	}
	m, err := parseManifest(data)
	if err != nil {
		res.add(run.ManifestJSON, BadManifest, err.Error())
		return Link{}, false
	}
	if m.RunID != res.ID {
		res.add(run.ManifestJSON, BadManifest, fmt.Sprintf("run_id is %q, not the folder's name", m.RunID))
	}
	checkFiles(dir, m, res)
	if pub != nil {
		checkSignature(dir, data, res, pub)
	}
	if m.PreviousRun != "" && (!isRunID(m.PreviousRun) || m.PreviousManifestSHA256 == "") {
		res.add(run.ManifestJSON, BadManifest, fmt.Sprintf("previous_run %q without a valid previous_manifest_sha256, or not a run id", m.PreviousRun))
		return Link{}, false
	}
	return m.Link, true
}

// missingDetail explains a run that LATEST or a link names but that is gone.
func missingDetail(dir, newer, expect string, err error) string {
	what := dir + " does not exist"
	if _, statErr := os.Stat(dir); statErr == nil {
		what = fmt.Sprintf("its %s cannot be read (%v)", run.ManifestJSON, err)
		if errors.Is(err, fs.ErrNotExist) {
			what = "its " + run.ManifestJSON + " is missing"
		}
	}
	if newer == "" {
		return fmt.Sprintf("deleted: %s names it, but %s", run.LatestFile, what)
	}
	return fmt.Sprintf("deleted: run %s links to it (run.json sha256 %s), but %s", newer, expect, what)
}

func parseManifest(data []byte) (*manifest, error) {
	m, err := decodeManifest(data)
	if err != nil {
		return nil, err
	}
	if len(m.Outputs) == 0 {
		return nil, errors.New("lists no outputs: nothing to verify")
	}
	return m, nil
}

// checkFiles recomputes the hash of every output and rule copy run.json
// lists.
func checkFiles(dir string, m *manifest, res *RunResult) {
	files := slices.Concat(m.Outputs, m.Rules)
	if m.History != nil {
		files = append(files, *m.History)
	}
	for _, d := range files {
		rel := filepath.FromSlash(d.File)
		if !filepath.IsLocal(rel) {
			res.add(d.File, BadManifest, "path leaves the run folder")
			continue
		}
		got, err := snapshot.HashFile(filepath.Join(dir, rel))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			res.add(d.File, FileMissing, fmt.Sprintf("missing (recorded sha256 %s)", d.SHA256))
		case err != nil:
			res.add(d.File, FileMissing, fmt.Sprintf("cannot be read: %v", err))
		case got != d.SHA256:
			res.add(d.File, FileMismatch, fmt.Sprintf("sha256 mismatch (recorded %s, found %s)", d.SHA256, got))
		default:
			res.Files++
		}
	}
}

func checkSignature(dir string, manifest []byte, res *RunResult, pub ed25519.PublicKey) {
	sig, err := os.ReadFile(filepath.Join(dir, SignatureFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.add(SignatureFile, SignatureMissing, "missing, and verify was given a public key")
	case err != nil:
		res.add(SignatureFile, SignatureBad, fmt.Sprintf("cannot be read: %v", err))
	default:
		if err := verifyWith(pub, manifest, sig); err != nil {
			res.add(SignatureFile, SignatureBad, err.Error())
			return
		}
		res.Signed = true
	}
}

// forgiveUnsignedHistory drops the missing-signature findings of runs
// older than the oldest signed run; never the latest run's.
func forgiveUnsignedHistory(rep *Report) {
	oldestSigned := -1
	for i, res := range rep.Runs {
		if res.Signed {
			oldestSigned = i
		}
	}
	if oldestSigned < 0 {
		return
	}
	for _, res := range rep.Runs[oldestSigned+1:] {
		res.Problems = slices.DeleteFunc(res.Problems, func(p *Problem) bool { return p.Kind == SignatureMissing })
	}
}

// findOutsiders warns about run folders the chain did not reach: runs
// written before the chain existed, runs cut off by a deleted or broken
// run, or newer runs left behind when LATEST was moved back.
func findOutsiders(rep *Report, seen map[string]bool) error {
	entries, err := os.ReadDir(rep.RunsDir)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	for _, e := range entries { // ReadDir sorts by name: warnings are stable
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || seen[name] {
			continue // dot folders are match's staging
		}
		detail := "not in the chain from " + run.LatestFile + ": written before the evidence chain, cut off by a missing or broken run, or " + run.LatestFile + " was moved back"
		if _, err := os.Stat(filepath.Join(rep.RunsDir, name, run.ManifestJSON)); err != nil {
			detail = "a folder without " + run.ManifestJSON + " in the runs folder"
		}
		rep.Warnings = append(rep.Warnings, &Problem{Run: name, Kind: NotInChain, Detail: detail})
	}
	return nil
}

func (res *RunResult) add(file string, kind Kind, detail string) {
	res.Problems = append(res.Problems, &Problem{Run: res.ID, File: file, Kind: kind, Detail: detail})
}

// Write prints the report for a person: one line per run (its findings, or
// ok), the warnings, and a verdict with the latest run.json's hash, which
// an auditor can record elsewhere: the chain cannot show that its newest
// runs were deleted together with LATEST being moved back.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	var files, signed int
	for _, res := range r.Runs {
		files += res.Files
		if res.Signed {
			signed++
		}
		for _, p := range res.Problems {
			fmt.Fprintf(&b, "FAIL %s\n", p)
		}
		if len(res.Problems) == 0 {
			fmt.Fprintf(&b, "ok   run %s: %d files%s%s\n", res.ID, res.Files, flag(res.Signed, ", signed"), flag(res.Start, ", chain start"))
		}
	}
	for _, p := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", p)
	}
	if n := len(r.Problems()); n > 0 {
		fmt.Fprintf(&b, "verify %s: FAILED: %d problem(s) in a chain of %d run(s)\n", r.RunsDir, n, len(r.Runs))
	} else {
		fmt.Fprintf(&b, "verify %s: OK: %d run(s), %d files, %d signature(s); latest %s, run.json sha256 %s\n",
			r.RunsDir, len(r.Runs), files, signed, r.Latest, r.Runs[0].ManifestSHA256)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func flag(on bool, s string) string {
	if on {
		return s
	}
	return ""
}
