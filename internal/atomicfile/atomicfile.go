// Package atomicfile replaces a file whole or not at all: readers (a
// metrics collector, the next run) see the old content or the new, never
// half of it, and a crash leaves no half-written file under the real name.
package atomicfile

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// Write writes path by filling a temporary file beside it (a rename is
// atomic only within one file system), flushing it to disk, setting perm
// and renaming it over path. The temporary name starts with a dot and does
// not end like path, so globbing collectors never read it. On any error
// path is left as it was.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) (err error) {
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
	w := bufio.NewWriter(f)
	if err := fill(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600.
	if err := f.Chmod(perm); err != nil {
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
	SyncDir(dir)
	return nil
}

// SyncDir makes a rename in dir durable. It is best effort: the new file
// is already in place for readers, and some systems cannot sync a folder.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
