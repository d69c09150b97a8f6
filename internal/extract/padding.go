package extract

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode"
	"unicode/utf8"
)

// Every value is trimmed of leading and trailing spaces (DuckDB's trim: the
// Unicode category Zs) before it is checked. Trimming costs as much as
// parsing the value, and almost no file needs it, so one fast pass over the
// bytes decides: hasPadding is false only when no field can start or end
// with such a space, and then the values are used as DuckDB read them.

// spaceLeads are the first bytes of the UTF-8 encodings of the Zs
// characters other than the ASCII space (U+00A0, U+1680, U+2000–U+200A,
// U+202F, U+205F, U+3000); TestSpaceLeads checks the list against the
// unicode package.
var spaceLeads = []byte{0xc2, 0xe1, 0xe2, 0xe3}

// hasPadding reports whether some field of the CSV file may have a leading
// or trailing space. It errs on the side of true: an ASCII space next to a
// delimiter, quote or line end (even inside a quoted value), or any
// non-ASCII space anywhere, says yes. The header line is not looked at: its
// names are trimmed by readHeader.
func hasPadding(path string, d csvDialect) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	// A candidate is judged with its neighbours; the last bytes of a block
	// wait for the next block, since a space character is up to 3 bytes.
	const lookahead = 2
	buf := make([]byte, 1<<20)
	kept := 0          // bytes carried over from the previous block
	prev := byte('\n') // the byte before buf[0]
	first := true
	for {
		n, err := io.ReadFull(f, buf[kept:])
		final := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !final {
			return false, fmt.Errorf("scan %s: %w", path, err)
		}
		b := buf[:kept+n]
		from := 0
		if first && d.header {
			if nl := bytes.IndexByte(b, '\n'); nl >= 0 {
				from = nl + 1
			}
		}
		first = false
		to := len(b)
		if !final {
			to = max(from, len(b)-lookahead)
		}
		if d.paddedSpace(b, from, to, prev) || unicodeSpace(b, from, to) {
			return true, nil
		}
		if final {
			return false, nil
		}
		if to > 0 {
			prev = b[to-1]
		}
		kept = copy(buf, b[to:])
	}
}

// paddedSpace reports whether an ASCII space at b[from:to] touches a field
// boundary. prev is the byte before b[0]; a space at the end of b is at the
// end of the file.
func (d csvDialect) paddedSpace(b []byte, from, to int, prev byte) bool {
	boundary := func(c byte) bool { return c == '\n' || c == '\r' || c == d.delim || c == d.quote }
	for i := from; i < to; {
		j := bytes.IndexByte(b[i:to], ' ')
		if j < 0 {
			return false
		}
		i += j
		before := prev
		if i > 0 {
			before = b[i-1]
		}
		if boundary(before) || i+1 == len(b) || boundary(b[i+1]) {
			return true
		}
		i++
	}
	return false
}

// unicodeSpace reports whether a non-ASCII Zs character starts in
// b[from:to]; the bytes after to complete a character cut there.
func unicodeSpace(b []byte, from, to int) bool {
	for _, lead := range spaceLeads {
		for i := from; i < to; {
			j := bytes.IndexByte(b[i:to], lead)
			if j < 0 {
				break
			}
			i += j
			if r, _ := utf8.DecodeRune(b[i:]); unicode.Is(unicode.Zs, r) {
				return true
			}
			i++
		}
	}
	return false
}
