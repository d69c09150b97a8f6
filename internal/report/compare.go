package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/run"
)

// excelDigits is the number of significant digits Excel keeps of a number.
// An amount with more (DECIMAL(18,4) holds 18) comes back from Excel rounded
// to 15, which is not an edit.
const excelDigits = 15

// matches reports whether raw, a cell read back from a workbook (its raw
// value: numbers and dates unformatted), still holds what the run wrote for
// b. Amounts and numbers are compared as decimals and dates as dates, so a
// changed number format or a re-saved file is not an edit.
func (c column) matches(b *run.Break, raw string) bool {
	switch c.kind {
	case moneyKind:
		return sameAmount(c.amount(b), raw)
	case dateKind:
		return sameDate(c.date(b), raw)
	case intKind:
		return sameNumber(decimal.NewFromInt(c.number(b)), raw)
	case flagKind:
		return strings.EqualFold(strings.TrimSpace(raw), yesNo(c.flag(b)))
	default:
		return raw == sheetText(c.text(b))
	}
}

// display is the run's value of the column for b, as a refusal quotes it.
func (c column) display(b *run.Break) string {
	switch c.kind {
	case moneyKind:
		if d := c.amount(b); d.Valid {
			return d.Decimal.String()
		}
		return ""
	case dateKind:
		if d := c.date(b); !d.IsZero() {
			return d.Format(time.DateOnly)
		}
		return ""
	case intKind:
		return strconv.FormatInt(c.number(b), 10)
	case flagKind:
		return yesNo(c.flag(b))
	default:
		return sheetText(c.text(b))
	}
}

// shown is a raw cell value as a refusal quotes it: a date column's serial
// number as the date it stands for.
func (c column) shown(raw string) string {
	if c.kind != dateKind {
		return raw
	}
	if d, ok := parseCellDate(raw); ok {
		return d.Format(time.DateOnly)
	}
	return raw
}

func sameAmount(want decimal.NullDecimal, raw string) bool {
	raw = strings.TrimSpace(raw)
	if raw == "" || !want.Valid {
		return raw == "" && !want.Valid
	}
	return sameNumber(want.Decimal, raw)
}

// sameNumber compares raw with want as decimals: exactly, or to Excel's
// precision when want has more significant digits than Excel keeps.
func sameNumber(want decimal.Decimal, raw string) bool {
	got, err := decimal.NewFromString(strings.TrimSpace(raw))
	if err != nil {
		return false
	}
	if got.Equal(want) {
		return true
	}
	return roundSignificant(got, excelDigits).Equal(roundSignificant(want, excelDigits))
}

// roundSignificant rounds d to n significant digits.
func roundSignificant(d decimal.Decimal, n int32) decimal.Decimal {
	if d.IsZero() {
		return d
	}
	coef := d.Coefficient()                                         // a copy
	magnitude := int32(len(coef.Abs(coef).String())) + d.Exponent() // digits before the point
	return d.Round(n - magnitude)
}

func sameDate(want time.Time, raw string) bool {
	raw = strings.TrimSpace(raw)
	if raw == "" || want.IsZero() {
		return raw == "" && want.IsZero()
	}
	got, ok := parseCellDate(raw)
	return ok && got.Format(time.DateOnly) == want.Format(time.DateOnly)
}

// parseCellDate reads a date cell's raw value: an Excel serial number, or a
// date typed as text (YYYY-MM-DD).
func parseCellDate(raw string) (time.Time, bool) {
	if serial, err := strconv.ParseFloat(raw, 64); err == nil {
		t, err := excelize.ExcelDateToTime(serial, false)
		return t, err == nil
	}
	t, err := time.Parse(time.DateOnly, raw)
	return t, err == nil
}
