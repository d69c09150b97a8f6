package extract

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/snapshot"
)

// staged is one source read into DuckDB as text: a relation with one
// VARCHAR column per source column, plus what was rejected before any value
// was looked at (wrong column count, bad encoding, bad JSON) and a map from
// ordinal to line.
type staged struct {
	// from is a SQL relation (a table name, or a table function call that
	// scans the file once).
	from    string
	headers []string
	// ord is the SQL for a checked row's ordinal: "_ord" when from provides
	// that column, else "rowid": DuckDB fills a CSV source's checked table in
	// file order (preserve_insertion_order, and a check query without joins:
	// TestCheckedPlanKeepsFileOrder), so its rowid is the record's position
	// among the records the reader kept. No window function numbers the
	// rows: row_number() would make the parse single-threaded.
	ord string
	// trim says values may carry leading or trailing spaces; when false,
	// trimming them would change nothing and is skipped (see hasPadding).
	trim bool
	// segs maps ordinal to line: line = ordinal + c of the last segment
	// with j0 <= ordinal.
	segs []segment
	// structural rejects (they never reach from).
	rejects []reject
	sha256  string
	// finish runs once from has been scanned (CSV only): it collects what
	// the scan itself rejected and completes segs and sha256.
	finish func(ctx context.Context, db *sql.DB) error
}

// identity is the line map of a source whose ordinal is its line.
var identity = []segment{{0, 0}}

type reject struct {
	rec    int64 // CSV record index (CSV only)
	line   int64
	column string
	reason string
	record string
}

// stage reads a source into DuckDB according to its format.
func stage(ctx context.Context, db *sql.DB, src config.Source, n int) (*staged, error) {
	switch f := src.FormatOf(); f {
	case "csv":
		return stageCSV(src, n)
	case "jsonl":
		return stageJSONL(ctx, db, src, n)
	case "xlsx":
		return stageXLSX(ctx, db, src, n)
	case "parquet":
		return stageParquet(ctx, db, src)
	default:
		return nil, fail.ConfigErr(fmt.Errorf("%s: unsupported format %q", src.File, f))
	}
}

// csvDialect is how a CSV source delimits, quotes and escapes.
type csvDialect struct {
	delim, quote, escape byte
	header               bool
}

func dialect(src config.Source) csvDialect {
	d := csvDialect{delim: ',', quote: '"'}
	if s := src.CSV.Delimiter; s != "" {
		d.delim = s[0]
	}
	if s := src.CSV.Quote; s != "" {
		d.quote = s[0]
	}
	d.escape = d.quote
	if s := src.CSV.Escape; s != "" {
		d.escape = s[0]
	}
	d.header = src.CSV.Header == nil || *src.CSV.Header
	return d
}

// stageCSV lets DuckDB's CSV reader do the parsing (it is several times
// faster than any Go path) with every column read as text, so that value
// checks happen in SQL where each failure can be reported, and with
// store_rejects so that structurally bad records are kept, not dropped.
// Go reads the bytes twice, both times far faster than DuckDB parses them:
// once before, to learn whether values need trimming, and once while DuckDB
// parses, to hash the file and map records to lines.
func stageCSV(src config.Source, n int) (*staged, error) {
	d := dialect(src)
	f, err := os.Open(src.File)
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("read source: %w", err))
	}
	headers, err := readHeader(f, d)
	f.Close()
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("%s: read header: %w", src.File, err))
	}
	padded, err := hasPadding(src.File, d)
	if err != nil {
		return nil, fail.SourceErr(err)
	}
	scanned := scanAsync(src.File, d)
	cols := make([]string, len(headers))
	for i, name := range headers {
		cols[i] = duck.Quote(name) + ": 'VARCHAR'"
	}
	rejTable, scanTable := fmt.Sprintf("csvrej_%d", n), fmt.Sprintf("csvscan_%d", n)
	from := fmt.Sprintf(`read_csv(%s,
		header = %t, auto_detect = false, delim = %s, quote = %s, escape = %s,
		columns = {%s}, strict_mode = true, null_padding = false,
		store_rejects = true, rejects_table = %s, rejects_scan = %s)`,
		duck.Quote(src.File), d.header, duck.Quote(string(d.delim)), duck.Quote(string(d.quote)), duck.Quote(string(d.escape)),
		strings.Join(cols, ", "), duck.Quote(rejTable), duck.Quote(scanTable))
	st := &staged{from: from, headers: headers, ord: "rowid", trim: padded}
	headerLines := int64(0)
	if d.header {
		headerLines = 1
	}
	st.finish = func(ctx context.Context, db *sql.DB) error {
		res := <-scanned
		if res.err != nil {
			return fail.SourceErr(res.err)
		}
		st.sha256 = res.sha256
		rejected, err := csvRejects(ctx, db, rejTable, res.lines, headerLines)
		if err != nil {
			return err
		}
		st.rejects = rejected
		recs := make([]int64, len(rejected))
		for i, r := range rejected {
			recs[i] = r.rec
		}
		st.segs = segments(res.lines, recs)
		return nil
	}
	return st, nil
}

// scanResult is what scanAsync learns from a CSV file.
type scanResult struct {
	lines  *lineMap
	sha256 string
	err    error
}

// scanAsync hashes a CSV file and maps its lines in the background; the
// channel delivers the result once.
func scanAsync(path string, d csvDialect) <-chan scanResult {
	out := make(chan scanResult, 1)
	go func() {
		h := sha256.New()
		lines, err := scanLines(path, d, h)
		out <- scanResult{lines: lines, sha256: hex.EncodeToString(h.Sum(nil)), err: err}
	}()
	return out
}

// readHeader returns the column names: the header record, or col1..colN
// from the first record when the file has none.
func readHeader(r io.Reader, d csvDialect) ([]string, error) {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	var rec []string
	if d.quote == '"' {
		cr := csv.NewReader(br)
		cr.Comma = rune(d.delim)
		cr.FieldsPerRecord = -1
		var err error
		if rec, err = cr.Read(); err != nil {
			return nil, err
		}
	} else {
		line, err := br.ReadString('\n')
		if err != nil && line == "" {
			return nil, err
		}
		rec = strings.Split(strings.TrimRight(line, "\r\n"), string(d.delim))
	}
	if !d.header {
		for i := range rec {
			rec[i] = fmt.Sprintf("col%d", i+1)
		}
		return rec, nil
	}
	seen := map[string]bool{}
	for i, name := range rec {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("column %d has an empty name", i+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("two columns are named %q", name)
		}
		seen[name] = true
		rec[i] = name
	}
	return rec, nil
}

// csvRejects reads what DuckDB's reader rejected. DuckDB numbers records,
// counting the header, so its "line" is a record number; lines turns it into
// the physical line a user finds in an editor.
func csvRejects(ctx context.Context, db *sql.DB, table string, lines *lineMap, headerLines int64) ([]reject, error) {
	rows, err := db.QueryContext(ctx, `SELECT line, coalesce(column_name, ''), error_type::VARCHAR, coalesce(csv_line, ''), error_message
		FROM `+table+` ORDER BY line, column_idx`)
	if err != nil {
		return nil, fmt.Errorf("read csv rejects: %w", err)
	}
	defer rows.Close()
	var out []reject
	for rows.Next() {
		var line int64
		var col, typ, raw, msg string
		if err := rows.Scan(&line, &col, &typ, &raw, &msg); err != nil {
			return nil, err
		}
		rec := line - 1 - headerLines
		if len(out) > 0 && out[len(out)-1].rec == rec {
			continue // one reject per record; the first error explains it
		}
		out = append(out, reject{rec: rec, line: lines.line(rec), column: col, reason: csvReason(typ, msg), record: raw})
	}
	return out, rows.Err()
}

func csvReason(typ, msg string) string {
	switch typ {
	case "TOO MANY COLUMNS", "MISSING COLUMNS":
		return "wrong column count: " + strings.ToLower(strings.TrimSuffix(msg, "."))
	case "INVALID ENCODING", "INVALID UNICODE":
		return "invalid UTF-8: the file must be UTF-8 encoded"
	case "UNQUOTED VALUE":
		return "stray quote in an unquoted value"
	default:
		return strings.ToLower(typ) + ": " + msg
	}
}

// segment: accepted ordinal j >= j0 lies on line j + c.
type segment struct{ j0, c int64 }

// segments merges the line map (record -> line) with the records the reader
// dropped (which shift later ordinals) into ordinal -> line segments.
func segments(m *lineMap, rejected []int64) []segment {
	var segs []segment
	add := func(s segment) {
		if len(segs) > 0 && segs[len(segs)-1].j0 == s.j0 {
			segs[len(segs)-1] = s
			return
		}
		segs = append(segs, s)
	}
	bi, ri := 0, 0
	shift, lineAdd := int64(0), int64(0)
	for bi < len(m.breaks) || ri < len(rejected) {
		var k int64
		isReject := false
		if ri < len(rejected) && (bi >= len(m.breaks) || rejected[ri] <= m.breaks[bi].rec) {
			k = rejected[ri]
			isReject = true
		} else {
			k = m.breaks[bi].rec
		}
		for bi < len(m.breaks) && m.breaks[bi].rec == k {
			lineAdd = m.breaks[bi].add
			bi++
		}
		if isReject {
			for ri < len(rejected) && rejected[ri] == k {
				ri++
			}
			shift++
			add(segment{j0: k + 1 - shift, c: shift + lineAdd})
			continue
		}
		add(segment{j0: k - shift, c: shift + lineAdd})
	}
	if len(segs) == 0 || segs[0].j0 > 0 {
		segs = append([]segment{{0, 0}}, segs...)
	}
	return segs
}

// appendRows creates table with an _ord BIGINT column and VARCHAR columns,
// then appends rows through DuckDB's appender. Values are strings or nil:
// the appender is never given a number (it mis-scales decimals).
func appendRows(ctx context.Context, db *sql.DB, table string, headers []string, fill func(add func(ord int64, vals []*string) error) error) error {
	cols := make([]string, len(headers))
	for i, h := range headers {
		cols[i] = duck.Ident(h) + " VARCHAR"
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s (_ord BIGINT, %s)", table, strings.Join(cols, ", "))); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", table)
		if err != nil {
			return fmt.Errorf("stage: %w", err)
		}
		row := make([]driver.Value, len(headers)+1)
		err = fill(func(ord int64, vals []*string) error {
			row[0] = ord
			for i := range headers {
				row[i+1] = nil
				if i < len(vals) && vals[i] != nil {
					row[i+1] = *vals[i]
				}
			}
			return app.AppendRow(row...)
		})
		if cerr := app.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("stage: %w", cerr)
		}
		return err
	})
}

// stageJSONL reads one JSON object per line. Two passes: the first collects
// the keys (the columns), the second appends rows, so memory stays flat.
// _ord is the line number itself.
func stageJSONL(ctx context.Context, db *sql.DB, src config.Source, n int) (*staged, error) {
	var headers []string
	index := map[string]int{}
	st := &staged{from: fmt.Sprintf("stage_%d", n), ord: "_ord", trim: true, segs: identity}
	h := sha256.New()
	pass := func(fn func(line int64, obj map[string]any) error) error {
		f, err := os.Open(src.File)
		if err != nil {
			return fail.SourceErr(fmt.Errorf("read source: %w", err))
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		var line int64
		for sc.Scan() {
			line++
			raw := sc.Bytes()
			if len(bytes.TrimSpace(raw)) == 0 {
				continue
			}
			if !utf8.Valid(raw) {
				if fn == nil {
					st.rejects = append(st.rejects, reject{line: line, reason: "invalid UTF-8: the file must be UTF-8 encoded", record: strings.ToValidUTF8(string(raw), "\uFFFD")})
				}
				continue
			}
			obj, err := decodeObject(raw)
			if err != nil {
				if fn == nil {
					st.rejects = append(st.rejects, reject{line: line, reason: "malformed JSON: " + err.Error(), record: string(raw)})
				}
				continue
			}
			if fn == nil {
				for k := range obj {
					if _, ok := index[k]; !ok {
						index[k] = -1
					}
				}
				continue
			}
			if err := fn(line, obj); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return fail.SourceErr(fmt.Errorf("%s: %w", src.File, err))
		}
		return nil
	}
	f, err := os.Open(src.File)
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("read source: %w", err))
	}
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("read source: %w", err))
	}
	st.sha256 = hex.EncodeToString(h.Sum(nil))
	if err := pass(nil); err != nil {
		return nil, err
	}
	// Columns in first-seen order would depend on map iteration; sort them.
	for k := range index {
		headers = append(headers, k)
	}
	sort.Strings(headers)
	for i, k := range headers {
		index[k] = i
	}
	st.headers = headers
	err = appendRows(ctx, db, st.from, headers, func(add func(int64, []*string) error) error {
		vals := make([]*string, len(headers))
		return pass(func(line int64, obj map[string]any) error {
			clear(vals)
			for k, v := range obj {
				vals[index[k]] = jsonText(v)
			}
			return add(line, vals)
		})
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers stay text: no float64 ever holds an amount
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("the line is not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value on the line")
	}
	return obj, nil
}

func jsonText(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = fmt.Sprint(x)
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	return &s
}

// stageXLSX streams a worksheet's rows. _ord is the spreadsheet row number.
func stageXLSX(ctx context.Context, db *sql.DB, src config.Source, n int) (*staged, error) {
	sum, err := snapshot.HashFile(src.File)
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("read source: %w", err))
	}
	wb, err := excelize.OpenFile(src.File)
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("read source %s: %w", src.File, err))
	}
	defer wb.Close()
	sheet := src.Sheet
	if sheet == "" {
		sheet = wb.GetSheetName(0)
	}
	rows, err := wb.Rows(sheet)
	if err != nil {
		return nil, fail.ConfigErr(fmt.Errorf("%s: sheet %q: %w (sheets: %s)", src.File, sheet, err, strings.Join(wb.GetSheetList(), ", ")))
	}
	defer rows.Close()
	st := &staged{from: fmt.Sprintf("stage_%d", n), ord: "_ord", trim: true, segs: identity, sha256: sum}
	var rowNum int64
	for st.headers == nil && rows.Next() {
		rowNum++
		cells, err := rows.Columns()
		if err != nil {
			return nil, fail.SourceErr(fmt.Errorf("%s: %w", src.File, err))
		}
		if len(cells) == 0 {
			continue
		}
		for i, c := range cells {
			c = strings.TrimSpace(c)
			if c == "" {
				return nil, fail.SourceErr(fmt.Errorf("%s: header row %d: column %d has an empty name", src.File, rowNum, i+1))
			}
			st.headers = append(st.headers, c)
		}
	}
	if st.headers == nil {
		return nil, fail.SourceErr(fmt.Errorf("%s: sheet %q is empty", src.File, sheet))
	}
	err = appendRows(ctx, db, st.from, st.headers, func(add func(int64, []*string) error) error {
		vals := make([]*string, len(st.headers))
		for rows.Next() {
			rowNum++
			cells, err := rows.Columns(excelize.Options{RawCellValue: true})
			if err != nil {
				return fail.SourceErr(fmt.Errorf("%s: row %d: %w", src.File, rowNum, err))
			}
			if len(cells) == 0 {
				continue
			}
			if len(cells) > len(st.headers) && strings.TrimSpace(strings.Join(cells[len(st.headers):], "")) != "" {
				st.rejects = append(st.rejects, reject{line: rowNum,
					reason: fmt.Sprintf("wrong column count: expected %d, found %d", len(st.headers), len(cells)),
					record: strings.Join(cells, "\t")})
				continue
			}
			clear(vals)
			for i := range st.headers {
				if i < len(cells) && cells[i] != "" {
					v := tidyExcelNumber(cells[i])
					vals[i] = &v
				}
			}
			if err := add(rowNum, vals); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// tidyExcelNumber undoes binary floating-point noise in a raw numeric cell
// ("0.30000000000000004" -> "0.3"): Excel keeps 15 significant digits, so
// anything beyond is noise. The rounding is done in decimal, never float.
func tidyExcelNumber(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil || strings.ContainsAny(s, "eE") {
		return s
	}
	if digits := d.NumDigits(); digits > 15 {
		d = d.Round(-d.Exponent() - int32(digits-15))
		return d.String()
	}
	return s
}

// stageParquet reads a Parquet file's columns as text; _ord is the row
// number (1-based), reported as the "line".
func stageParquet(ctx context.Context, db *sql.DB, src config.Source) (*staged, error) {
	sum, err := snapshot.HashFile(src.File)
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("read source: %w", err))
	}
	rows, err := db.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet("+duck.Quote(src.File)+"))")
	if err != nil {
		return nil, fail.SourceErr(fmt.Errorf("read source %s: %w", src.File, err))
	}
	var headers, casts []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, err
		}
		headers = append(headers, name)
		casts = append(casts, "CAST("+duck.Ident(name)+" AS VARCHAR) AS "+duck.Ident(name))
	}
	rows.Close()
	st := &staged{headers: headers, ord: "_ord", trim: true, segs: identity, sha256: sum}
	st.from = fmt.Sprintf("(SELECT file_row_number + 1 AS _ord, %s FROM read_parquet(%s, file_row_number = true))",
		strings.Join(casts, ", "), duck.Quote(src.File))
	return st, nil
}
