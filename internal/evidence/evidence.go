// Package evidence makes past runs tamper-evident. Each run.json records
// the SHA-256 of the previous run's run.json (a hash chain), so editing or
// deleting a past run breaks the link held by the next one; a run may also
// carry an ed25519 signature of its run.json. Verify walks the chain and
// checks every recorded file. The package does not write runs or decide
// exit codes: match writes run.json with the Link this package computes,
// and the command reports what Verify found.
package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/finrecon/finrecon/internal/run"
)

// Link is what a run records about the run before it in the same runs
// folder. Its fields belong in run.Manifest, under these JSON names; both
// are empty for the first run of a chain.
type Link struct {
	PreviousRun            string `json:"previous_run,omitempty"`
	PreviousManifestSHA256 string `json:"previous_manifest_sha256,omitempty"`
}

// ErrRewritesHistory means a run would replace a run folder that is
// already in the chain and not the latest: the run after it holds that
// folder's hash, so writing it again would break the evidence. Re-running
// the latest run is allowed; it takes the same place in the chain.
var ErrRewritesHistory = errors.New("would rewrite a past run of the evidence chain")

// LinkFor returns the Link that run runID, about to be written into
// runsDir, must record. Call it before writing run.json: the link is part
// of what run.json's hash (and the next run's link) covers.
func LinkFor(runsDir, runID string) (Link, error) {
	if !isRunID(runID) {
		return Link{}, fmt.Errorf("evidence: %q is not a run id", runID)
	}
	latest, err := readLatest(runsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return Link{}, nil // the first run of this folder starts the chain
	}
	if err != nil {
		return Link{}, err
	}
	if latest == runID {
		// Same inputs as the latest run give the same id and replace its
		// folder: keep its link, so the chain reads as if it ran once.
		m, _, err := readManifest(filepath.Join(runsDir, runID))
		if err != nil {
			return Link{}, fmt.Errorf("evidence: re-running latest run %s: %w", runID, err)
		}
		return m.Link, nil
	}
	if _, err := os.Stat(filepath.Join(runsDir, runID, run.ManifestJSON)); err == nil {
		return Link{}, fmt.Errorf("evidence: run %s already exists in %s and is not the latest (%s): %w; use finrecon replay to re-run a past night, or another runs folder",
			runID, runsDir, latest, ErrRewritesHistory)
	}
	_, sum, err := readManifest(filepath.Join(runsDir, latest))
	if err != nil {
		return Link{}, fmt.Errorf("evidence: %s names run %s as the latest: %w (run finrecon verify %s)", run.LatestFile, latest, err, runsDir)
	}
	return Link{PreviousRun: latest, PreviousManifestSHA256: sum}, nil
}

// manifest holds the fields of run.json this package needs. It reads
// run.json on its own rather than through run.Manifest so that it checks
// exactly the bytes on disk and ignores fields it does not know.
type manifest struct {
	RunID   string           `json:"run_id"`
	Rules   []run.FileDigest `json:"rules"`
	Outputs []run.FileDigest `json:"outputs"`
	History *run.FileDigest  `json:"history,omitempty"`
	Link
}

// readManifest reads dir/run.json and returns it with the SHA-256 of its
// bytes.
func readManifest(dir string) (*manifest, string, error) {
	path := filepath.Join(dir, run.ManifestJSON)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return m, sha256Hex(data), nil
}

func decodeManifest(data []byte) (*manifest, error) {
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	return &m, nil
}

// readLatest returns the run id the runs folder's LATEST file names.
func readLatest(runsDir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(runsDir, run.LatestFile))
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(data))
	if !isRunID(id) {
		return "", fmt.Errorf("evidence: %s: %q is not a run id", filepath.Join(runsDir, run.LatestFile), id)
	}
	return id, nil
}

// isRunID accepts a single, visible folder name: a run id read from a file
// must not lead outside the runs folder.
func isRunID(id string) bool {
	return id != "" && !strings.HasPrefix(id, ".") && !strings.ContainsAny(id, `/\`) && filepath.IsLocal(id)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
