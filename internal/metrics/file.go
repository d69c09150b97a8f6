package metrics

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes the set to path atomically: node_exporter's textfile
// collector may read the file at any moment and must see either the old
// content or the new, never half of it.
func (s *Set) WriteFile(path string) error {
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		return err
	}
	if err := writeAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

// writeAtomic writes a temporary file in path's folder (a rename is atomic
// only within one file system), flushes it to disk, and renames it over
// path. The temporary name does not end in .prom, so the collector never
// reads it.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; node_exporter usually runs as
	// another user and must be able to read it.
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	// Flush before the rename: otherwise a crash can leave the new name
	// pointing at an empty file.
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes the rename itself durable. It is best effort: the new file
// is already in place for readers, and some systems cannot sync a folder;
// losing the rename in a crash only leaves the previous run's metrics.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
