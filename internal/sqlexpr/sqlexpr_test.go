package sqlexpr

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"testing"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/google/go-cmp/cmp"
)

// testColumns are the columns the examples may use.
var testColumns = []string{
	"status", "invoice_number", "kind", "amount_total", "issue_date", "due_date",
	"account_code", "a", "b", "x", "y", "Mixed_Case", "current_date",
}

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := duck.Open(context.Background(), duck.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// acceptedExamples are expressions a rule may contain.
var acceptedExamples = []struct{ name, expr string }{
	{"side filter", "status <> 'draft'"},
	{"IN list", "status IN ('open','partial')"},
	{"NOT IN list", "status NOT IN ('void')"},
	{"key normalisation", "regexp_replace(upper(trim(invoice_number)), '[^A-Z0-9]', '', 'g')"},
	{"strip a prefix", "regexp_replace(invoice_number, '^INV-?', '')"},
	{"signed amount", "CASE WHEN kind = 'credit_note' THEN -amount_total ELSE amount_total END"},
	{"simple CASE", "CASE kind WHEN 'a' THEN 1 WHEN 'b' THEN 2 END"},
	{"date window", "date_diff('day', issue_date, due_date) <= 30"},
	{"named argument", "date_diff(part := 'day', issue_date, due_date) <= 30"},
	{"LIKE", "account_code LIKE '121%'"},
	{"NOT ILIKE", "account_code NOT ILIKE 'x%'"},
	{"LIKE ESCAPE", "account_code LIKE '12!%%' ESCAPE '!'"},
	{"GLOB on a string", "account_code GLOB '12*'"},
	{"SIMILAR TO", "account_code SIMILAR TO '[0-9]+'"},
	{"fuzzy match", "jaro_winkler_similarity(a, b) > 0.9"},
	{"CAST", "CAST(x AS VARCHAR)"},
	{"TRY_CAST to DECIMAL", "TRY_CAST(x AS DECIMAL(18, 2))"},
	{"shorthand cast", "x::DATE + INTERVAL 3 DAY"},
	{"typed literal", "issue_date >= DATE '2024-01-01'"},
	{"IS NULL and BETWEEN", "x IS NOT NULL AND y BETWEEN 1 AND 2"},
	{"NOT BETWEEN, OR", "NOT (x BETWEEN 1 AND 2) OR y IS NULL"},
	{"IS DISTINCT FROM", "a IS DISTINCT FROM b"},
	{"IS TRUE", "(a = b) IS TRUE"},
	{"boolean and NULL literals", "coalesce(x, NULL, TRUE)"},
	{"IFNULL, NULLIF, IF", "if(ifnull(a, b) = nullif(x, ''), 1, 0)"},
	{"EXTRACT", "extract(year FROM issue_date) = 2024"},
	{"TRIM syntax", "trim(both '0' from account_code)"},
	{"SUBSTRING syntax", "substring(account_code FROM 1 FOR 3)"},
	{"string slice and index", "account_code[1:3] || account_code[4]"},
	{"IN a list literal", "x IN [1, 2]"},
	{"COLLATE", "status COLLATE nocase = 'OPEN'"},
	{"arithmetic", "round(abs(a - b) * 100 / 3, 2) % 7 // 1"},
	{"identifiers ignore case", `STATUS = 'x' AND "Status" = 'y' AND mixed_case = 1`},
	{"session keyword that is a real column", "current_date = 1"},
	{"trailing comment", "status = 'x' -- open ones only"},
	{"multi-line", "status = 'x'\nAND kind = 'y'"},
}

func TestCheckAccepts(t *testing.T) {
	db := openDB(t)
	for _, tt := range acceptedExamples {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(context.Background(), db, tt.expr, testColumns); err != nil {
				t.Errorf("Check(%q) = %v, want nil", tt.expr, err)
			}
		})
	}
}

// refusedExamples are expressions Check must refuse, each with a part of the
// message the user sees.
var refusedExamples = []struct{ name, expr, want string }{
	// Smuggling a whole query or statement.
	{"file read", "read_text('/etc/passwd')", "function read_text is not allowed in rule expressions (it can read files, settings or the clock"},
	{"COPY", "COPY (SELECT 1) TO '/tmp/x'", "not a valid SQL expression"},
	// DuckDB reads a word followed by a string as a typed literal.
	{"ATTACH", "ATTACH '/tmp/x.db'", "cast to ATTACH is not allowed"},
	{"SET", "SET threads=1", "not a valid SQL expression"},
	{"statement after the expression", "1); DROP TABLE t; --", "not a valid SQL expression"},
	{"statement between expressions", "1); COPY t TO 'f'; SELECT (1", "not a statement such as COPY, ATTACH, SET, PRAGMA or CREATE"},
	{"second SELECT", "1); SELECT (2", "not several statements"},
	{"FROM smuggled in", "1) FROM read_csv('x') WHERE (1", "not a query with FROM"},
	{"WHERE smuggled in", "1) WHERE (1", "not a query with WHERE"},
	{"ORDER BY smuggled in", "1) ORDER BY (1", "not a query with ORDER BY, LIMIT or DISTINCT"},
	{"LIMIT smuggled in", "1) LIMIT (1", "not a query with ORDER BY, LIMIT or DISTINCT"},
	{"GROUP BY smuggled in", "1) GROUP BY (1", "not a query with GROUP BY"},
	{"HAVING smuggled in", "1) HAVING (1", "not a query with HAVING"},
	{"QUALIFY smuggled in", "1) QUALIFY (1", "not a query with QUALIFY"},
	{"UNION smuggled in", "1) UNION SELECT (1", "not a query (UNION, EXCEPT, ...)"},
	{"two expressions", "1), (2", "not a list of several"},
	// json_serialize_sql leaves WINDOW clauses out of its output.
	{"WINDOW clause smuggled in", "1) WINDOW w AS (PARTITION BY (SELECT 1)", "closes its parentheses early"},

	// Expression kinds that are not plain scalar expressions.
	{"scalar subquery", "(SELECT 1)", "subqueries are not allowed"},
	{"IN subquery", "x IN (SELECT y FROM t)", "subqueries are not allowed"},
	{"EXISTS", "EXISTS (SELECT 1)", "subqueries are not allowed"},
	{"ANY", "x = ANY([1, 2])", "subqueries are not allowed"},
	{"window function", "row_number() OVER ()", "window functions (OVER ...) are not allowed"},
	{"star", "*", "* and COLUMNS(...) are not allowed"},
	{"COLUMNS", "COLUMNS('amount.*')", "* and COLUMNS(...) are not allowed"},
	{"question-mark parameter", "?", "prepared-statement parameters"},
	{"numbered parameter", "x = $1", "prepared-statement parameters"},
	{"named parameter", "x = $name", "prepared-statement parameters"},
	{"lambda", "a -> a + 1", "lambda functions are not allowed"},
	{"positional reference", "#1", "positional references (#1) are not allowed"},
	{"GROUPING", "GROUPING(x)", "expression kind OPERATOR GROUPING_FUNCTION is not allowed"},
	{"DEFAULT", "DEFAULT", "expression kind DEFAULT VALUE_DEFAULT is not allowed"},
	{"aggregate", "sum(amount_total)", "function sum is not allowed"},
	{"aggregate modifiers on a scalar", "lower(x ORDER BY y)", "with FILTER, ORDER BY or DISTINCT is not allowed"},

	// Functions that reach outside the row.
	{"environment", "getenv('HOME')", "function getenv is not allowed"},
	{"setting", "current_setting('threads')", "function current_setting is not allowed"},
	{"clock", "now()", "function now is not allowed"},
	{"clock keyword", "current_timestamp", "current_timestamp is not allowed in rule expressions: it reads the clock"},
	{"session keyword", "current_user", "current_user is not allowed in rule expressions: it reads the clock or the session"},
	{"randomness", "random() < 0.5", "function random is not allowed"},
	{"run SQL", "query('SELECT 1')", "function query is not allowed"},
	{"schema-qualified", "main.read_text('x')", "function read_text is not allowed"},
	{"catalog-qualified", "system.main.lower(x)", "qualified function name or method call system.main.lower is not allowed"},
	{"method call", "x.lower()", "qualified function name or method call x.lower is not allowed"},
	{"operator not on the list", "a & b", "operator & is not allowed"},
	{"cast to an extension type", "x::JSON", "cast to JSON is not allowed"},
	{"cast to a user type", "CAST(x AS inet)", "cast to inet is not allowed"},
	{"cast to a list", "x::INT[]", "cast to LIST is not allowed"},
	{"ICU collation", "x COLLATE de", `collation "de" is not allowed`},

	// Columns.
	{"unknown column with a suggestion", "amount_totl > 0", `unknown column "amount_totl", maybe you mean "amount_total"?`},
	{"unknown column far from any", "zzzzzzzz > 0", `unknown column "zzzzzzzz"`},
	{"qualified column", "t.x = 1", `qualified column reference t.x is not allowed: use the bare column name "x"`},

	// Not an expression at all.
	{"empty", "", "empty SQL expression"},
	{"blank", "  \n ", "empty SQL expression"},
	{"only a comment", "--", "not a valid SQL expression: syntax error at the end of the expression"},
	{"incomplete", "status = ", "not a valid SQL expression: syntax error at the end of the expression"},
	{"unbalanced parenthesis", "lower(x", "not a valid SQL expression: syntax error at the end of the expression"},
	{"syntax error", "é = = 1", `not a valid SQL expression: syntax error at or near "=" (at character 5)`},
	{"unterminated string", "status = 'open", `not a valid SQL expression: unterminated quoted string at or near "'open" (at character 10)`},
	{"unterminated comment", "1 /*", `not a valid SQL expression: unterminated /* comment at or near "/*" (at character 3)`},
	{"invalid UTF-8", "status = '\xff'", "not valid UTF-8"},
	{"NUL", "status = '\x00'", "contains a NUL character"},
}

func TestCheckRefuses(t *testing.T) {
	db := openDB(t)
	for _, tt := range refusedExamples {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(context.Background(), db, tt.expr, testColumns)
			if err == nil {
				t.Fatalf("Check(%q) = nil, want an error containing %q", tt.expr, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check(%q) = %q, want it to contain %q", tt.expr, err, tt.want)
			}
			// The user never wrote the wrapper, so must not see it.
			if strings.Contains(err.Error(), wrapPrefix) || strings.Contains(err.Error(), "sqlexpr_check") {
				t.Errorf("Check(%q) = %q mentions the wrapper", tt.expr, err)
			}
		})
	}
}

// The expression check must keep working once the run has locked DuckDB
// down (no external access, frozen configuration).
func TestCheckAfterLockDown(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if err := duck.LockDown(ctx, db, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := Check(ctx, db, "status <> 'draft'", testColumns); err != nil {
		t.Errorf("accepted expression: %v", err)
	}
	if err := Check(ctx, db, "read_text('/etc/passwd')", testColumns); err == nil {
		t.Error("read_text accepted after lock-down")
	}
}

// Every allowlisted name must be a scalar function or built-in macro in this
// DuckDB, and no scalar overload may be volatile or depend on the query's
// start time: a typo or an aggregate in the list would otherwise go unseen.
func TestFunctionsAreDeterministicScalars(t *testing.T) {
	db := openDB(t)
	names := Functions()
	if !sort.StringsAreSorted(names) {
		t.Error("Functions() is not sorted")
	}
	for _, name := range names {
		rows, err := db.Query(`SELECT DISTINCT function_type, coalesce(stability, '')
			FROM duckdb_functions() WHERE function_name = ? ORDER BY ALL`, name)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for rows.Next() {
			var kind, stability string
			if err := rows.Scan(&kind, &stability); err != nil {
				t.Fatal(err)
			}
			kinds = append(kinds, strings.TrimSpace(kind+" "+stability))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		for _, k := range kinds {
			if k != "scalar CONSISTENT" && k != "macro" {
				t.Errorf("%s: %v, want only deterministic scalar functions or macros", name, kinds)
				break
			}
		}
		if len(kinds) == 0 {
			t.Errorf("%s: not a DuckDB function", name)
		}
	}
}

// Functions the rules documentation promises must stay on the list.
func TestFunctionsIncludeDocumented(t *testing.T) {
	want := []string{
		"concat", "concat_ws", "contains", "date_add", "date_diff", "date_part",
		"date_trunc", "jaro_winkler_similarity", "levenshtein", "lower",
		"regexp_extract", "regexp_matches", "regexp_replace", "strftime",
		"strptime", "trim", "upper", "~~",
	}
	have := map[string]bool{}
	for _, f := range Functions() {
		have[f] = true
	}
	var missing []string
	for _, w := range want {
		if !have[w] {
			missing = append(missing, w)
		}
	}
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("missing from Functions() (-want +got):\n%s", diff)
	}
}
