package report

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMoneyCells(t *testing.T) {
	money := map[string]bool{"7": true}
	in := `<sheetData><row r="2">` +
		`<c r="N2" s="7" t="inlineStr"><is><t>-1234.5678</t></is></c>` + // money: rewritten
		`<c r="O2" s="7" t="inlineStr"><is><t>100</t></is></c>` + // money: rewritten
		`<c r="P2" s="8" t="inlineStr"><is><t>42.5</t></is></c>` + // other style: kept
		`<c r="Q2" t="inlineStr"><is><t>42.5</t></is></c>` + // no style: kept
		`<c r="R2" s="7" t="inlineStr"><is><t>1e5</t></is></c>` + // not a plain decimal: kept
		`<c r="S2" s="7" t="inlineStr"><is><t>.5</t></is></c>` + // not a plain decimal: kept
		`<c r="T2" s="77" t="inlineStr"><is><t>5</t></is></c>` + // style 77 is not 7: kept
		`<c r="U2" t="inlineStr"><is><t>&lt;c r=&#34;V2&#34; s=&#34;7&#34;</t></is></c>` + // text: kept
		`</row><row r="3"><c r="N3" s="7" t="inlineStr"><is><t>0.0001</t></is></c></row></sheetData>`
	want := `<sheetData><row r="2">` +
		`<c r="N2" s="7" t="n"><v>-1234.5678</v></c>` +
		`<c r="O2" s="7" t="n"><v>100</v></c>` +
		`<c r="P2" s="8" t="inlineStr"><is><t>42.5</t></is></c>` +
		`<c r="Q2" t="inlineStr"><is><t>42.5</t></is></c>` +
		`<c r="R2" s="7" t="inlineStr"><is><t>1e5</t></is></c>` +
		`<c r="S2" s="7" t="inlineStr"><is><t>.5</t></is></c>` +
		`<c r="T2" s="77" t="inlineStr"><is><t>5</t></is></c>` +
		`<c r="U2" t="inlineStr"><is><t>&lt;c r=&#34;V2&#34; s=&#34;7&#34;</t></is></c>` +
		`</row><row r="3"><c r="N3" s="7" t="n"><v>0.0001</v></c></row></sheetData>`

	// Whatever the size of the writes, a cell split across them is rewritten.
	for _, size := range []int{1, 2, 7, 64, len(in)} {
		var out bytes.Buffer
		m := &moneyCells{w: &out, money: money}
		for p := []byte(in); len(p) > 0; {
			n := min(size, len(p))
			if _, err := m.Write(p[:n]); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := m.flush(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("writes of %d bytes (-want +got):\n%s", size, diff)
		}
	}
}

func TestIsDecimal(t *testing.T) {
	got := map[string]bool{}
	for _, s := range []string{"0", "-0.5", "123", "1234.5678", "", "-", ".5", "5.", "1e5", "+1", "1.2.3", "1,5", " 1"} {
		got[s] = isDecimal([]byte(s))
	}
	want := map[string]bool{
		"0": true, "-0.5": true, "123": true, "1234.5678": true,
		"": false, "-": false, ".5": false, "5.": false, "1e5": false, "+1": false, "1.2.3": false, "1,5": false, " 1": false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("isDecimal (-want +got):\n%s", diff)
	}
}
