package extract

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
)

// lineMap maps a CSV record's index to the physical line it starts on.
// DuckDB numbers records, not lines, so a quoted field with a newline in it
// would shift every later line number. The map is sparse: it holds only the
// records where the offset between index and line changes, which in a clean
// file is none.
type lineMap struct {
	// breaks[i] says: from record index breaks[i].rec on, line = rec + breaks[i].add.
	breaks []lineBreak
}

type lineBreak struct {
	rec int64 // 0-based data record index (the header is not a data record)
	add int64
}

// line returns the 1-based line record rec starts on.
func (m *lineMap) line(rec int64) int64 {
	i := sort.Search(len(m.breaks), func(i int) bool { return m.breaks[i].rec > rec })
	if i == 0 {
		return rec
	}
	return rec + m.breaks[i-1].add
}

// scanLines reads a CSV file once and builds its line map. The bytes also
// go to hash, so the source's SHA-256 costs no second read. It works a line
// at a time with bytes.IndexByte and bytes.Count (vectorised), looking at
// single bytes only on lines that hold an escape character, so it costs a
// small fraction of DuckDB's parse and runs while DuckDB parses.
func scanLines(path string, d csvDialect, hash io.Writer) (*lineMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := newLineScanner(d)
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(f, buf)
		if hash != nil {
			hash.Write(buf[:n])
		}
		s.feed(buf[:n])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", path, err)
		}
	}
	return &lineMap{breaks: s.breaks}, nil
}

// lineScanner follows quotes across lines to find the line each record
// starts on. A record starts at the first byte other than CR of a line that
// begins outside quotes; a line with nothing but CR is blank, and DuckDB
// skips it.
type lineScanner struct {
	quote, escape byte
	header        bool

	line     int64 // physical line being read, 1-based
	recs     int64 // records started so far, header included
	inQuotes bool
	// pending: the current line began outside quotes and no record has
	// started on it yet.
	pending bool
	// escaped: the previous byte was an escape inside quotes, so the next
	// byte is literal.
	escaped bool
	lastAdd int64
	breaks  []lineBreak
}

func newLineScanner(d csvDialect) *lineScanner {
	return &lineScanner{quote: d.quote, escape: d.escape, header: d.header, line: 1, pending: true, lastAdd: -1}
}

// feed consumes the next bytes of the file; a line may span calls.
func (s *lineScanner) feed(b []byte) {
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			s.text(b)
			return
		}
		s.text(b[:nl])
		s.newline()
		b = b[nl+1:]
	}
}

// text consumes bytes that hold no newline.
func (s *lineScanner) text(b []byte) {
	if s.pending && hasContent(b) {
		s.pending = false
		s.startRecord()
	}
	if s.escape != s.quote && (s.inQuotes || s.escaped || bytes.IndexByte(b, s.escape) >= 0) {
		s.quotesEscaped(b)
		return
	}
	// With escape = quote, an escaped quote is a doubled quote: it toggles
	// twice, so only the parity of the quote count matters.
	if n := bytes.Count(b, []byte{s.quote}); n%2 == 1 {
		s.inQuotes = !s.inQuotes
	}
}

// hasContent reports whether b holds a byte other than CR.
func hasContent(b []byte) bool {
	for _, c := range b {
		if c != '\r' {
			return true
		}
	}
	return false
}

// quotesEscaped follows quotes byte by byte where an escape character other
// than the quote may hide one.
func (s *lineScanner) quotesEscaped(b []byte) {
	for _, c := range b {
		switch {
		case s.escaped:
			s.escaped = false
		case s.inQuotes && c == s.escape:
			s.escaped = true
		case c == s.quote:
			s.inQuotes = !s.inQuotes
		}
	}
}

func (s *lineScanner) newline() {
	s.escaped = false // an escaped newline is still a line break
	s.line++
	if !s.inQuotes {
		s.pending = true
	}
}

func (s *lineScanner) startRecord() {
	dataRec := s.recs
	if s.header {
		dataRec--
	}
	s.recs++
	if dataRec < 0 {
		return
	}
	// line = dataRec + add  =>  add = line - dataRec
	if add := s.line - dataRec; add != s.lastAdd {
		s.breaks = append(s.breaks, lineBreak{rec: dataRec, add: add})
		s.lastAdd = add
	}
}
