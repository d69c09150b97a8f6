package report

import (
	"archive/zip"
	"bytes"
	"context"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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

func TestSortDefaults(t *testing.T) {
	in := `<Types><Default Extension="xml" ContentType="a"></Default><Default Extension="png" ContentType="b"></Default>` +
		`<Default Extension="gif" ContentType="c"></Default><Override PartName="/x"></Override></Types>`
	want := `<Types><Default Extension="gif" ContentType="c"></Default><Default Extension="png" ContentType="b"></Default>` +
		`<Default Extension="xml" ContentType="a"></Default><Override PartName="/x"></Override></Types>`
	if diff := cmp.Diff(want, string(sortDefaults([]byte(in)))); diff != "" {
		t.Errorf("sortDefaults (-want +got):\n%s", diff)
	}
	// Elements written otherwise are left alone.
	odd := `<Types><Default Extension="xml"/><Default Extension="png"></Default></Types>`
	if got := string(sortDefaults([]byte(odd))); got != odd {
		t.Errorf("sortDefaults changed %s to %s", odd, got)
	}
}

func TestCRC32Combine(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, sizes := range [][2]int{{0, 0}, {0, 5}, {5, 0}, {1, 1}, {1000, 3}, {7, 1 << 16}, {12345, 54321}} {
		a, b := make([]byte, sizes[0]), make([]byte, sizes[1])
		for i := range a {
			a[i] = byte(rnd.Uint32())
		}
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		want := crc32.ChecksumIEEE(append(append([]byte(nil), a...), b...))
		if got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b))); got != want {
			t.Errorf("sizes %v: crc32Combine = %08x, want %08x", sizes, got, want)
		}
	}
}

// TestWorkbookArchive reads every part of a workbook, rolled over to several
// sheets, through archive/zip, which checks each part's CRC-32 and sizes:
// the spliced recon sheets must be valid entries, not only ones excelize
// tolerates.
func TestWorkbookArchive(t *testing.T) {
	dir := writeFixture(t, fixtureSummary, fixtureBreaks)
	res, err := Write(context.Background(), Options{RunDir: dir, MaxRowsPerSheet: 2})
	if err != nil {
		t.Fatal(err)
	}
	r, err := zip.OpenReader(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var sheets int
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		if strings.HasPrefix(f.Name, "xl/worksheets/sheet") && bytes.Contains(data, []byte(`<c r="A2" t="inlineStr"><is><t>b-00`)) {
			sheets++
		}
	}
	if sheets != 6 { // one break per recon sheet
		t.Errorf("%d sheets with a break on row 2, want 6", sheets)
	}
}
