package extract

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var comma = csvDialect{delim: ',', quote: '"', escape: '"', header: true}

func TestScanLines(t *testing.T) {
	backslash := comma
	backslash.escape = '\\'
	tests := []struct {
		name    string
		d       csvDialect
		content string
		want    []int64 // start line of each data record
	}{
		{"plain", comma, "h\na\nb\nc\n", []int64{2, 3, 4}},
		{"crlf", comma, "h\r\na\r\nb\r\n", []int64{2, 3}},
		{"quoted newline", comma, "h\n\"x\ny\",1\nb\n\"c\"\n", []int64{2, 4, 5}},
		{"blank line skipped", comma, "h\na\n\nb\n", []int64{2, 4}},
		{"blank crlf line skipped", comma, "h\r\na\r\n\r\nb\r\n", []int64{2, 4}},
		{"escaped quote", comma, "h\n\"a\"\"\nb\",1\nc\n", []int64{2, 4}},
		{"no trailing newline", comma, "h\na\nb", []int64{2, 3}},
		{"backslash escape", backslash, "h\n\"a\\\"\nb\",1\nc\n", []int64{2, 4}},
		{"escaped backslash", backslash, "h\n\"a\\\\\",1\nc\n", []int64{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.csv")
			os.WriteFile(p, []byte(tt.content), 0o644)
			m, err := scanLines(p, tt.d, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.want {
				if got := m.line(int64(i)); got != want {
					t.Errorf("record %d: line %d, want %d", i, got, want)
				}
			}
		})
	}
}

// byteLoopBreaks is the line map computed one byte at a time: the
// reference that lineScanner's line-at-a-time version must agree with.
func byteLoopBreaks(data []byte, quote byte) []lineBreak {
	var breaks []lineBreak
	line, recs, lastAdd := int64(1), int64(0), int64(-1)
	inQuotes, atStart := false, true
	for _, c := range data {
		switch {
		case c == '\n':
			if !inQuotes {
				atStart = true
			}
			line++
		case c == '\r':
		case atStart:
			atStart = false
			if dataRec := recs - 1; dataRec >= 0 && line-dataRec != lastAdd {
				breaks = append(breaks, lineBreak{rec: dataRec, add: line - dataRec})
				lastAdd = line - dataRec
			}
			recs++
			if c == quote {
				inQuotes = true
			}
		case c == quote:
			inQuotes = !inQuotes
		}
	}
	return breaks
}

// TestLineScannerAgreesWithByteLoop feeds random CSV-ish bytes in random
// pieces, so lines and quotes straddle the pieces.
func TestLineScannerAgreesWithByteLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab,\"\n\r ")
	for i := 0; i < 2000; i++ {
		data := make([]byte, r.IntN(200))
		for j := range data {
			data[j] = alphabet[r.IntN(len(alphabet))]
		}
		s := newLineScanner(comma)
		for rest := data; len(rest) > 0; {
			n := 1 + r.IntN(len(rest))
			s.feed(rest[:n])
			rest = rest[n:]
		}
		if diff := cmp.Diff(byteLoopBreaks(data, '"'), s.breaks, cmp.AllowUnexported(lineBreak{})); diff != "" {
			t.Fatalf("%q (-byte loop +scanner):\n%s", data, diff)
		}
	}
}

func TestHasPadding(t *testing.T) {
	tests := []struct {
		content string
		want    bool
	}{
		{"h,k\na,b\nc d,e\n", false},
		{"h,k\na, b\n", true},
		{"h,k\na ,b\n", true},
		{"h,k\n a,b\n", true},
		{"h,k\na,b \n", true},
		{"h,k\na,b \r\n", true},
		{"h,k\na,b ", true},
		{"h,k\na,\" b\"\n", true},
		{"h, k\na,b\n", false}, // the header is trimmed on its own
		{"h,k\na,b\u00a0c\n", true},
		{"h,k\na,b\u2003\n", true},
		{"h,k\na,b€ – “c”\n", false},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "f.csv")
		os.WriteFile(p, []byte(tt.content), 0o644)
		got, err := hasPadding(p, comma)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("hasPadding(%q) = %v, want %v", tt.content, got, tt.want)
		}
	}
}

// TestHasPaddingAcrossBlocks puts the padding at every offset around the
// 1 MiB read boundary.
func TestHasPaddingAcrossBlocks(t *testing.T) {
	const block = 1 << 20
	for _, pad := range []string{" ,", ", ", "\u00a0", "\u3000"} {
		for off := block - 4; off <= block+2; off++ {
			data := bytes.Repeat([]byte("x"), block+16)
			copy(data, "h\n")
			data[block+10] = '\n'
			copy(data[off:], pad)
			p := filepath.Join(t.TempDir(), "f.csv")
			os.WriteFile(p, data, 0o644)
			if got, _ := hasPadding(p, comma); !got {
				t.Errorf("%q at %d: not found", pad, off)
			}
		}
	}
}

func TestSpaceLeads(t *testing.T) {
	for _, rng := range unicode.Zs.R16 {
		for r := rune(rng.Lo); r <= rune(rng.Hi); r += rune(rng.Stride) {
			if r < utf8.RuneSelf {
				continue
			}
			if b := utf8.AppendRune(nil, r); bytes.IndexByte(spaceLeads, b[0]) < 0 {
				t.Errorf("%U starts with %#x, not in spaceLeads", r, b[0])
			}
		}
	}
	if len(unicode.Zs.R32) > 0 {
		t.Errorf("Zs has characters beyond U+FFFF; spaceLeads needs updating")
	}
}
