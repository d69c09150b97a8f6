package report

// Why this file exists. A recon sheet of a million breaks is 28 million
// cells. excelize's StreamWriter costs about half a microsecond a cell (it
// builds a cell struct, names the cell, escapes text through several string
// copies) and it can write a numeric cell only from a Go number, so an exact
// amount like 1234.5678 would have to pass through float64, which finrecon
// never holds money in. So excelize writes each recon sheet's frame (column
// widths, frozen header, header row, table, status drop-down) and the
// encoder below writes its rows, appending XML to a reused buffer: amounts
// as the decimal's own digits in numeric cells, dates as serial numbers,
// text escaped once. The package writer (zip.go) splices the rows into the
// frame on the way into the file.

import (
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/run"
)

// rowEncoder appends the XML of recon-sheet rows.
type rowEncoder struct {
	cols    []column
	st      *styles
	letters [][]byte // column letters, by column
}

func newRowEncoder(cols []column, st *styles) *rowEncoder {
	e := &rowEncoder{cols: cols, st: st, letters: make([][]byte, len(cols))}
	for i := range cols {
		name, _ := excelize.ColumnNumberToName(i + 1)
		e.letters[i] = []byte(name)
	}
	return e
}

// appendRow appends row number n holding b to dst.
func (e *rowEncoder) appendRow(dst []byte, n int, b *run.Break) ([]byte, error) {
	var digits [20]byte
	num := strconv.AppendInt(digits[:0], int64(n), 10)
	dst = append(dst, `<row r="`...)
	dst = append(dst, num...)
	dst = append(dst, `">`...)
	for i, c := range e.cols {
		ref := cellRef{col: e.letters[i], row: num}
		var err error
		if dst, err = e.appendCell(dst, ref, c, b); err != nil {
			return nil, err
		}
	}
	return append(dst, `</row>`...), nil
}

// cellRef is a cell's reference, e.g. AB12, in two parts.
type cellRef struct{ col, row []byte }

// appendCell appends the cell of column c for b; nothing for an empty one.
func (e *rowEncoder) appendCell(dst []byte, ref cellRef, c column, b *run.Break) ([]byte, error) {
	switch c.kind {
	case moneyKind:
		d := c.amount(b)
		if !d.Valid {
			return dst, nil
		}
		style, err := e.st.forMoney(b.Currency)
		if err != nil {
			return nil, err
		}
		// The decimal's exact digits: String never uses an exponent.
		return appendNumber(dst, ref, style, d.Decimal.String()), nil
	case dateKind:
		d := c.date(b)
		if d.IsZero() {
			return dst, nil
		}
		return appendNumber(dst, ref, e.st.date, strconv.FormatInt(excelSerial(d), 10)), nil
	case intKind:
		return appendNumber(dst, ref, 0, strconv.FormatInt(c.number(b), 10)), nil
	case flagKind:
		return appendText(dst, ref, 0, yesNo(c.flag(b))), nil
	case severityKind:
		return appendText(dst, ref, e.st.severity[b.Severity], c.text(b)), nil
	case reviewKind:
		// Written even when empty: the fill shows where to type.
		return appendText(dst, ref, e.st.editable, c.text(b)), nil
	default:
		return appendText(dst, ref, 0, c.text(b)), nil
	}
}

// appendCellOpen appends `<c r="REF"` and the style attribute, if any.
func appendCellOpen(dst []byte, ref cellRef, style int) []byte {
	dst = append(dst, `<c r="`...)
	dst = append(dst, ref.col...)
	dst = append(dst, ref.row...)
	dst = append(dst, '"')
	if style != 0 {
		dst = append(dst, ` s="`...)
		dst = strconv.AppendInt(dst, int64(style), 10)
		dst = append(dst, '"')
	}
	return dst
}

// appendNumber appends a numeric cell holding digits as they are.
func appendNumber(dst []byte, ref cellRef, style int, digits string) []byte {
	dst = appendCellOpen(dst, ref, style)
	dst = append(dst, `><v>`...)
	dst = append(dst, digits...)
	return append(dst, `</v></c>`...)
}

// appendText appends an inline-string cell holding s as a cell can hold it
// (sheetText); an empty s gives a cell with only its style, or nothing.
func appendText(dst []byte, ref cellRef, style int, s string) []byte {
	if s == "" {
		if style == 0 {
			return dst
		}
		dst = appendCellOpen(dst, ref, style)
		return append(dst, `/>`...)
	}
	s = sheetText(s)
	dst = appendCellOpen(dst, ref, style)
	dst = append(dst, ` t="inlineStr"><is><t`...)
	if needsPreserve(s) {
		dst = append(dst, ` xml:space="preserve"`...)
	}
	dst = append(dst, '>')
	dst = appendEscaped(dst, s)
	return append(dst, `</t></is></c>`...)
}

// needsPreserve reports whether s has white space at either end, which XML
// readers drop unless told to keep it.
func needsPreserve(s string) bool {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	return isSpace(s[0]) || isSpace(s[len(s)-1])
}

// appendEscaped appends s escaped for XML text. A carriage return is
// written as a reference, or XML readers would turn it into a line feed;
// text that spells an Excel escape (_x000D_) gets its underscore escaped
// (_x005F_), or Excel would read it as the character it names.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '\r':
			dst = append(dst, "&#xD;"...)
		case '_':
			if isExcelEscape(s[i:]) {
				dst = append(dst, "_x005F"...)
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// isExcelEscape reports whether s starts with _xHHHH_.
func isExcelEscape(s string) bool {
	if len(s) < 7 || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// excelEpoch is day 0 of Excel's (1900) date system, as Excel counts days
// from 1900-03-01 on.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelSerial is the Excel serial number of d's calendar day. Dates before
// 1900-03-01, which no break has, would be one day off: Excel counts a
// 29 February 1900 that did not exist.
func excelSerial(d time.Time) int64 {
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	return int64(day.Sub(excelEpoch) / (24 * time.Hour))
}
