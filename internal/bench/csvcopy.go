package bench

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
)

// CopyResult is one bare DuckDB copy of a data set's CSV files.
type CopyResult struct {
	Elapsed time.Duration
	Files   []CopiedFile
}

// CopiedFile is one CSV file copied to Parquet.
type CopiedFile struct {
	File     string
	Rows     int64
	Rejected int64
	D        time.Duration
}

// Rows is the number of rows copied from all files.
func (r *CopyResult) Rows() int64 {
	var n int64
	for _, f := range r.Files {
		n += f.Rows
	}
	return n
}

// CSVFiles lists the canonical CSV files under dir (<system>/<table>.csv,
// the layout internal/synth writes), sorted.
func CSVFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.csv"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if _, ok := model.LookupTable(strings.TrimSuffix(filepath.Base(f), ".csv")); ok {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

// CopyCSV is extraction's baseline: DuckDB's read_csv with the canonical
// column types, strict dialect and reject capture on (store_rejects), each
// file straight to zstd Parquet in out, in one connection. It checks
// nothing finrecon checks beyond what the types do.
func CopyCSV(ctx context.Context, files []string, out string, opts duck.Options) (*CopyResult, error) {
	db, err := duck.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	res := &CopyResult{}
	start := time.Now()
	for _, f := range files {
		table, _ := model.LookupTable(strings.TrimSuffix(filepath.Base(f), ".csv"))
		header, err := readHeader(f)
		if err != nil {
			return nil, err
		}
		cols := make([]string, len(header))
		for i, h := range header {
			typ := "VARCHAR"
			if c, ok := table.Column(h); ok {
				typ = c.Kind.SQLType()
			}
			cols[i] = fmt.Sprintf("%s: %s", duck.Quote(h), duck.Quote(typ))
		}
		dst := filepath.Join(out, filepath.Base(filepath.Dir(f))+"."+filepath.Base(f)+".parquet")
		q := fmt.Sprintf(`COPY (SELECT * FROM read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
			columns = {%s}, store_rejects = true)) TO %s (FORMAT parquet, COMPRESSION zstd)`,
			duck.Quote(f), strings.Join(cols, ", "), duck.Quote(dst))
		t := time.Now()
		r, err := db.ExecContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", f, err)
		}
		n, _ := r.RowsAffected()
		cf := CopiedFile{File: f, Rows: n, D: time.Since(t)}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM reject_errors").Scan(&cf.Rejected); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, cf)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func readHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return csv.NewReader(bufio.NewReader(f)).Read()
}
