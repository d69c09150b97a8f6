package evidence

import (
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/finrecon/finrecon/internal/run"
)

// keyPair generates a key pair in a temporary folder.
func keyPair(t *testing.T) (priv, pub string) {
	t.Helper()
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, "finrecon.key"), filepath.Join(dir, "finrecon.pub")
	if _, err := GenerateKey(priv, pub); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func TestGenerateKey(t *testing.T) {
	priv, pub := keyPair(t)
	for path, want := range map[string]struct {
		perm  os.FileMode
		block string
	}{priv: {0o600, "PRIVATE KEY"}, pub: {0o644, "PUBLIC KEY"}} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm&^want.perm != 0 {
			t.Errorf("%s: mode %v, want at most %v", filepath.Base(path), perm, want.perm)
		}
		block, _ := pem.Decode(readFile(t, path))
		if block == nil || block.Type != want.block {
			t.Errorf("%s: PEM block %v, want %s", filepath.Base(path), block, want.block)
		}
	}
	if _, err := LoadPrivateKey(priv); err != nil {
		t.Error(err)
	}
	if _, err := LoadPublicKey(pub); err != nil {
		t.Error(err)
	}
	before := readFile(t, priv)
	if _, err := GenerateKey(priv, pub); err == nil {
		t.Error("GenerateKey overwrote an existing key")
	}
	if string(readFile(t, priv)) != string(before) {
		t.Error("the existing private key changed")
	}
}

func TestSignAndVerifySignature(t *testing.T) {
	priv, pub := keyPair(t)
	_, otherPub := keyPair(t)
	manifest := []byte(`{"run_id":"r-1"}` + "\n")
	sig, err := Sign(manifest, priv)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Sign(manifest, priv)
	if err != nil {
		t.Fatal(err)
	}
	if string(sig) != string(again) {
		t.Error("signing the same run.json twice gave different signatures")
	}
	if err := VerifySignature(manifest, sig, pub); err != nil {
		t.Errorf("good signature: %v", err)
	}
	tampered := append([]byte(nil), manifest...)
	tampered[3] ^= 1
	for name, tt := range map[string]struct {
		manifest, sig []byte
		key           string
	}{
		"edited run.json": {tampered, sig, pub},
		"wrong key":       {manifest, sig, otherPub},
		"garbage":         {manifest, []byte("not base64!\n"), pub},
		"truncated":       {manifest, sig[:20], pub},
	} {
		if err := VerifySignature(tt.manifest, tt.sig, tt.key); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}

func TestKeyFileMixUps(t *testing.T) {
	priv, pub := keyPair(t)
	if _, err := LoadPublicKey(priv); err == nil {
		t.Error("a private key file was accepted as the public key")
	}
	if _, err := LoadPrivateKey(pub); err == nil {
		t.Error("a public key file was accepted as the private key")
	}
	if _, err := Sign([]byte("x"), filepath.Join(t.TempDir(), "missing.key")); err == nil {
		t.Error("Sign with a missing key file succeeded")
	}
}

func TestVerifySignedChain(t *testing.T) {
	priv, pub := keyPair(t)
	dir := threeRuns(t, priv)
	rep := verify(t, dir, Options{PublicKeyFile: pub})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Runs {
		if !r.Signed {
			t.Errorf("run %s not marked signed", r.ID)
		}
	}
}

func TestVerifyBadSignature(t *testing.T) {
	priv, pub := keyPair(t)
	dir := threeRuns(t, priv)
	flipByte(t, filepath.Join(dir, run2, SignatureFile))
	if got := at(firstProblem(t, verify(t, dir, Options{PublicKeyFile: pub}))); got != (where{run2, SignatureFile, SignatureBad}) {
		t.Errorf("problem at %+v", got)
	}
}

func TestVerifyResignedLatestRun(t *testing.T) {
	// Editing the latest run.json (no later link guards it) is caught by
	// its signature.
	priv, pub := keyPair(t)
	dir := threeRuns(t, priv)
	flipByte(t, filepath.Join(dir, run3, run.ManifestJSON))
	rep := verify(t, dir, Options{PublicKeyFile: pub})
	found := false
	for _, p := range rep.Problems() {
		found = found || at(p) == (where{run3, SignatureFile, SignatureBad})
	}
	if !found {
		t.Errorf("edited latest run.json not caught by its signature: %v", rep.Problems())
	}
}

func TestVerifyMissingSignature(t *testing.T) {
	priv, pub := keyPair(t)
	dir := threeRuns(t, priv)
	if err := os.Remove(filepath.Join(dir, run2, SignatureFile)); err != nil {
		t.Fatal(err)
	}
	if got := at(firstProblem(t, verify(t, dir, Options{PublicKeyFile: pub}))); got != (where{run2, SignatureFile, SignatureMissing}) {
		t.Errorf("problem at %+v", got)
	}
	// Without a key, signatures are not checked.
	if err := verify(t, dir, Options{}).Err(); err != nil {
		t.Errorf("unsigned verify: %v", err)
	}
}

func TestVerifyWrongKey(t *testing.T) {
	priv, _ := keyPair(t)
	_, otherPub := keyPair(t)
	dir := threeRuns(t, priv)
	rep := verify(t, dir, Options{PublicKeyFile: otherPub})
	if n := len(rep.Problems()); n != 3 {
		t.Errorf("%d problems, want one bad signature per run: %v", n, rep.Problems())
	}
	if got := at(firstProblem(t, rep)); got != (where{run3, SignatureFile, SignatureBad}) {
		t.Errorf("problem at %+v", got)
	}
}

func TestVerifyUnsignedHistory(t *testing.T) {
	priv, pub := keyPair(t)
	dir := t.TempDir()
	writeRun(t, dir, run1, "") // before signing was switched on
	writeRun(t, dir, run2, priv)
	writeRun(t, dir, run3, priv)
	if got := at(firstProblem(t, verify(t, dir, Options{PublicKeyFile: pub}))); got != (where{run1, SignatureFile, SignatureMissing}) {
		t.Errorf("strict: problem at %+v", got)
	}
	if err := verify(t, dir, Options{PublicKeyFile: pub, AllowUnsignedHistory: true}).Err(); err != nil {
		t.Errorf("unsigned history not allowed: %v", err)
	}
	// The latest run must be signed even then: nothing else guards it.
	if err := os.Remove(filepath.Join(dir, run3, SignatureFile)); err != nil {
		t.Fatal(err)
	}
	if got := at(firstProblem(t, verify(t, dir, Options{PublicKeyFile: pub, AllowUnsignedHistory: true}))); got != (where{run3, SignatureFile, SignatureMissing}) {
		t.Errorf("unsigned latest: problem at %+v", got)
	}
}
