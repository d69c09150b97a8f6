package odoo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/finrecon/finrecon/internal/atomicfile"
)

// The state folder of a system:
//
//	<state>/watermark.json         per model: the latest write_date seen and
//	                               the ids written at that second; the
//	                               mirror's scope; the Odoo version
//	<state>/mirror/<model>.jsonl   every record pulled so far, one JSON
//	                               object per line, sorted by id
//	<state>/canonical/<table>.csv  the canonical files written from the
//	                               mirror, which extract loads
//
// The mirror and the watermark change only after a whole pull succeeded:
// new files are written aside and renamed into place, the watermark last,
// so a failed or interrupted pull leaves the previous state as it was (and
// a crash between the renames leaves a mirror newer than its watermark,
// which the next pull re-reads from harmlessly).
const (
	watermarkFile = "watermark.json"
	mirrorDir     = "mirror"
	canonicalDir  = "canonical"
)

// watermarks is watermark.json.
type watermarks struct {
	// Scope fingerprints what the mirror holds (version, companies, which
	// moves, which fields); when it changes the mirror is rebuilt.
	Scope   string               `json:"scope"`
	Version string               `json:"odoo_version"`
	Models  map[string]watermark `json:"models"`
}

// watermark is one model's: Odoo's write_date has one-second resolution, so
// the next pull asks for write_date >= WriteDate (minus the overlap) and
// merges by id, which makes reading a record twice harmless.
type watermark struct {
	WriteDate string  `json:"write_date"`
	IDs       []int64 `json:"ids_at_write_date"`
}

type state struct {
	dir string
	wm  watermarks
	// found reports whether a previous pull left a watermark.
	found bool
	// damaged is set when the watermark cannot be read: only a full pull
	// may go on.
	damaged error
}

func openState(dir string) (*state, error) {
	if err := os.MkdirAll(filepath.Join(dir, mirrorDir), 0o755); err != nil {
		return nil, fmt.Errorf("odoo state folder: %w", err)
	}
	st := &state{dir: dir, wm: watermarks{Models: map[string]watermark{}}}
	data, err := os.ReadFile(filepath.Join(dir, watermarkFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return st, nil
	case err != nil:
		return nil, fmt.Errorf("odoo state: %w", err)
	}
	if err := json.Unmarshal(data, &st.wm); err != nil {
		st.damaged = fmt.Errorf("odoo state: %s is damaged (%v): run with --full to rebuild the mirror", filepath.Join(dir, watermarkFile), err)
		st.wm = watermarks{Models: map[string]watermark{}}
		return st, nil
	}
	if st.wm.Models == nil {
		st.wm.Models = map[string]watermark{}
	}
	st.found = true
	return st, nil
}

func (st *state) mirrorPath(modelName string) string {
	return filepath.Join(st.dir, mirrorDir, modelName+".jsonl")
}

// saveWatermarks commits the watermarks: the last step of a pull.
func (st *state) saveWatermarks(wm watermarks) error {
	data, err := json.MarshalIndent(wm, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(st.dir, watermarkFile), func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// pendingFile is a file written under a temporary name beside its
// destination, synced, and renamed into place by commit — or removed by
// discard. Mirror and canonical files are written this way so that a pull
// changes nothing until it has fully succeeded.
type pendingFile struct {
	f    *os.File
	w    *bufio.Writer
	dest string
	// n counts the records (lines) written.
	n int
}

func createPending(dest string) (*pendingFile, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &pendingFile{f: f, w: bufio.NewWriterSize(f, 1<<16), dest: dest}, nil
}

func (p *pendingFile) Write(b []byte) (int, error) { return p.w.Write(b) }

// path is where the file is now: its temporary name.
func (p *pendingFile) path() string { return p.f.Name() }

// writeRaw writes one record line (without its newline).
func (p *pendingFile) writeRaw(line []byte) error {
	p.n++
	if _, err := p.w.Write(line); err != nil {
		return err
	}
	return p.w.WriteByte('\n')
}

func (p *pendingFile) write(r Record) error {
	line, err := json.Marshal(r) // map keys sorted: the same record gives the same line
	if err != nil {
		return err
	}
	return p.writeRaw(line)
}

// finish flushes and syncs the file, leaving it in its temporary place.
func (p *pendingFile) finish() error {
	if err := p.w.Flush(); err != nil {
		p.f.Close()
		return err
	}
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		return err
	}
	return p.f.Close()
}

func (p *pendingFile) commit() error {
	if err := os.Rename(p.f.Name(), p.dest); err != nil {
		return err
	}
	atomicfile.SyncDir(filepath.Dir(p.dest))
	return nil
}

// discard removes the temporary file; after commit it finds nothing to
// remove.
func (p *pendingFile) discard() {
	p.f.Close()
	os.Remove(p.f.Name())
}

// jsonlReader reads a mirror file line by line, each with its id.
type jsonlReader struct {
	f  *os.File
	r  *bufio.Reader
	id int64
	// line is the current record's JSON, valid until the next call.
	line []byte
}

// openJSONL opens path; a missing file, or no path, reads as empty.
func openJSONL(path string) (*jsonlReader, error) {
	if path == "" {
		return &jsonlReader{}, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &jsonlReader{}, nil
	}
	if err != nil {
		return nil, err
	}
	return &jsonlReader{f: f, r: bufio.NewReaderSize(f, 1<<16)}, nil
}

// next advances to the next record; it returns false at the end.
func (j *jsonlReader) next() (bool, error) {
	if j.f == nil {
		return false, nil
	}
	for {
		line, err := j.r.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return false, err
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			var head struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(line, &head); err != nil {
				return false, fmt.Errorf("%s: damaged line (%v): run with --full to rebuild the mirror", j.f.Name(), err)
			}
			j.id, j.line = head.ID, line
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
	}
}

func (j *jsonlReader) record() (Record, error) {
	var r Record
	if err := decodeJSON(j.line, &r); err != nil {
		return nil, err
	}
	return r, nil
}

func (j *jsonlReader) close() {
	if j.f != nil {
		j.f.Close()
	}
}

// eachRecord calls fn for every record of a mirror file, in id order.
func eachRecord(path string, fn func(Record) error) error {
	rd, err := openJSONL(path)
	if err != nil {
		return err
	}
	defer rd.close()
	for {
		ok, err := rd.next()
		if err != nil || !ok {
			return err
		}
		r, err := rd.record()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

// mergeMirror writes to out the old mirror with the pulled records (delta,
// newer) merged in by id. When live is not nil, only records whose id it
// holds are kept: the others were deleted in Odoo or left the scope. All
// three are sorted by id, so the merge streams. It returns how many old
// records were dropped.
func mergeMirror(oldPath, deltaPath string, live []int64, out *pendingFile) (int, error) {
	old, err := openJSONL(oldPath)
	if err != nil {
		return 0, err
	}
	defer old.close()
	delta, err := openJSONL(deltaPath)
	if err != nil {
		return 0, err
	}
	defer delta.close()
	isLive := func(id int64) bool {
		if live == nil {
			return true
		}
		i := sort.Search(len(live), func(i int) bool { return live[i] >= id })
		return i < len(live) && live[i] == id
	}
	okOld, err := old.next()
	if err != nil {
		return 0, err
	}
	okDelta, err := delta.next()
	if err != nil {
		return 0, err
	}
	dropped := 0
	for okOld || okDelta {
		var (
			from *jsonlReader
			drop bool
		)
		switch {
		case okDelta && (!okOld || delta.id <= old.id):
			from = delta
			if okOld && old.id == delta.id { // the pulled version wins
				if okOld, err = old.next(); err != nil {
					return 0, err
				}
			}
		default:
			from = old
			drop = !isLive(old.id)
		}
		if drop {
			dropped++
		} else if isLive(from.id) {
			if err := out.writeRaw(from.line); err != nil {
				return 0, err
			}
		}
		var ok bool
		if ok, err = from.next(); err != nil {
			return 0, err
		}
		if from == old {
			okOld = ok
		} else {
			okDelta = ok
		}
	}
	return dropped, nil
}

// writeFileAtomic writes path whole or not at all (see atomicfile).
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	return atomicfile.Write(path, 0o600, fill)
}
