package extract

import (
	"os"
	"path/filepath"
	"testing"
)

func TestScanLines(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []int64 // start line of each data record
	}{
		{"plain", "h\na\nb\nc\n", []int64{2, 3, 4}},
		{"crlf", "h\r\na\r\nb\r\n", []int64{2, 3}},
		{"quoted newline", "h\n\"x\ny\",1\nb\n\"c\"\n", []int64{2, 4, 5}},
		{"blank line skipped", "h\na\n\nb\n", []int64{2, 4}},
		{"escaped quote", "h\n\"a\"\"\nb\",1\nc\n", []int64{2, 4}},
		{"no trailing newline", "h\na\nb", []int64{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.csv")
			os.WriteFile(p, []byte(tt.content), 0o644)
			m, err := scanLines(p, '"', true, nil)
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
