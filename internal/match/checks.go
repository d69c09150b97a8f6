package match

import (
	"context"
	"fmt"
	"strings"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
)

// duplicates reports each group of rows sharing a normalised key as one
// break listing all their ids; the lowest id stays open for matching and
// the extra copies leave the match (they are not also unmatched).
func (rc *recon) duplicates(ctx context.Context, side string, d rules.DuplicateCheck) error {
	alias, ds := rc.side(side)
	keys := make([]string, len(d.Keys))
	cols := make([]string, len(d.Keys))
	nonEmpty := make([]string, len(d.Keys))
	for i, k := range d.Keys {
		keys[i] = fmt.Sprintf("%s AS k%d", rules.Normalize("CAST("+duck.Ident(k)+" AS VARCHAR)", d.Normalize), i)
		cols[i] = fmt.Sprintf("k%d", i)
		nonEmpty[i] = fmt.Sprintf("coalesce(k%d, '') <> ''", i)
	}
	open, err := rc.openRows(ctx, alias)
	if err != nil {
		return err
	}
	// The normalised keys once, in a table: a filter on them in the same
	// statement would be pushed into the scan and normalise every row
	// twice. Then groups from the keys alone (an aggregate), then only the
	// rows of groups with copies: a window over every row costs far more.
	if _, err := rc.exec(ctx, "duplicate keys", fmt.Sprintf("CREATE OR REPLACE TEMP TABLE dupk AS SELECT _k, %s FROM %s", strings.Join(keys, ", "), open)); err != nil {
		return err
	}
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE dup AS
		WITH k AS (SELECT _k, concat_ws(' / ', %[1]s) AS g FROM dupk WHERE %[2]s),
			multi AS (SELECT g FROM k GROUP BY g HAVING count(*) > 1)
		SELECT x._k, x._id, x._amt, x._pname, x.partner_id, x.legal_entity, x.currency, x.%[3]s AS _origin, k.g,
			row_number() OVER (PARTITION BY k.g ORDER BY x._id, x._k) AS rn
		FROM k SEMI JOIN multi USING (g) JOIN %[4]s x ON x._k = k._k`,
		strings.Join(cols, ", "), strings.Join(nonEmpty, " AND "), model.Origin, alias)
	if _, err := rc.exec(ctx, "duplicates", q); err != nil {
		return err
	}
	how := strings.Join(d.Keys, ", ")
	if len(d.Normalize) > 0 {
		how += " (" + strings.Join(d.Normalize, ", ") + ")"
	}
	ids := "string_agg(_id, '|' ORDER BY _id)"
	// group keeps the break_ids of a left and a right duplicate group
	// with the same ids apart.
	b := breakRow{typ: model.Duplicate, side: side, fixIn: ds, group: duck.Quote(side),
		partner: "arg_min(partner_id, rn)", entity: "arg_min(legal_entity, rn)", cur: "arg_min(currency, rn)",
		detail: fmt.Sprintf(`count(*) || ' copies of ' || %s || ' "' || g || '" in ' || %s || ': ' || %s || '; ' || arg_min(_id, rn) || ' goes on to matching, the others do not'`,
			duck.Quote(how), duck.Quote(ds), ids),
		pname: "arg_min(_pname, rn)",
	}
	// A check on one dataset fills the left columns whichever side it is
	// about (DESIGN §6); side says which.
	b.leftSystem, b.leftID, b.lamt, b.lorigin = ds, ids, "arg_min(_amt, rn)", "string_agg(_origin, '|' ORDER BY _id)"
	b.diff = "sum(_amt) FILTER (WHERE rn > 1)"
	if _, err := rc.insertBreaks(ctx, "duplicate breaks", b, "FROM dup GROUP BY g"); err != nil {
		return err
	}
	return rc.execAll(ctx, "drop duplicate copies", closeRows(alias, "SELECT _k FROM dup WHERE rn > 1")...)
}

// unbalanced reports every entry whose debits and credits differ by more
// than the tolerance. Debits and credits are in the company currency, so
// the break shows a currency only when every line of the entry has the same
// one.
func (rc *recon) unbalanced(ctx context.Context, u rules.UnbalancedCheck) error {
	alias, ds := rc.side(u.Side)
	group := make([]string, len(u.Group))
	for i, g := range u.Group {
		group[i] = "CAST(" + duck.Ident(g) + " AS VARCHAR)"
	}
	key := "concat_ws(' / ', " + strings.Join(group, ", ") + ")"
	debit, credit := "sum("+duck.Ident(u.Debit)+")", "sum("+duck.Ident(u.Credit)+")"
	b := breakRow{typ: model.UnbalancedEntry, side: u.Side, leftSystem: ds, fixIn: ds,
		leftID: "any_value(_key)",
		entity: "CASE WHEN count(DISTINCT legal_entity) = 1 THEN min(legal_entity) END",
		cur:    "CASE WHEN count(DISTINCT currency) = 1 THEN min(currency) END",
		lamt:   debit, ramt: credit, diff: debit + " - " + credit,
		detail: fmt.Sprintf(`'entry ' || any_value(_key) || ' does not balance: debits ' || fr_amt(%[1]s) || ', credits ' || fr_amt(%[2]s) || ', difference ' || fr_amt(%[1]s - %[2]s) || ' over ' || count(*) || ' lines (tolerance %[3]s)'`,
			debit, credit, u.Tol()),
		lorigin: "string_agg(" + model.Origin + ", '|' ORDER BY _id)",
	}
	if t, _ := model.LookupTable(rc.sideTable(u.Side)); hasColumn(t, "partner_id") {
		b.partner = "CASE WHEN count(DISTINCT partner_id) = 1 THEN min(partner_id) END"
	}
	// The entries that do not balance first, with sums alone; the costly
	// aggregates of the break (distinct counts, ordered lists) then run
	// over their lines only, not over every entry of the ledger.
	cols := make([]string, len(u.Group))
	on := make([]string, len(u.Group))
	for i, g := range u.Group {
		cols[i] = duck.Ident(g)
		on[i] = fmt.Sprintf("x.%[1]s IS NOT DISTINCT FROM b.%[1]s", duck.Ident(g))
	}
	unbalanced := fmt.Sprintf("abs(coalesce(%s, 0) - coalesce(%s, 0)) > %s", debit, credit, u.Tol())
	from := fmt.Sprintf(`FROM (
			SELECT x.*, %[1]s AS _key FROM %[2]s x
			SEMI JOIN (SELECT %[3]s FROM %[2]s GROUP BY %[3]s HAVING %[4]s) b ON %[5]s)
		GROUP BY %[6]s HAVING %[4]s`,
		key, alias, strings.Join(cols, ", "), unbalanced, strings.Join(on, " AND "), strings.Join(group, ", "))
	_, err := rc.insertBreaks(ctx, "unbalanced entries", b, from)
	return err
}

// versionConflicts reports every decision that arrived after a newer one
// for the same key had already been applied: applying it would roll the
// newer decision back.
func (rc *recon) versionConflicts(ctx context.Context, v rules.VersionCheck) error {
	alias, ds := rc.side(v.Side)
	var on, keyDesc []string
	for _, k := range v.Key {
		on = append(on, fmt.Sprintf("x.%[1]s IS NOT DISTINCT FROM y.%[1]s", duck.Ident(k)))
		keyDesc = append(keyDesc, fmt.Sprintf(`'%s ' || coalesce(CAST(x.%s AS VARCHAR), 'empty')`, k, duck.Ident(k)))
	}
	ver, arr := duck.Ident(v.Version), duck.Ident(v.Arrival)
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE conflict AS
		SELECT x._k, arg_max(y._id, (y.%[2]s, y._id)) AS newer_id, max(y.%[2]s) AS newer_version,
			arg_max(y.%[3]s, (y.%[2]s, y._id)) AS newer_arrival
		FROM %[1]s x JOIN %[1]s y ON %[4]s AND y.%[2]s > x.%[2]s AND y.%[3]s < x.%[3]s
		GROUP BY x._k`, alias, ver, arr, strings.Join(on, " AND "))
	if _, err := rc.exec(ctx, "version conflicts", q); err != nil {
		return err
	}
	b := breakRow{typ: model.VersionConflict, side: v.Side, leftSystem: ds, fixIn: ds,
		leftID: "x._id", partner: "x.partner_id", entity: "x.legal_entity", cur: "x.currency", lamt: "x._amt",
		detail: fmt.Sprintf(`%[1]s || ': version ' || x.%[2]s || ' (%[4]s ' || x.%[3]s || ') arrived after version ' || c.newer_version || ' (' || c.newer_id || ', %[4]s ' || c.newer_arrival || ') had been applied; applying it would roll the newer decision back'`,
			strings.Join(keyDesc, " || ', ' || "), ver, arr, v.Arrival),
		lorigin: "x." + model.Origin,
	}
	if t, _ := model.LookupTable(rc.sideTable(v.Side)); hasColumn(t, "partner_name") {
		b.pname = "x.partner_name"
	}
	_, err := rc.insertBreaks(ctx, "version conflict breaks", b, fmt.Sprintf("FROM conflict c JOIN %s x USING (_k)", alias))
	return err
}

func (rc *recon) sideTable(side string) string {
	if side == "right" {
		return rc.rule.Right.DatasetName().Table
	}
	return rc.rule.Left.DatasetName().Table
}

func hasColumn(t model.Table, name string) bool {
	_, ok := t.Column(name)
	return ok
}
