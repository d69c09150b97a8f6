package evidence

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/finrecon/finrecon/internal/run"
)

// SignatureFile sits next to run.json and holds its signature: the
// standard, padded base64 of the 64-byte ed25519 signature of run.json's
// exact bytes, then a newline. Without finrecon:
//
//	base64 -d run.json.sig > sig.bin
//	openssl pkeyutl -verify -pubin -inkey finrecon.pub -rawin -in run.json -sigfile sig.bin
const SignatureFile = "run.json.sig"

// ErrBadSignature means a signature does not verify: run.json was changed
// after signing, or it was signed with another key.
var ErrBadSignature = errors.New("signature does not verify")

// GenerateKey writes a new ed25519 key pair: the private key as PEM PKCS#8
// ("PRIVATE KEY"), readable by its owner only, and the public key as PEM
// PKIX ("PUBLIC KEY"). It never overwrites an existing file, since losing
// a signing key orphans every signature made with it. It returns the
// public key's fingerprint.
func GenerateKey(privateKeyFile, publicKeyFile string) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	if err := writeNew(privateKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	if err := writeNew(publicKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		// Without its public half the private key is useless to verify:
		// remove it so that running keygen again just works.
		os.Remove(privateKeyFile)
		return "", fmt.Errorf("keygen: %w", err)
	}
	return Fingerprint(pub), nil
}

// writeNew creates path with perm, failing if it exists.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// Fingerprint names a public key in messages: "SHA256:" and the unpadded
// base64 of the SHA-256 of the raw key, as ssh-keygen prints keys.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// LoadPrivateKey reads a PEM PKCS#8 ed25519 private key. Errors name the
// file, never its content.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: not a PKCS#8 private key", path)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: a %T, not an ed25519 key (make one with finrecon keygen)", path, key)
	}
	return priv, nil
}

// LoadPublicKey reads a PEM PKIX ed25519 public key.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("public key %s: not a PKIX public key", path)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s: a %T, not an ed25519 key", path, key)
	}
	return pub, nil
}

// readPEM returns the DER bytes of the single PEM block of type want.
func readPEM(path, want string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf("key file %s: no PEM block", path)
	case block.Type == want:
		return block.Bytes, nil
	case strings.Contains(block.Type, "PRIVATE KEY"):
		// The usual mix-up; say which file is needed, not what it holds.
		return nil, fmt.Errorf("key file %s holds a private key; give the public key file", path)
	default:
		return nil, fmt.Errorf("key file %s: PEM block %q, want %q", path, block.Type, want)
	}
}

// Sign returns the content of run.json.sig for manifest, the exact bytes
// of run.json. Ed25519 is deterministic: the same key and run.json always
// give the same signature.
func Sign(manifest []byte, privateKeyFile string) ([]byte, error) {
	priv, err := LoadPrivateKey(privateKeyFile)
	if err != nil {
		return nil, err
	}
	return encodeSignature(ed25519.Sign(priv, manifest)), nil
}

func encodeSignature(sig []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(sig) + "\n")
}

// SignRun signs dir/run.json into dir/run.json.sig. Call it after run.json
// is complete and before the run folder is published, so that no reader
// ever sees the run unsigned.
func SignRun(dir, privateKeyFile string) error {
	data, err := os.ReadFile(filepath.Join(dir, run.ManifestJSON))
	if err != nil {
		return fmt.Errorf("sign run: %w", err)
	}
	sig, err := Sign(data, privateKeyFile)
	if err != nil {
		return fmt.Errorf("sign run: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SignatureFile), sig, 0o644); err != nil {
		return fmt.Errorf("sign run: %w", err)
	}
	return nil
}

// VerifySignature checks signature (the content of run.json.sig) against
// manifest (the bytes of run.json) with the public key in publicKeyFile. A
// signature that does not verify is ErrBadSignature.
func VerifySignature(manifest, signature []byte, publicKeyFile string) error {
	pub, err := LoadPublicKey(publicKeyFile)
	if err != nil {
		return err
	}
	return verifyWith(pub, manifest, signature)
}

func verifyWith(pub ed25519.PublicKey, manifest, signature []byte) error {
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(signature)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: not the base64 of a %d-byte ed25519 signature", ErrBadSignature, ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, manifest, sig) {
		// The sentinel leads: "signature does not verify with public key …"
		// reads as one sentence.
		return fmt.Errorf("%w with public key %s (run.json changed after signing, or signed with another key)", ErrBadSignature, Fingerprint(pub))
	}
	return nil
}
