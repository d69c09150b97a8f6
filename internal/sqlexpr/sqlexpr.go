// Package sqlexpr validates the small SQL expressions users write in rule
// files (side filters, key expressions, proof filters) before finrecon pastes
// them into the SQL it runs.
//
// An expression is parsed, never evaluated: DuckDB's json_serialize_sql turns
// it into a syntax tree, and Check walks every node of that tree. Only node
// kinds known to be harmless are accepted, functions must be on an allowlist,
// and column references must name known columns. Anything unknown is refused,
// so a new DuckDB feature cannot slip through unnoticed.
package sqlexpr

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/finrecon/finrecon/internal/strictyaml"
)

// node is one object of json_serialize_sql's output. Decoding into generic
// maps (rather than structs) lets the checks see every field, including ones
// this package does not know about, so that those can be refused.
type node = map[string]any

// Check validates expr as one DuckDB scalar expression over the given columns.
// db is any open DuckDB connection (an in-memory one is fine); Check only
// parses, never evaluates. Errors carry no file position, which the caller
// adds; a syntax error says at which character of expr it is.
func Check(ctx context.Context, db *sql.DB, expr string, columns []string) error {
	switch {
	case strings.TrimSpace(expr) == "":
		return errors.New("empty SQL expression")
	case !utf8.ValidString(expr):
		return errors.New("SQL expression is not valid UTF-8")
	case strings.ContainsRune(expr, 0):
		return errors.New("SQL expression contains a NUL character")
	}
	root, err := parseExpression(ctx, db, expr)
	if err != nil {
		return err
	}
	return newChecker(columns).expr(root)
}

// Functions returns the allowlisted function and operator names, sorted (for
// docs). Operators appear under the names DuckDB gives them internally, for
// example "~~" for LIKE and "||" for string concatenation.
func Functions() []string {
	names := make([]string, 0, len(allowedFunctions))
	for name := range allowedFunctions {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// The expression is parsed inside a wrapper. The newline keeps a trailing
// "--" comment from swallowing the closing parenthesis.
const (
	wrapPrefix = "SELECT ("
	wrapSuffix = "\n)"
	// aliasSuffix is appended for a second parse; see parseExpression.
	aliasSuffix = " AS sqlexpr_check"
)

// parseExpression parses expr and returns the single expression it consists
// of, after making sure the surrounding SELECT holds nothing else.
//
// It parses twice. json_serialize_sql does not serialise every clause: a
// WINDOW clause, for one, vanishes from its output, so "1) WINDOW w AS (...) "
// followed by anything would look like the constant 1. The second parse adds
// an alias after the closing parenthesis; an expression that closes the
// wrapper early and appends a clause cannot also be followed by "AS name", so
// it fails there. Both parses must agree on the expression.
func parseExpression(ctx context.Context, db *sql.DB, expr string) (node, error) {
	plain := wrapPrefix + expr + wrapSuffix
	first, err := parseSelect(ctx, db, plain)
	if err != nil {
		return nil, err
	}
	root, err := onlyExpression(first)
	if err != nil {
		return nil, err
	}
	second, err := parseSelect(ctx, db, plain+aliasSuffix)
	if err != nil {
		return nil, errClosesEarly
	}
	again, err := onlyExpression(second)
	if err != nil || !sameExpression(root, again) {
		return nil, errClosesEarly
	}
	return root, nil
}

var errClosesEarly = errors.New("must be one SQL expression: it closes its parentheses early and adds SQL after them")

// sameExpression reports whether a (from the plain parse) and b (from the
// aliased parse) are the same tree apart from the alias.
func sameExpression(a, b node) bool {
	if b["alias"] != strings.TrimPrefix(aliasSuffix, " AS ") {
		return false
	}
	b2 := make(node, len(b))
	for k, v := range b {
		b2[k] = v
	}
	b2["alias"] = a["alias"]
	return reflect.DeepEqual(a, b2)
}

// parseSelect runs json_serialize_sql on query and returns the SELECT node of
// its one statement.
func parseSelect(ctx context.Context, db *sql.DB, query string) (node, error) {
	var out string
	// The query text is a bind parameter, so nothing in it is ever run.
	q := "SELECT CAST(json_serialize_sql(CAST(? AS VARCHAR)) AS VARCHAR)"
	if err := db.QueryRowContext(ctx, q, query).Scan(&out); err != nil {
		return nil, fmt.Errorf("check SQL expression: %w", err)
	}
	var parsed struct {
		Error      bool   `json:"error"`
		Type       string `json:"error_type"`
		Message    string `json:"error_message"`
		Position   string `json:"position"`
		Statements []node `json:"statements"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber() // query locations are uint64 and do not fit a float64
	if err := dec.Decode(&parsed); err != nil {
		return nil, fmt.Errorf("check SQL expression: decode parse tree: %w", err)
	}
	switch {
	case parsed.Error && strings.HasPrefix(parsed.Message, "Only SELECT statements"):
		// COPY, ATTACH, SET, PRAGMA, INSTALL, LOAD, CREATE, DROP, CALL ...
		// cannot be serialised, so their presence shows up as this error.
		return nil, errors.New("must be one SQL expression, not a statement such as COPY, ATTACH, SET, PRAGMA or CREATE")
	case parsed.Error && parsed.Type == "not implemented":
		// Valid DuckDB syntax that json_serialize_sql cannot represent,
		// such as BETWEEN SYMMETRIC.
		return nil, fmt.Errorf("unsupported SQL syntax in rule expression (%s)", parsed.Message)
	case parsed.Error:
		return nil, syntaxError(parsed.Message, parsed.Position, query)
	case len(parsed.Statements) != 1:
		return nil, errors.New("must be one SQL expression, not several statements")
	}
	stmt := parsed.Statements[0]
	for _, key := range sortedKeys(stmt) {
		switch v := stmt[key]; {
		case key == "named_param_map" && !isEmpty(v):
			return nil, errParameter
		case key != "node" && !isEmpty(v):
			return nil, fmt.Errorf("unsupported SQL syntax in rule expression (statement %s)", key)
		}
	}
	sel, _ := stmt["node"].(node)
	if sel == nil || sel["type"] != "SELECT_NODE" {
		return nil, errors.New("must be one SQL expression, not a query (UNION, EXCEPT, ...)")
	}
	return sel, nil
}

// syntaxError turns DuckDB's parse error for query into one about the user's
// expression: it hides the wrapper and says where in the expression the
// error is.
func syntaxError(msg, position, query string) error {
	// Snippets quoted in the message may run on into the wrapper's "\n)".
	msg = strings.ReplaceAll(msg, wrapSuffix+`"`, `"`)
	// position counts characters (not bytes) from the start of query.
	pos, err := strconv.Atoi(position)
	if err != nil || pos < 0 {
		return fmt.Errorf("not a valid SQL expression: %s", msg)
	}
	pos -= utf8.RuneCountInString(wrapPrefix)
	exprLen := utf8.RuneCountInString(strings.TrimPrefix(strings.TrimSuffix(query, wrapSuffix), wrapPrefix))
	if pos >= exprLen {
		// The parser stumbled on the wrapper's closing parenthesis or the
		// end of the text: the expression stops short.
		return errors.New("not a valid SQL expression: syntax error at the end of the expression (is something missing?)")
	}
	return fmt.Errorf("not a valid SQL expression: %s (at character %d)", msg, max(pos, 0)+1)
}

// selectClauses names, for the user, the SELECT fields that an expression
// could smuggle in by closing the wrapper's parenthesis early.
var selectClauses = map[string]string{
	"modifiers":         "ORDER BY, LIMIT or DISTINCT",
	"cte_map":           "WITH",
	"where_clause":      "WHERE",
	"group_expressions": "GROUP BY",
	"group_sets":        "GROUP BY",
	"having":            "HAVING",
	"qualify":           "QUALIFY",
	"sample":            "USING SAMPLE",
}

// onlyExpression returns the one expression of the wrapper's select list and
// refuses a SELECT that has anything besides it.
func onlyExpression(sel node) (node, error) {
	for _, key := range sortedKeys(sel) {
		v := sel[key]
		switch key {
		case "type", "select_list":
			// Checked by the caller and below.
		case "aggregate_handling":
			if v != "STANDARD_HANDLING" {
				return nil, errors.New("must be one SQL expression, not a query with GROUP BY ALL")
			}
		case "from_table":
			if t, _ := v.(node); t == nil || t["type"] != "EMPTY" {
				return nil, errors.New("must be one SQL expression, not a query with FROM")
			}
		default:
			if isEmpty(v) {
				continue
			}
			clause := selectClauses[key]
			if clause == "" {
				clause = key
			}
			return nil, fmt.Errorf("must be one SQL expression, not a query with %s", clause)
		}
	}
	list, _ := sel["select_list"].([]any)
	if len(list) != 1 {
		return nil, errors.New("must be one SQL expression, not a list of several")
	}
	root, _ := list[0].(node)
	if root == nil {
		return nil, errors.New("must be one SQL expression")
	}
	return root, nil
}

var errParameter = errors.New("prepared-statement parameters (?, $1, $name) are not allowed in rule expressions")

// checker walks an expression tree.
type checker struct {
	columns []string            // as given, for suggestions
	known   map[string]struct{} // lower-cased: DuckDB identifiers ignore case
}

func newChecker(columns []string) *checker {
	c := &checker{columns: columns, known: make(map[string]struct{}, len(columns))}
	for _, col := range columns {
		c.known[strings.ToLower(col)] = struct{}{}
	}
	return c
}

// commonKeys may appear on any expression node and carry nothing
// executable. "alias" is set on named function arguments (f(a := 1)).
var commonKeys = []string{"class", "type", "alias", "query_location"}

// expr checks one expression node and, through the class's rule, all of its
// children.
func (c *checker) expr(n node) error {
	class, _ := n["class"].(string)
	r, ok := rules[class]
	if !ok {
		return refusedClass(class, n)
	}
	typ, _ := n["type"].(string)
	if !r.types[typ] {
		return fmt.Errorf("%s is not allowed in rule expressions", displayType(class, typ))
	}
	// A field this package does not know about might hold anything; refuse
	// it unless it is empty.
	for _, key := range sortedKeys(n) {
		if !contains(commonKeys, key) && !contains(r.keys, key) && !isEmpty(n[key]) {
			return fmt.Errorf("unsupported SQL syntax in rule expression (%s %s)", class, key)
		}
	}
	children, err := r.check(c, n)
	if err != nil {
		return err
	}
	for _, child := range children {
		if err := c.expr(child); err != nil {
			return err
		}
	}
	return nil
}

// rule says what one expression class may look like. check validates the
// class's own fields and returns the child expressions to walk.
type rule struct {
	types map[string]bool // allowed values of "type"
	keys  []string        // fields the class may have besides commonKeys
	check func(c *checker, n node) ([]node, error)
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// rules lists every expression class Check accepts, each verified against
// json_serialize_sql's output for DuckDB 1.5. Classes missing here are
// refused: SUBQUERY, WINDOW, STAR (* and COLUMNS), PARAMETER, LAMBDA,
// POSITIONAL_REFERENCE, DEFAULT and whatever future versions add.
var rules = map[string]rule{
	"COLUMN_REF": {set("COLUMN_REF"), []string{"column_names"}, (*checker).columnRef},
	"CONSTANT":   {set("VALUE_CONSTANT"), []string{"value"}, noChildren},
	"COMPARISON": {
		set("COMPARE_EQUAL", "COMPARE_NOTEQUAL", "COMPARE_LESSTHAN", "COMPARE_GREATERTHAN",
			"COMPARE_LESSTHANOREQUALTO", "COMPARE_GREATERTHANOREQUALTO",
			"COMPARE_DISTINCT_FROM", "COMPARE_NOT_DISTINCT_FROM"),
		[]string{"left", "right"}, fields("left", "right"),
	},
	"CONJUNCTION": {set("CONJUNCTION_AND", "CONJUNCTION_OR"), []string{"children"}, childList},
	"OPERATOR": {
		// NOT, IS [NOT] NULL, [NOT] IN (list), COALESCE/IFNULL, x[i],
		// x[i:j] and TRY(...). Not GROUPING(), UNPACK and the like.
		set("OPERATOR_NOT", "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL",
			"COMPARE_IN", "COMPARE_NOT_IN", "OPERATOR_COALESCE",
			"ARRAY_EXTRACT", "ARRAY_SLICE", "OPERATOR_TRY"),
		[]string{"children"}, childList,
	},
	"BETWEEN": {set("COMPARE_BETWEEN"), []string{"input", "lower", "upper"}, fields("input", "lower", "upper")},
	"CASE":    {set("CASE_EXPR"), []string{"case_checks", "else_expr"}, caseExpr},
	"CAST":    {set("OPERATOR_CAST"), []string{"child", "cast_type", "try_cast"}, castExpr},
	"COLLATE": {set("COLLATE"), []string{"child", "collation"}, collateExpr},
	"FUNCTION": {
		set("FUNCTION"),
		[]string{"function_name", "schema", "catalog", "children", "filter",
			"order_bys", "distinct", "is_operator", "export_state"},
		(*checker).function,
	},
}

// refusedClass explains why an expression class is not accepted.
func refusedClass(class string, n node) error {
	switch class {
	case "SUBQUERY":
		return errors.New("subqueries are not allowed in rule expressions")
	case "WINDOW":
		return errors.New("window functions (OVER ...) are not allowed in rule expressions")
	case "STAR":
		return errors.New("* and COLUMNS(...) are not allowed in rule expressions: name the columns")
	case "PARAMETER":
		return errParameter
	case "LAMBDA":
		return errors.New("lambda functions are not allowed in rule expressions")
	case "POSITIONAL_REFERENCE":
		return errors.New("positional references (#1) are not allowed in rule expressions: name the column")
	case "":
		return errors.New("unsupported SQL syntax in rule expression")
	}
	typ, _ := n["type"].(string)
	return fmt.Errorf("%s is not allowed in rule expressions", displayType(class, typ))
}

// displayType names an expression kind in an error message.
func displayType(class, typ string) string {
	if typ == "" || typ == class {
		return "expression kind " + class
	}
	return "expression kind " + class + " " + typ
}

func noChildren(*checker, node) ([]node, error) { return nil, nil }

// fields returns a check that walks the named single-child fields.
func fields(keys ...string) func(*checker, node) ([]node, error) {
	return func(_ *checker, n node) ([]node, error) {
		var out []node
		for _, k := range keys {
			child, err := asNode(n[k])
			if err != nil {
				return nil, err
			}
			out = append(out, child)
		}
		return out, nil
	}
}

func childList(_ *checker, n node) ([]node, error) { return asNodes(n["children"]) }

func caseExpr(_ *checker, n node) ([]node, error) {
	checks, ok := n["case_checks"].([]any)
	if !ok || len(checks) == 0 {
		return nil, errMalformed
	}
	var out []node
	for _, item := range checks {
		m, _ := item.(node)
		for key := range m {
			if key != "when_expr" && key != "then_expr" {
				return nil, errMalformed
			}
		}
		when, err := asNode(m["when_expr"])
		if err != nil {
			return nil, err
		}
		then, err := asNode(m["then_expr"])
		if err != nil {
			return nil, err
		}
		out = append(out, when, then)
	}
	// DuckDB fills in ELSE NULL when the user leaves it out.
	elseExpr, err := asNode(n["else_expr"])
	if err != nil {
		return nil, err
	}
	return append(out, elseExpr), nil
}

// allowedCasts are the type ids an expression may cast to. Casting to an
// unknown or extension type (INET, JSON, a user type, ...) is refused: it
// could make DuckDB load an extension, and rules do not need it.
var allowedCasts = set(
	"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
	"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
	"FLOAT", "DOUBLE", "DECIMAL", "VARCHAR",
	"DATE", "TIME", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
	"TIMESTAMP WITH TIME ZONE", "INTERVAL",
)

func castExpr(_ *checker, n node) ([]node, error) {
	t, _ := n["cast_type"].(node)
	id, _ := t["id"].(string)
	info, _ := t["type_info"].(node)
	if !allowedCasts[id] || (info != nil && info["type"] != "DECIMAL_TYPE_INFO") {
		return nil, fmt.Errorf("cast to %s is not allowed in rule expressions (use BOOLEAN, INTEGER, BIGINT, DOUBLE, DECIMAL, VARCHAR, DATE, TIMESTAMP or INTERVAL)", typeName(t))
	}
	child, err := asNode(n["child"])
	if err != nil {
		return nil, err
	}
	return []node{child}, nil
}

// typeName names a cast target for an error message.
func typeName(t node) string {
	id, _ := t["id"].(string)
	if info, _ := t["type_info"].(node); id == "UNBOUND" && info != nil {
		if name, _ := info["name"].(string); name != "" {
			return name
		}
	}
	if id == "" {
		return "this type"
	}
	return id
}

// allowedCollations are DuckDB's built-in collations; others (such as ICU
// locale names) are refused because rules do not need them.
var allowedCollations = set("nocase", "noaccent", "nfc")

func collateExpr(_ *checker, n node) ([]node, error) {
	name, _ := n["collation"].(string)
	for _, part := range strings.Split(strings.ToLower(name), ".") {
		if !allowedCollations[part] {
			return nil, fmt.Errorf("collation %q is not allowed in rule expressions (use nocase, noaccent or nfc)", name)
		}
	}
	child, err := asNode(n["child"])
	if err != nil {
		return nil, err
	}
	return []node{child}, nil
}

// sessionKeywords are written like column names but, when no such column
// exists, DuckDB turns them into calls that read the clock or the session.
// Runs must be repeatable, so they are only accepted as real columns.
var sessionKeywords = set(
	"current_date", "current_time", "current_timestamp", "localtime", "localtimestamp",
	"current_user", "current_role", "session_user", "user", "current_catalog", "current_schema",
)

func (c *checker) columnRef(n node) ([]node, error) {
	parts, _ := n["column_names"].([]any)
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i], _ = p.(string)
	}
	switch {
	case len(names) == 0:
		return nil, errMalformed
	case len(names) > 1:
		return nil, fmt.Errorf("qualified column reference %s is not allowed: use the bare column name %q",
			strings.Join(names, "."), names[len(names)-1])
	}
	name := names[0]
	if _, ok := c.known[strings.ToLower(name)]; ok {
		return nil, nil
	}
	if sessionKeywords[strings.ToLower(name)] {
		return nil, fmt.Errorf("%s is not allowed in rule expressions: it reads the clock or the session, and runs must be repeatable", name)
	}
	return nil, fmt.Errorf("unknown column %q%s", name, strictyaml.Suggest(name, c.columns))
}

func (c *checker) function(n node) ([]node, error) {
	name, _ := n["function_name"].(string)
	name = strings.ToLower(name)
	schema, _ := n["schema"].(string)
	catalog, _ := n["catalog"].(string)
	// DuckDB itself puts schema "main" on calls it builds from special
	// syntax (TRIM(... FROM ...), EXTRACT, ...). Any other qualifier is
	// either a schema the user chose or method syntax (x.lower()), which
	// DuckDB resolves only later; neither is needed.
	if catalog != "" || (schema != "" && !strings.EqualFold(schema, "main")) {
		qualified := strings.TrimPrefix(catalog+"."+schema+"."+name, ".")
		return nil, fmt.Errorf("qualified function name or method call %s is not allowed in rule expressions: call %s(...) directly", qualified, name)
	}
	if !allowedFunctions[name] {
		kind := "function"
		if op, _ := n["is_operator"].(bool); op {
			kind = "operator"
		}
		return nil, fmt.Errorf("%s %s is not allowed in rule expressions (it can read files, settings or the clock, or is not on the list of allowed functions)", kind, name)
	}
	// FILTER, ORDER BY, DISTINCT and EXPORT_STATE only mean something for
	// aggregates, and no aggregate is allowed.
	orders, _ := n["order_bys"].(node)
	if !isEmpty(n["filter"]) || !isEmpty(orders["orders"]) || n["distinct"] == true || n["export_state"] == true {
		return nil, fmt.Errorf("%s(...) with FILTER, ORDER BY or DISTINCT is not allowed in rule expressions", name)
	}
	return asNodes(n["children"])
}

var errMalformed = errors.New("unsupported SQL syntax in rule expression")

func asNode(v any) (node, error) {
	n, ok := v.(node)
	if !ok {
		return nil, errMalformed
	}
	return n, nil
}

func asNodes(v any) ([]node, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errMalformed
	}
	out := make([]node, len(list))
	for i, item := range list {
		n, err := asNode(item)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// isEmpty reports whether a JSON value carries nothing: null, false, "", an
// empty array, or an object whose values are all empty (such as {"map": []}).
// Numbers are never empty: a zero may well mean something.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case node:
		for _, x := range v {
			if !isEmpty(x) {
				return false
			}
		}
		return true
	}
	return false
}

// sortedKeys makes the walk, and so the first error reported, deterministic.
func sortedKeys(n node) []string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// allowedFunctions is the allowlist of functions and operators, by the
// lower-case name json_serialize_sql reports. Every entry is a deterministic
// scalar function (or a built-in macro over such functions) that looks only
// at its arguments: nothing here reads files, settings, the session or the
// clock, and no aggregate, window or table function is listed. A function
// missing from the list is refused, so adding DuckDB features is a decision.
//
// Deliberately absent, among others: read_* and glob (files), getenv and
// current_setting (settings), now, today, current_date(), age (the clock),
// random and uuid (not repeatable), nextval, query and query_table (run SQL),
// hash (its value may change between DuckDB versions; use md5 or sha256),
// and repeat (a cheap way to exhaust memory).
var allowedFunctions = set(
	// Operators, under their internal names. Unary minus is "-" as well.
	"+", "-", "*", "/", "//", "%", "**", "^", "@", // @ is absolute value
	"||",   // string concatenation
	"~~",   // LIKE
	"!~~",  // NOT LIKE
	"~~*",  // ILIKE
	"!~~*", // NOT ILIKE
	"~~~",  // GLOB (pattern matching on strings, not on file names)
	"^@",   // starts-with
	// LIKE ... ESCAPE and its variants become these calls.
	"like_escape", "not_like_escape", "ilike_escape", "not_ilike_escape",

	// Strings.
	"lower", "upper", "lcase", "ucase", "trim", "ltrim", "rtrim",
	"replace", "translate", "substr", "substring", "left", "right",
	"lpad", "rpad", "reverse", "length", "len", "strlen", "char_length",
	"character_length", "concat", "concat_ws", "strip_accents", "nfc_normalize",
	"contains", "starts_with", "ends_with", "prefix", "suffix",
	"position", "strpos", "instr", "split_part", "ascii", "chr",
	"format", "printf",

	// Regular expressions. SIMILAR TO and ~ become regexp_full_match.
	"regexp_replace", "regexp_matches", "regexp_extract", "regexp_full_match",

	// Conditionals. COALESCE, IFNULL and IF are not function calls in the
	// tree (they become an operator and a CASE).
	"nullif", "greatest", "least",

	// Lists, only for "x IN [1, 2]", which becomes contains(list_value(...), x).
	"list_value",

	// Numbers.
	"abs", "round", "round_even", "floor", "ceil", "ceiling", "trunc", "sign",
	"mod", "power", "pow", "sqrt", "isnan", "isfinite",

	// Dates and times. EXTRACT(part FROM d) becomes date_part.
	"date_diff", "datediff", "date_sub", "datesub", "date_add",
	"date_trunc", "datetrunc", "date_part", "datepart",
	"year", "quarter", "month", "week", "weekofyear", "yearweek", "isoyear",
	"day", "dayofmonth", "dayofweek", "dayofyear", "isodow",
	"dayname", "monthname", "hour", "minute", "second",
	"last_day", "make_date", "make_time", "make_timestamp",
	"strftime", "strptime", "try_strptime", "epoch", "epoch_ms",
	"timezone", // AT TIME ZONE
	// INTERVAL n UNIT becomes to_<unit>s(...).
	"to_years", "to_quarters", "to_months", "to_weeks", "to_days", "to_hours",
	"to_minutes", "to_seconds", "to_milliseconds", "to_microseconds",
	"to_decades", "to_centuries", "to_millennia",

	// Similarity, for fuzzy matching.
	"jaro_winkler_similarity", "jaro_similarity", "levenshtein", "editdist3",
	"damerau_levenshtein", "hamming", "mismatches", "jaccard",

	// Stable digests.
	"md5", "sha256",
)
