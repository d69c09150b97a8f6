// Package duck opens DuckDB the way every finrecon stage needs it: bounded
// threads and memory, an optional spill directory, deterministic settings, and
// a lock-down that stops SQL from touching files or settings once the inputs
// are loaded. It also converts DuckDB decimals to exact Go decimals.
package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/shopspring/decimal"
)

// Options tune a DuckDB instance. Zero values leave DuckDB's defaults.
type Options struct {
	Threads     int
	MemoryLimit string // e.g. "2GB"
	TempDir     string // spill directory
}

// Open starts an in-memory DuckDB with opts applied. It pins a single
// connection so temporary tables live as long as the returned handle.
func Open(ctx context.Context, opts Options) (*sql.DB, error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	settings := []string{
		// Parquet and CSV output must not depend on scheduling.
		"SET preserve_insertion_order = true",
		"SET TimeZone = 'UTC'",
	}
	if opts.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", opts.Threads))
	}
	if opts.MemoryLimit != "" {
		settings = append(settings, "SET memory_limit = "+Quote(opts.MemoryLimit))
	}
	if opts.TempDir != "" {
		settings = append(settings, "SET temp_directory = "+Quote(opts.TempDir))
	}
	for _, s := range settings {
		if _, err := db.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("duckdb %s: %w", s, err)
		}
	}
	return db, nil
}

// LockDown confines file access to dirs and freezes the configuration, so
// that nothing run afterwards (rule expressions included) can read or write
// other files, attach databases, load extensions or change settings.
func LockDown(ctx context.Context, db *sql.DB, dirs ...string) error {
	quoted := make([]string, len(dirs))
	for i, d := range dirs {
		if !strings.HasSuffix(d, "/") {
			d += "/"
		}
		quoted[i] = Quote(d)
	}
	stmts := []string{
		"SET allowed_directories = [" + strings.Join(quoted, ", ") + "]",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("lock down duckdb: %w", err)
		}
	}
	return nil
}

// CaseMap returns SQL that translates expr through m (value -> value);
// values m does not name pass through unchanged. Keys are sorted, so the SQL
// is the same every time.
func CaseMap(expr string, m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("CASE " + expr)
	for _, k := range keys {
		fmt.Fprintf(&b, " WHEN %s THEN %s", Quote(k), Quote(m[k]))
	}
	b.WriteString(" ELSE " + expr + " END")
	return b.String()
}

// Quote returns s as a SQL string literal.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Ident returns s as a quoted SQL identifier.
func Ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Decimal scans a DuckDB DECIMAL (or NULL) into an exact decimal.
type Decimal struct {
	D     decimal.Decimal
	Valid bool
}

// Scan implements sql.Scanner.
func (d *Decimal) Scan(src any) error {
	d.Valid = src != nil
	switch v := src.(type) {
	case nil:
		d.D = decimal.Zero
	case duckdb.Decimal:
		d.D = decimal.NewFromBigInt(v.Value, -int32(v.Scale))
	case *big.Int:
		d.D = decimal.NewFromBigInt(v, 0)
	case int64:
		d.D = decimal.NewFromInt(v)
	case int32:
		d.D = decimal.NewFromInt(int64(v))
	case string:
		x, err := decimal.NewFromString(v)
		if err != nil {
			return fmt.Errorf("scan decimal: %w", err)
		}
		d.D = x
	default:
		// float64 is refused on purpose: it cannot hold money exactly.
		return fmt.Errorf("scan decimal: unsupported type %T", src)
	}
	return nil
}

// Value implements driver.Valuer: decimals are bound as strings, which DuckDB
// casts exactly (a float64 parameter would be rounded).
func (d Decimal) Value() (driver.Value, error) {
	if !d.Valid {
		return nil, nil
	}
	return d.D.String(), nil
}
