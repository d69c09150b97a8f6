package report

// Why this file exists. excelize's StreamWriter (v2.11.1, stream.go
// setCellValFunc) writes a numeric cell only from Go integers, floats,
// durations and times; a string, a []byte, or any other type (a
// fmt.Stringer included, via fmt.Sprint) becomes an inline string. So an
// amount like 1234.5678 could reach a numeric cell only through float64,
// which our code never holds money in. Instead the breaks writer puts the
// decimal's exact digits in an inline-string cell with a money style, and the
// package writer below rewrites exactly those cells, on their way into the
// file, to numeric cells with the same digits:
//
//	<c r="N2" s="7" t="inlineStr"><is><t>1234.5678</t></is></c>
//	<c r="N2" s="7" t="n"><v>1234.5678</v></c>
//
// Markup cannot be forged by cell text (excelize escapes it), and the money
// styles are used by no other cell, so the rewrite touches nothing else.
//
// The package writer also fixes the order of the parts: excelize writes
// streamed sheets in Go map order, which would make two reports of the same
// run differ byte for byte once breaks roll over to a second sheet.

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// packageWriter is the excelize.ZipWriter a report is saved through. Parts are
// compressed into a spool archive next to the report, then copied without
// recompressing into the real one in reverse name order (excelize's own order
// for the parts it does not stream).
type packageWriter struct {
	dir   string          // where the spool goes
	money map[string]bool // money style ids, as in a cell's s attribute
	out   io.Writer

	spool *os.File
	zw    *zip.Writer
	part  *moneyCells // the worksheet being written, if any
}

func newPackageWriter(dir string, money map[string]bool) *packageWriter {
	return &packageWriter{dir: dir, money: money}
}

// bind is the function excelize calls to get its zip writer.
func (p *packageWriter) bind(w io.Writer) excelize.ZipWriter {
	p.out = w
	return p
}

// Create starts the part called name.
func (p *packageWriter) Create(name string) (io.Writer, error) {
	if err := p.endPart(); err != nil {
		return nil, err
	}
	if p.zw == nil {
		f, err := os.CreateTemp(p.dir, ".report-*.zip.tmp")
		if err != nil {
			return nil, err
		}
		p.spool, p.zw = f, zip.NewWriter(f)
	}
	w, err := p.zw.Create(name)
	if err != nil {
		return nil, err
	}
	if ok, _ := path.Match("xl/worksheets/*.xml", name); ok {
		p.part = &moneyCells{w: w, money: p.money}
		return p.part, nil
	}
	return w, nil
}

// AddFS is part of excelize.ZipWriter; excelize does not call it.
func (p *packageWriter) AddFS(fs.FS) error {
	return errors.New("report: adding a file system to the workbook is not supported")
}

// Close copies the spooled parts, sorted, into the output archive.
func (p *packageWriter) Close() error {
	if err := p.endPart(); err != nil {
		return err
	}
	out := zip.NewWriter(p.out)
	if p.zw != nil {
		if err := p.zw.Close(); err != nil {
			return err
		}
		if err := copySorted(out, p.spool); err != nil {
			return err
		}
	}
	return out.Close()
}

func (p *packageWriter) endPart() error {
	if p.part == nil {
		return nil
	}
	err := p.part.flush()
	p.part = nil
	return err
}

// removeSpool deletes the spool archive; the caller defers it.
func (p *packageWriter) removeSpool() {
	if p.spool != nil {
		p.spool.Close()
		os.Remove(p.spool.Name())
		p.spool = nil
	}
}

// copySorted copies every part of the archive in f into out, in reverse name
// order.
func copySorted(out *zip.Writer, f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	r, err := zip.NewReader(f, info.Size())
	if err != nil {
		return err
	}
	parts := slices.Clone(r.File)
	slices.SortFunc(parts, func(a, b *zip.File) int { return strings.Compare(b.Name, a.Name) })
	for _, part := range parts {
		if err := out.Copy(part); err != nil {
			return err
		}
	}
	return nil
}

// moneyCells rewrites a worksheet's XML, row by row as it streams through:
// see the comment at the top of this file. It holds at most one incomplete
// row besides the bytes of the current Write.
type moneyCells struct {
	w       io.Writer
	money   map[string]bool
	pending []byte // the start of a row not yet complete
	out     []byte // reused rewrite buffer
}

var rowEnd = []byte("</row>")

func (m *moneyCells) Write(p []byte) (int, error) {
	end := bytes.LastIndex(p, rowEnd)
	if end < 0 {
		m.pending = append(m.pending, p...)
		return len(p), nil
	}
	end += len(rowEnd)
	complete := p[:end]
	if len(m.pending) > 0 {
		m.pending = append(m.pending, complete...)
		complete = m.pending
	}
	if err := m.emit(complete); err != nil {
		return 0, err
	}
	m.pending = append(m.pending[:0], p[end:]...)
	return len(p), nil
}

// flush writes what is left once the part is complete.
func (m *moneyCells) flush() error {
	err := m.emit(m.pending)
	m.pending = m.pending[:0]
	return err
}

func (m *moneyCells) emit(b []byte) error {
	m.out = rewriteMoney(m.out[:0], b, m.money)
	_, err := m.w.Write(m.out)
	return err
}

var (
	cellOpen   = []byte(`<c r="`)
	styleAttr  = []byte(` s="`)
	inlineOpen = []byte(` t="inlineStr"><is><t>`)
	inlineEnd  = []byte(`</t></is></c>`)
	quote      = []byte(`"`)
)

// rewriteMoney appends src to dst with every money cell made numeric.
func rewriteMoney(dst, src []byte, money map[string]bool) []byte {
	for {
		i := bytes.Index(src, cellOpen)
		if i < 0 {
			return append(dst, src...)
		}
		dst = append(dst, src[:i]...)
		src = src[i:]
		ref, style, value, n, ok := parseMoneyCell(src, money)
		if !ok {
			dst = append(dst, cellOpen...)
			src = src[len(cellOpen):]
			continue
		}
		dst = append(dst, cellOpen...)
		dst = append(dst, ref...)
		dst = append(dst, `" s="`...)
		dst = append(dst, style...)
		dst = append(dst, `" t="n"><v>`...)
		dst = append(dst, value...)
		dst = append(dst, `</v></c>`...)
		src = src[n:]
	}
}

// parseMoneyCell parses, at the start of b, a cell the way the stream writer
// writes a money amount: <c r="REF" s="STYLE" t="inlineStr"><is><t>DIGITS</t></is></c>,
// where STYLE is a money style and DIGITS a plain decimal. n is the cell's
// length in bytes.
func parseMoneyCell(b []byte, money map[string]bool) (ref, style, value []byte, n int, ok bool) {
	rest, ok := bytes.CutPrefix(b, cellOpen)
	if !ok {
		return
	}
	if ref, rest, ok = bytes.Cut(rest, quote); !ok {
		return
	}
	if rest, ok = bytes.CutPrefix(rest, styleAttr); !ok {
		return
	}
	if style, rest, ok = bytes.Cut(rest, quote); !ok || !money[string(style)] {
		return nil, nil, nil, 0, false
	}
	if rest, ok = bytes.CutPrefix(rest, inlineOpen); !ok {
		return
	}
	if value, rest, ok = bytes.Cut(rest, inlineEnd); !ok || !isDecimal(value) {
		return nil, nil, nil, 0, false
	}
	return ref, style, value, len(b) - len(rest), true
}

// isDecimal reports whether b is a plain decimal number: an optional minus,
// digits, and optionally a point followed by digits.
func isDecimal(b []byte) bool {
	b, _ = bytes.CutPrefix(b, []byte("-"))
	intPart, frac, hasPoint := bytes.Cut(b, []byte("."))
	return allDigits(intPart) && (!hasPoint || allDigits(frac))
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
