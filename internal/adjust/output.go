package adjust

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/finrecon/finrecon/internal/run"
)

// batchWriter writes a batch's files aside, as temporary files in the output
// folder, and renames them into place only once all are complete.
type batchWriter struct {
	dir       string
	csvFile   *tempFile
	jsonlFile *tempFile
	batchFile *tempFile
	csv       *csv.Writer
	jsonl     *json.Encoder
	done      bool
}

// createBatch starts a batch in dir and writes the CSV header.
func createBatch(dir string) (*batchWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("adjust: %w", err)
	}
	w := &batchWriter{dir: dir}
	var err error
	if w.csvFile, err = createTemp(dir, CSVFile); err != nil {
		return nil, err
	}
	if w.jsonlFile, err = createTemp(dir, JSONLFile); err != nil {
		w.abort()
		return nil, err
	}
	w.csv = csv.NewWriter(w.csvFile)
	w.jsonl = json.NewEncoder(w.jsonlFile)
	w.jsonl.SetEscapeHTML(false) // keep "&" in partner names readable
	if err := w.csv.Write(CSVHeader); err != nil {
		w.abort()
		return nil, fmt.Errorf("adjust: write %s: %w", w.csvFile.final, err)
	}
	return w, nil
}

// writeEntry appends an entry to the CSV and the JSON Lines file.
func (w *batchWriter) writeEntry(e *entry) error {
	if err := w.csv.WriteAll(e.csvRows()); err != nil { // WriteAll flushes
		return fmt.Errorf("adjust: write %s: %w", w.csvFile.final, err)
	}
	if err := w.jsonl.Encode(e.record()); err != nil {
		return fmt.Errorf("adjust: write %s: %w", w.jsonlFile.final, err)
	}
	return nil
}

// commit completes the data files, records their digests in the header,
// writes batch.json and renames all three into place, batch.json last: a
// batch.json next to the data files says they are complete.
func (w *batchWriter) commit(header *Batch) error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return fmt.Errorf("adjust: write %s: %w", w.csvFile.final, err)
	}
	for _, t := range []*tempFile{w.csvFile, w.jsonlFile} {
		if err := t.close(); err != nil {
			return err
		}
		header.Files = append(header.Files, run.FileDigest{File: filepath.Base(t.final), SHA256: t.digest()})
	}
	data, err := json.MarshalIndent(header, "", "  ")
	if err != nil {
		return fmt.Errorf("adjust: %s: %w", BatchFile, err)
	}
	if w.batchFile, err = createTemp(w.dir, BatchFile); err != nil {
		return err
	}
	if _, err := w.batchFile.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("adjust: write %s: %w", w.batchFile.final, err)
	}
	if err := w.batchFile.close(); err != nil {
		return err
	}
	// Without batch.json the folder is an incomplete batch, should a
	// rename below fail and leave new data files next to old ones.
	if err := os.Remove(w.batchFile.final); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("adjust: %w", err)
	}
	for _, t := range []*tempFile{w.csvFile, w.jsonlFile, w.batchFile} {
		if err := t.rename(); err != nil {
			return err
		}
	}
	w.done = true
	return nil
}

// abort removes whatever temporary files remain, unless the batch was
// committed.
func (w *batchWriter) abort() {
	if w.done {
		return
	}
	for _, t := range []*tempFile{w.csvFile, w.jsonlFile, w.batchFile} {
		if t != nil {
			t.remove()
		}
	}
}

// paths are the files of a committed batch.
func (w *batchWriter) paths() []string {
	return []string{w.csvFile.final, w.jsonlFile.final, w.batchFile.final}
}

// tempFile is a file written under a temporary name, hashed as it is
// written, and renamed to its final name when complete.
type tempFile struct {
	final  string
	f      *os.File
	buf    *bufio.Writer
	sum    hash.Hash
	closed bool
}

func createTemp(dir, name string) (*tempFile, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("adjust: %w", err)
	}
	t := &tempFile{final: filepath.Join(dir, name), f: f, sum: sha256.New()}
	t.buf = bufio.NewWriter(f)
	return t, nil
}

// Write buffers p for the file and adds it to the digest.
func (t *tempFile) Write(p []byte) (int, error) {
	t.sum.Write(p) // a hash never fails
	return t.buf.Write(p)
}

func (t *tempFile) digest() string { return hex.EncodeToString(t.sum.Sum(nil)) }

// close flushes the file to disk with the permissions of an ordinary file.
func (t *tempFile) close() error {
	t.closed = true
	err := errors.Join(t.buf.Flush(), t.f.Sync(), t.f.Chmod(0o644))
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("adjust: write %s: %w", t.final, err)
	}
	return nil
}

func (t *tempFile) rename() error {
	if err := os.Rename(t.f.Name(), t.final); err != nil {
		return fmt.Errorf("adjust: %w", err)
	}
	return nil
}

// remove deletes the temporary file; errors are moot, the batch has failed.
func (t *tempFile) remove() {
	if !t.closed {
		t.f.Close()
	}
	os.Remove(t.f.Name())
}
