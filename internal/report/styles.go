package report

import (
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/model"
)

// defaultDecimals is used for amounts in a currency ISO 4217 does not know
// (or a currency_mismatch break's combined code).
const defaultDecimals = 2

// Fills of highlighted severities: Excel's own "light red fill with dark red
// text" and "yellow fill with dark yellow text".
var severityFills = map[string][2]string{ // fill, font colour
	"critical": {"FFC7CE", "9C0006"},
	"high":     {"FFC7CE", "9C0006"},
	"medium":   {"FFEB9C", "9C5700"},
}

// Fills that tell an accountant where to type: Excel's light "input" yellow
// for the review cells, a stronger one for their headers, and grey for the
// headers of the columns that are the run's and must not change.
const (
	editableFill       = "FFF2CC"
	editableHeaderFill = "FFD966"
	headerFill         = "D9D9D9"
)

// styles holds the workbook's cell styles. Money styles are made on first use,
// one per number of decimals.
type styles struct {
	f              *excelize.File
	title          int
	bold           int
	section        int // a section title on the Summary and About sheets
	header         int // a recon sheet's header over the run's columns
	editableHeader int // a recon sheet's header over a review column
	editable       int // a review cell
	wrap           int // long text on the About sheet
	date           int
	percent        int
	severity       map[string]int // by severity name; absent means no highlight
	money          map[int32]int  // by decimals
}

func newStyles(f *excelize.File) (*styles, error) {
	st := &styles{f: f, severity: map[string]int{}, money: map[int32]int{}}
	dateFmt := "yyyy-mm-dd"
	defs := []struct {
		id    *int
		style excelize.Style
	}{
		{&st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&st.bold, excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&st.section, excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}}},
		{&st.header, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: solid(headerFill)}},
		{&st.editableHeader, excelize.Style{Font: &excelize.Font{Bold: true}, Fill: solid(editableHeaderFill)}},
		{&st.editable, excelize.Style{Fill: solid(editableFill)}},
		{&st.wrap, excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&st.date, excelize.Style{CustomNumFmt: &dateFmt}},
		{&st.percent, excelize.Style{NumFmt: 10}}, // 0.00%
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.style)
		if err != nil {
			return nil, err
		}
		*d.id = id
	}
	for _, sev := range model.SeverityNames() {
		colors, ok := severityFills[sev]
		if !ok {
			continue
		}
		id, err := f.NewStyle(&excelize.Style{Fill: solid(colors[0]), Font: &excelize.Font{Color: colors[1]}})
		if err != nil {
			return nil, err
		}
		st.severity[sev] = id
	}
	return st, nil
}

// solid is a plain fill of one colour.
func solid(color string) excelize.Fill {
	return excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{color}}
}

// forMoney returns the style of an amount in currency: a thousands separator
// and as many decimals as the currency has.
func (st *styles) forMoney(currency string) (int, error) {
	dec, ok := model.CurrencyDecimals(currency)
	if !ok {
		dec = defaultDecimals
	}
	if id, ok := st.money[dec]; ok {
		return id, nil
	}
	format := moneyFormat(dec)
	id, err := st.f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return 0, err
	}
	st.money[dec] = id
	return id, nil
}

// moneyFormat is the number format of an amount with dec decimals, e.g.
// "#,##0.00" for 2.
func moneyFormat(dec int32) string {
	if dec <= 0 {
		return "#,##0"
	}
	return "#,##0." + strings.Repeat("0", int(dec))
}
