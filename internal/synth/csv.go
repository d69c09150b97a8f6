package synth

import (
	"os"
	"strconv"
)

// rowWriter writes one CSV file fast: fields are appended to a byte buffer
// that is handed, in large blocks, to a goroutine that writes them to the
// file in order while the next block fills. No fmt, no reflection.
type rowWriter struct {
	f     *os.File
	b     []byte
	rows  int64
	first bool
	err   error // set by close, from the writing goroutine
	dates *dateCache

	full chan []byte // blocks to write, in order
	free chan []byte // written blocks, for reuse
	done chan error
}

const (
	flushAt = 1 << 18
	blocks  = 4
)

func newRowWriter(path string, dates *dateCache, header ...string) (*rowWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &rowWriter{f: f, b: make([]byte, 0, flushAt+4096), first: true, dates: dates,
		full: make(chan []byte, blocks), free: make(chan []byte, blocks), done: make(chan error, 1)}
	for i := 0; i < blocks-1; i++ {
		w.free <- make([]byte, 0, flushAt+4096)
	}
	full, free, done := w.full, w.free, w.done
	go func() {
		var err error
		for b := range full {
			if err == nil {
				_, err = f.Write(b)
			}
			free <- b[:0]
		}
		done <- err
	}()
	for _, h := range header {
		w.raw(h)
	}
	w.b = append(w.b, '\n')
	w.first = true
	return w, nil
}

func (w *rowWriter) sep() {
	if w.first {
		w.first = false
		return
	}
	w.b = append(w.b, ',')
}

// raw appends a field that needs no quoting (ids, codes, refs).
func (w *rowWriter) raw(s string) {
	w.sep()
	w.b = append(w.b, s...)
}

// text appends a field, quoted when it holds a comma, a quote, a line break
// or leading/trailing blanks.
func (w *rowWriter) text(s string) {
	w.sep()
	need := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			need = true
		}
	}
	if len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ') {
		need = true
	}
	if !need {
		w.b = append(w.b, s...)
		return
	}
	w.b = append(w.b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			w.b = append(w.b, '"')
		}
		w.b = append(w.b, s[i])
	}
	w.b = append(w.b, '"')
}

func (w *rowWriter) empty() { w.sep() }

func (w *rowWriter) int(v int64) {
	w.sep()
	w.b = strconv.AppendInt(w.b, v, 10)
}

// money appends minor units with dec decimals: "1234.56", "-0.05", "125000".
func (w *rowWriter) money(minor int64, dec int) {
	w.sep()
	w.b = appendMoney(w.b, minor, dec)
}

func (w *rowWriter) date(d int32) {
	w.sep()
	w.b = w.dates.append(w.b, d)
}

// timestamp appends "YYYY-MM-DD HH:MM:SS" for day d and second of day s.
func (w *rowWriter) timestamp(d int32, s int32) {
	w.sep()
	w.b = appendTimestamp(w.b, w.dates, d, s)
}

func (w *rowWriter) end() {
	w.b = append(w.b, '\n')
	w.first = true
	w.rows++
	if len(w.b) >= flushAt {
		w.flush()
	}
}

func (w *rowWriter) flush() {
	if len(w.b) > 0 {
		w.full <- w.b
		w.b = <-w.free
	}
}

// close writes what is left and closes the file; it returns the first
// error. Closing twice returns the same error.
func (w *rowWriter) close() error {
	if w.full == nil {
		return w.err
	}
	w.flush()
	close(w.full)
	w.full = nil
	w.err = <-w.done
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	return w.err
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000}

func appendMoney(b []byte, minor int64, dec int) []byte {
	if minor < 0 {
		b = append(b, '-')
		minor = -minor
	}
	if dec == 0 {
		return strconv.AppendInt(b, minor, 10)
	}
	p := pow10[dec]
	b = strconv.AppendInt(b, minor/p, 10)
	b = append(b, '.')
	frac := minor % p
	for q := p / 10; q > 0; q /= 10 {
		b = append(b, byte('0'+frac/q%10))
	}
	return b
}

func appendTimestamp(b []byte, dc *dateCache, d int32, s int32) []byte {
	b = dc.append(b, d)
	h, m, sec := s/3600, s/60%60, s%60
	return append(b, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+sec/10), byte('0'+sec%10))
}

// dateCache formats days since 1970-01-01 as YYYY-MM-DD, with a table for
// the days around the as-of date.
type dateCache struct {
	lo  int32
	tab [][10]byte
}

func newDateCache(lo, hi int32) *dateCache {
	c := &dateCache{lo: lo, tab: make([][10]byte, hi-lo+1)}
	for i := range c.tab {
		formatDay(&c.tab[i], lo+int32(i))
	}
	return c
}

func (c *dateCache) append(b []byte, d int32) []byte {
	if i := d - c.lo; i >= 0 && int(i) < len(c.tab) {
		return append(b, c.tab[i][:]...)
	}
	var x [10]byte
	formatDay(&x, d)
	return append(b, x[:]...)
}

// formatDay writes the civil date of day z (days since 1970-01-01, years
// 1000-9999) as YYYY-MM-DD (H. Hinnant's civil_from_days).
func formatDay(x *[10]byte, z32 int32) {
	y, m, d := civil(int64(z32))
	x[0], x[1], x[2], x[3] = byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	x[4] = '-'
	x[5], x[6] = byte('0'+m/10), byte('0'+m%10)
	x[7] = '-'
	x[8], x[9] = byte('0'+d/10), byte('0'+d%10)
}

func civil(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// fixedID formats prefix + n zero-padded to width digits.
func fixedID(prefix string, n int64, width int) string {
	var buf [40]byte
	out := append(buf[:0], prefix...)
	digits := 1
	for x := n; x >= 10; x /= 10 {
		digits++
	}
	for i := digits; i < width; i++ {
		out = append(out, '0')
	}
	out = strconv.AppendInt(out, n, 10)
	return string(out)
}
