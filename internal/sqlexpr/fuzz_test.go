package sqlexpr

import (
	"context"
	"strings"
	"testing"

	"github.com/finrecon/finrecon/internal/duck"
)

// FuzzCheck asserts that Check never panics, never shows the user its
// wrapper, and that whatever it accepts really is one expression: it must
// parse as the only item of a projection over a table with the given
// columns, with nothing smuggled around it, and preparing that projection
// (which binds it but runs nothing) must not try to reach outside DuckDB.
func FuzzCheck(f *testing.F) {
	for _, tt := range acceptedExamples {
		f.Add(tt.expr)
	}
	for _, tt := range refusedExamples {
		f.Add(tt.expr)
	}
	for _, s := range []string{
		"(((x)))", "x) AS y, (x", "1)) --", "x -- )", "'a' || '\n)'", `"x"`, `"x""y"`,
		"x::VARCHAR COLLATE nocase", "E'\\'' = x", "$$)$$ = x", "1 /* ) */ + 2",
		"CASE WHEN x THEN (SELECT 1) END", "lower(x) FILTER (WHERE y)",
		"1) WINDOW w AS (", "list_value(1)[1]", "x IN [1] AND y IN (1)",
		`"SELECT (`, // the user's own text may appear in messages
	} {
		f.Add(s)
	}

	ctx := context.Background()
	db := openDB(f)
	// Locked down, preparing a projection that reads a file fails loudly.
	if err := duck.LockDown(ctx, db, f.TempDir()); err != nil {
		f.Fatal(err)
	}
	cols := make([]string, len(testColumns))
	for i, c := range testColumns {
		cols[i] = "CAST(NULL AS VARCHAR) AS " + duck.Ident(c)
	}
	table := "(SELECT " + strings.Join(cols, ", ") + ") AS t"

	f.Fuzz(func(t *testing.T, expr string) {
		err := Check(ctx, db, expr, testColumns)
		if err != nil {
			msg := err.Error()
			if msg == "" || leaks(msg, expr, wrapPrefix) || leaks(msg, expr, "sqlexpr_check") {
				t.Fatalf("Check(%q) = %q: empty or mentions the wrapper", expr, msg)
			}
			return
		}
		projection := "SELECT (" + expr + "\n) AS v FROM " + table
		sel, err := parseSelect(ctx, db, projection)
		if err != nil {
			t.Fatalf("Check accepted %q, but %q does not parse: %v", expr, projection, err)
		}
		if list, _ := sel["select_list"].([]any); len(list) != 1 {
			t.Fatalf("Check accepted %q, but the projection has %d items", expr, len(list))
		}
		for key, v := range sel {
			switch key {
			case "type", "select_list", "aggregate_handling":
			case "from_table":
				if from, _ := v.(node); from["type"] != "SUBQUERY" {
					t.Fatalf("Check accepted %q, but the projection reads %v", expr, from["type"])
				}
			default:
				if !isEmpty(v) {
					t.Fatalf("Check accepted %q, but the projection has %s", expr, key)
				}
			}
		}
		stmt, err := db.PrepareContext(ctx, projection)
		if err != nil {
			// Binding may fail (the columns are all VARCHAR here), but
			// not because the expression tried to touch files or settings.
			if m := err.Error(); strings.Contains(m, "Permission Error") || strings.Contains(m, "disabled by configuration") {
				t.Fatalf("Check accepted %q, which reaches outside DuckDB: %v", expr, err)
			}
			return
		}
		stmt.Close()
	})
}

// leaks reports whether msg shows wrapper text the user did not write.
func leaks(msg, expr, wrapper string) bool {
	return strings.Contains(msg, wrapper) && !strings.Contains(expr, wrapper)
}
