package extract

import (
	"bufio"
	"fmt"
	"io"
	"os"
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
	add := int64(0)
	for _, b := range m.breaks {
		if b.rec > rec {
			break
		}
		add = b.add
	}
	return rec + add
}

// scanLines reads a CSV file once, quote-aware, and records where records
// span several lines or blank lines are skipped. headerLines is 1 when the
// file has a header record. The bytes also go to hash, so the source's
// SHA-256 costs no second read. It reads in large blocks and touches only quote
// and newline bytes, so it costs a fraction of the parse itself.
func scanLines(path string, quote byte, header bool, hash io.Writer) (*lineMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)

	m := &lineMap{}
	var (
		line      int64 = 1 // current physical line
		rec       int64 = 0 // records started so far, header included
		inQuotes  bool
		atStart         = true // at the start of a record
		lastAdd   int64 = -1
		hasHeader       = header
	)
	startRecord := func() {
		dataRec := rec
		if hasHeader {
			dataRec--
		}
		if dataRec >= 0 {
			// line = dataRec + add  =>  add = line - dataRec
			if add := line - dataRec; add != lastAdd {
				m.breaks = append(m.breaks, lineBreak{rec: dataRec, add: add})
				lastAdd = add
			}
		}
		rec++
	}
	buf := make([]byte, 1<<20)
	for {
		n, err := r.Read(buf)
		if hash != nil {
			hash.Write(buf[:n])
		}
		for _, c := range buf[:n] {
			switch {
			case c == '\n':
				if !inQuotes {
					atStart = true
				}
				line++
			case c == '\r':
				// part of a CRLF; the \n counts the line
			case atStart:
				atStart = false
				startRecord()
				if c == quote {
					inQuotes = true
				}
			case c == quote:
				inQuotes = !inQuotes
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", path, err)
		}
	}
	return m, nil
}
