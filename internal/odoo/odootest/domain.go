package odootest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

type predicate func(map[string]any) bool

// parseDomain compiles an Odoo domain: leaves [field, operator, value]
// joined by the prefix operators "&", "|" and "!", with an implicit "&"
// between top-level terms.
func (db *database) parseDomain(domain []any) (predicate, []any, error) {
	var preds []predicate
	rest := domain
	for len(rest) > 0 {
		p, r, err := db.parseTerm(rest)
		if err != nil {
			return nil, nil, err
		}
		preds, rest = append(preds, p), r
	}
	return func(r map[string]any) bool {
		for _, p := range preds {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil, nil
}

func (db *database) parseTerm(d []any) (predicate, []any, error) {
	if len(d) == 0 {
		return nil, nil, fmt.Errorf("domain: an operator lacks its operands")
	}
	switch t := d[0].(type) {
	case string:
		switch t {
		case "!":
			p, rest, err := db.parseTerm(d[1:])
			if err != nil {
				return nil, nil, err
			}
			return func(r map[string]any) bool { return !p(r) }, rest, nil
		case "&", "|":
			a, rest, err := db.parseTerm(d[1:])
			if err != nil {
				return nil, nil, err
			}
			b, rest, err := db.parseTerm(rest)
			if err != nil {
				return nil, nil, err
			}
			if t == "&" {
				return func(r map[string]any) bool { return a(r) && b(r) }, rest, nil
			}
			return func(r map[string]any) bool { return a(r) || b(r) }, rest, nil
		}
		return nil, nil, fmt.Errorf("domain: unknown operator %q", t)
	case []any:
		if len(t) != 3 {
			return nil, nil, fmt.Errorf("domain: a leaf has 3 items, not %d", len(t))
		}
		field, _ := t[0].(string)
		op, _ := t[1].(string)
		value := t[2]
		return func(r map[string]any) bool { return leaf(db.fieldValue(r, field), op, value) }, d[1:], nil
	}
	return nil, nil, fmt.Errorf("domain: unexpected term %v", d[0])
}

// relations name the model a many2one points to, for dotted paths.
var relations = map[string]string{
	"account_id": "account.account", "partner_id": "res.partner", "move_id": "account.move",
	"journal_id": "account.journal", "company_id": "res.company", "currency_id": "res.currency",
}

// fieldValue reads field of r, following a dotted path through a
// many2one ("account_id.account_type"); a related record the database
// lacks still has the name the many2one shows.
func (db *database) fieldValue(r map[string]any, field string) any {
	base, sub, dotted := strings.Cut(field, ".")
	v := r[base]
	if !dotted {
		return v
	}
	pair, ok := v.([]any)
	if !ok || !isPair(pair) {
		return nil
	}
	id, _ := intOf(pair[0])
	if rel := db.records[relations[base]][id]; rel != nil {
		if x, ok := rel[sub]; ok {
			return x
		}
	}
	if sub == "name" {
		return pair[1]
	}
	return nil
}

func leaf(v any, op string, value any) bool {
	switch op {
	case "=", "==":
		return eq(v, value)
	case "!=", "<>":
		return !eq(v, value)
	case "in":
		return in(v, value)
	case "not in":
		return !in(v, value)
	case "<", "<=", ">", ">=":
		if isEmpty(scalar(v)) {
			return false
		}
		c := compare(v, value)
		switch op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	case "like", "ilike", "not like", "not ilike":
		s, _ := v.(string)
		pat := fmt.Sprint(value)
		if strings.HasSuffix(op, "ilike") {
			s, pat = strings.ToLower(s), strings.ToLower(pat)
		}
		found := strings.Contains(s, pat)
		if strings.HasPrefix(op, "not") {
			return !found
		}
		return found
	}
	return false
}

// eq compares a field value with a domain value: a many2one by id, a
// many2many or one2many by membership, false with empty.
func eq(v, value any) bool {
	if list, ok := v.([]any); ok && !isPair(list) {
		for _, x := range list {
			if eq(x, value) {
				return true
			}
		}
		return false
	}
	v = scalar(v)
	if isEmpty(value) || isEmpty(v) {
		return isEmpty(value) && isEmpty(v)
	}
	return compare(v, value) == 0
}

func in(v, values any) bool {
	for _, x := range listOf(values) {
		if eq(v, x) {
			return true
		}
	}
	return false
}

func isPair(l []any) bool {
	if len(l) != 2 {
		return false
	}
	_, ok := l[1].(string)
	return ok
}

// create adds account.move drafts — all of them or, when one is
// unbalanced, none (files 31, 32b) — or records of another model.
func (s *Server) create(c Call, a map[string]any) (any, failure) {
	db := s.db
	raw := a["vals_list"]
	single := false
	if m, ok := raw.(map[string]any); ok {
		raw, single = []any{m}, true
	}
	var list []map[string]any
	for _, v := range listOf(raw) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, failMethod
		}
		list = append(list, m)
	}
	if c.Model == "account.move" {
		for _, vals := range list {
			if !balanced(vals) {
				return nil, failUnbalanced
			}
		}
	}
	var ids []int64
	for _, vals := range list {
		if c.Model == "account.move" {
			ids = append(ids, db.createMove(vals))
			continue
		}
		id := db.nextID(c.Model)
		for k, v := range vals {
			db.set(c.Model, id, k, v)
		}
		ids = append(ids, id)
	}
	if single && len(ids) == 1 {
		return ids[0], ""
	}
	return ids, ""
}

// balanced checks an entry's lines ([0, 0, values] commands) sum to zero,
// exactly.
func balanced(vals map[string]any) bool {
	var total decimal.Decimal
	for _, cmd := range listOf(vals["line_ids"]) {
		parts := listOf(cmd)
		if len(parts) != 3 {
			continue
		}
		line, _ := parts[2].(map[string]any)
		debit, _ := number(line["debit"])
		credit, _ := number(line["credit"])
		total = total.Add(debit).Sub(credit)
	}
	return total.IsZero()
}

// createMove stores a draft entry and its lines as Odoo would show them.
func (db *database) createMove(vals map[string]any) int64 {
	id := db.nextID("account.move")
	journalID := m2oID(vals["journal_id"])
	journal := db.records["account.journal"][journalID]
	company := journal["company_id"]
	name := any(false) // 18 and 19 leave a draft unnamed
	if db.major <= 17 {
		name = "/"
	}
	const stamp = "2026-11-24 09:00:00"
	move := map[string]any{
		"name": name, "move_type": vals["move_type"], "state": "draft", "ref": vals["ref"], "date": vals["date"],
		"journal_id": []any{json.Number(fmt.Sprint(journalID)), journal["name"]}, "company_id": company,
		"write_date": stamp,
	}
	var lineIDs []any
	for _, cmd := range listOf(vals["line_ids"]) {
		parts := listOf(cmd)
		if len(parts) != 3 {
			continue
		}
		lv, _ := parts[2].(map[string]any)
		lid := db.nextID("account.move.line")
		lineIDs = append(lineIDs, json.Number(fmt.Sprint(lid)))
		line := map[string]any{
			"move_id": []any{json.Number(fmt.Sprint(id)), fmt.Sprint(vals["ref"])}, "move_name": name,
			"name": lv["name"], "debit": lv["debit"], "credit": lv["credit"], "date": vals["date"],
			"account_id": db.pair("account.account", lv["account_id"], "name"), "partner_id": db.pair("res.partner", lv["partner_id"], "name"),
			"journal_id": move["journal_id"], "company_id": company, "parent_state": "draft", "write_date": stamp,
		}
		for k, v := range line {
			db.set("account.move.line", lid, k, v)
		}
	}
	move["line_ids"] = lineIDs
	for k, v := range move {
		db.set("account.move", id, k, v)
	}
	return id
}

// pair is the many2one value [id, name] of an id.
func (db *database) pair(model string, v any, nameField string) any {
	id, ok := intOf(v)
	if !ok || id == 0 {
		return false
	}
	name, _ := db.records[model][id][nameField].(string)
	return []any{json.Number(fmt.Sprint(id)), name}
}

func (db *database) nextID(model string) int64 {
	var maxID int64
	for id := range db.records[model] {
		maxID = max(maxID, id)
	}
	return maxID + 1
}
