package odootest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// database is the fake's records, by model and id, and the fields each
// model has.
type database struct {
	major   int
	records map[string]map[int64]map[string]any
	known   map[string]map[string]bool
}

func newDatabase(major int) *database {
	return &database{major: major, records: map[string]map[int64]map[string]any{}, known: map[string]map[string]bool{}}
}

// harvest builds the database from the recordings: the records search_read
// and read returned (merged by id, later recordings adding fields), and
// the fields of every successful request and of fields_get answers.
func harvest(exs []*exchange, major int) (*database, error) {
	db := newDatabase(major)
	for _, ex := range exs {
		c, result, ok := successfulCall(ex)
		if !ok || c.service != "object" {
			continue
		}
		db.knowFields(c.model, c.named)
		switch c.method {
		case "fields_get":
			var fields map[string]any
			if decode(result, &fields) == nil {
				for f := range fields {
					db.know(c.model, f)
				}
			}
		case "search_read", "read":
			if !isDataRecording(ex.file) {
				continue
			}
			var recs []map[string]any
			if decode(result, &recs) != nil {
				continue
			}
			for _, r := range recs {
				id, ok := intOf(r["id"])
				if !ok {
					continue
				}
				for k, v := range r {
					db.set(c.model, id, k, v)
				}
			}
		}
	}
	if len(db.records) == 0 {
		return nil, errors.New("odootest: the recordings hold no records")
	}
	return db, nil
}

// successfulCall decodes a recording that succeeded, with its result.
func successfulCall(ex *exchange) (recordedCall, json.RawMessage, bool) {
	if c, ok := ex.rpcCall(); ok {
		result, errObj := ex.rpcResult()
		return c, result, errObj == nil && result != nil
	}
	if c, ok := ex.json2Call(); ok && ex.HTTPStatus == 200 {
		return c, ex.Response.Body, true
	}
	return recordedCall{}, nil, false
}

// knowFields notes the fields a successful request named.
func (db *database) knowFields(model string, named map[string]any) {
	for _, key := range []string{"fields", "allfields"} {
		if list, ok := named[key].([]any); ok {
			for _, f := range list {
				if s, ok := f.(string); ok {
					db.know(model, s)
				}
			}
		}
	}
}

func (db *database) know(model, field string) {
	if db.known[model] == nil {
		db.known[model] = map[string]bool{"id": true}
	}
	db.known[model][field] = true
}

func (db *database) set(model string, id int64, field string, value any) {
	if db.records[model] == nil {
		db.records[model] = map[int64]map[string]any{}
	}
	r := db.records[model][id]
	if r == nil {
		r = map[string]any{"id": json.Number(fmt.Sprint(id))}
		db.records[model][id] = r
	}
	r[field] = value
	db.know(model, field)
}

// supplementFile is testdata/supplement/<version>.json: fields Odoo has
// that no recorded request named, and records (or fields of records) the
// lab did not capture, each with the evidence for it in its note.
type supplementFile struct {
	Fields  map[string][]string         `json:"fields"`
	Records map[string][]map[string]any `json:"records"`
}

func (db *database) supplement(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var sup supplementFile
	if err := decode(data, &sup); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for model, fields := range sup.Fields {
		for _, f := range fields {
			db.know(model, f)
		}
	}
	for model, recs := range sup.Records {
		for _, r := range recs {
			id, ok := intOf(r["id"])
			if !ok {
				return fmt.Errorf("%s: a %s record without an id", path, model)
			}
			for k, v := range r {
				if k != "note" {
					db.set(model, id, k, v)
				}
			}
		}
	}
	return nil
}

// derive fills the stored related fields Odoo computes from other
// records, where the recordings lack them: a journal item's journal,
// number, company and write date are its move's; a payment's company is
// its journal's and its write date its move's.
func (db *database) derive() {
	moves := db.records["account.move"]
	fill := func(r map[string]any, field string, from map[string]any, src string) {
		if _, has := r[field]; has || from == nil {
			return
		}
		if v, ok := from[src]; ok {
			r[field] = v
		}
	}
	for _, l := range db.records["account.move.line"] {
		move := moves[m2oID(l["move_id"])]
		fill(l, "journal_id", move, "journal_id")
		fill(l, "move_name", move, "name")
		fill(l, "write_date", move, "write_date")
		fill(l, "company_id", move, "company_id")
	}
	for _, p := range db.records["account.payment"] {
		fill(p, "write_date", moves[m2oID(p["move_id"])], "write_date")
		fill(p, "company_id", db.records["account.journal"][m2oID(p["journal_id"])], "company_id")
	}
}

func (db *database) isModel(model string) bool {
	return db.records[model] != nil || db.known[model] != nil
}

// execute runs a call for user uid. It returns the result, or a failure.
func (s *Server) execute(uid int64, c Call) (any, failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	db := s.db
	if !db.isModel(c.Model) {
		return nil, failModel
	}
	for _, co := range c.Companies {
		if db.records["res.company"][co] == nil || (uid == s.limitedUID && co != 1) {
			return nil, failCompany
		}
	}
	if strings.HasPrefix(c.Method, "_") {
		return nil, failPrivate
	}
	if uid == s.limitedUID && c.Model == "account.move" {
		return nil, failAccess // an internal user without accounting rights (files 34)
	}
	a := c.Args
	if a == nil {
		a = map[string]any{}
	}
	switch c.Method {
	case "search_read", "search", "search_count":
		domain, _ := a["domain"].([]any)
		if f := db.checkDomain(c.Model, domain); f != "" {
			return nil, f
		}
		fields := stringList(a["fields"])
		if f := db.checkFields(c.Model, fields); f != "" {
			return nil, f
		}
		ids, err := db.search(c.Model, domain, text(a["order"]), intArg(a["offset"]), intArg(a["limit"]))
		if err != nil {
			return nil, "model"
		}
		switch c.Method {
		case "search":
			return ids, ""
		case "search_count":
			return len(ids), ""
		}
		return db.project(c.Model, ids, fields), ""
	case "read":
		fields := stringList(a["fields"])
		if f := db.checkFields(c.Model, fields); f != "" {
			return nil, f
		}
		var ids []int64
		for _, v := range listOf(a["ids"]) {
			if id, ok := intOf(v); ok && db.records[c.Model][id] != nil {
				ids = append(ids, id) // a missing id is left out (file 36)
			}
		}
		return db.project(c.Model, ids, fields), ""
	case "fields_get":
		out := map[string]any{}
		want := stringList(a["allfields"])
		for f := range db.known[c.Model] {
			if len(want) == 0 || contains(want, f) {
				out[f] = map[string]any{"type": "char", "string": f}
			}
		}
		return out, ""
	case "create":
		return s.create(c, a)
	}
	return nil, failMethod
}

// checkFields refuses a field the model does not have, as Odoo does.
func (db *database) checkFields(model string, fields []string) failure {
	for _, f := range fields {
		if !db.known[model][f] {
			return "field:" + model + ":" + f
		}
	}
	return ""
}

// checkDomain refuses a domain on a field the model does not have.
func (db *database) checkDomain(model string, domain []any) failure {
	for _, t := range domain {
		leaf, ok := t.([]any)
		if !ok || len(leaf) != 3 {
			continue
		}
		name := strings.Split(text(leaf[0]), ".")[0]
		if !db.known[model][name] {
			return "leaf:" + model + ":" + name
		}
	}
	return ""
}

// search returns the ids of model's records matching domain, ordered.
func (db *database) search(model string, domain []any, order string, offset, limit int) ([]int64, error) {
	match, rest, err := db.parseDomain(domain)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("domain: %d terms left over", len(rest))
	}
	var recs []map[string]any
	for _, r := range db.records[model] {
		if match(r) {
			recs = append(recs, r)
		}
	}
	sortRecords(recs, orderOf(model, order))
	if offset > len(recs) {
		offset = len(recs)
	}
	recs = recs[offset:]
	if limit > 0 && limit < len(recs) {
		recs = recs[:limit]
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i], _ = intOf(r["id"])
	}
	return ids, nil
}

// project returns the records with the fields asked for (all known ones
// if none): a field the record lacks reads false, as an empty one does in
// Odoo.
func (db *database) project(model string, ids []int64, fields []string) []map[string]any {
	if len(fields) == 0 {
		for f := range db.known[model] {
			fields = append(fields, f)
		}
		sort.Strings(fields)
	}
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		r := db.records[model][id]
		p := map[string]any{"id": r["id"]}
		for _, f := range fields {
			if v, ok := r[f]; ok {
				p[f] = v
			} else {
				p[f] = false
			}
		}
		out = append(out, p)
	}
	return out
}

// defaultOrder is the _order of the models whose recordings rely on it.
var defaultOrder = map[string]string{"res.company": "name", "res.currency": "name", "res.partner": "name"}

func orderOf(model, order string) string {
	if order == "" {
		order = defaultOrder[model]
	}
	if order == "" {
		order = "id"
	}
	return order
}

// sortRecords sorts by an Odoo order clause ("write_date asc, id asc").
// Empty values sort last, as PostgreSQL does; the id breaks ties.
func sortRecords(recs []map[string]any, order string) {
	type key struct {
		field string
		desc  bool
	}
	var keys []key
	for _, part := range strings.Split(order, ",") {
		f := strings.Fields(part)
		if len(f) == 0 {
			continue
		}
		keys = append(keys, key{f[0], len(f) > 1 && strings.EqualFold(f[1], "desc")})
	}
	keys = append(keys, key{"id", false})
	sort.SliceStable(recs, func(i, j int) bool {
		for _, k := range keys {
			c := compare(recs[i][k.field], recs[j][k.field])
			if c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
}

// compare orders two field values: numbers by value, many2one by id,
// text as text, empty last.
func compare(a, b any) int {
	a, b = scalar(a), scalar(b)
	ae, be := isEmpty(a), isEmpty(b)
	switch {
	case ae && be:
		return 0
	case ae:
		return 1
	case be:
		return -1
	}
	da, aok := number(a)
	db, bok := number(b)
	if aok && bok {
		return da.Cmp(db)
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// scalar reduces a many2one [id, name] to its id.
func scalar(v any) any {
	if pair, ok := v.([]any); ok && len(pair) == 2 {
		if _, ok := pair[1].(string); ok {
			return pair[0]
		}
	}
	return v
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	}
	return false
}

func number(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case json.Number:
		d, err := decimal.NewFromString(x.String())
		return d, err == nil
	case int:
		return decimal.NewFromInt(int64(x)), true
	case int64:
		return decimal.NewFromInt(x), true
	}
	return decimal.Decimal{}, false
}

func intOf(v any) (int64, bool) {
	d, ok := number(scalar(v))
	if !ok || !d.IsInteger() {
		return 0, false
	}
	return d.IntPart(), true
}

func m2oID(v any) int64 {
	id, _ := intOf(v)
	return id
}

func intArg(v any) int {
	n, _ := intOf(v)
	return int(n)
}

func text(v any) string {
	s, _ := v.(string)
	return s
}

func listOf(v any) []any {
	l, _ := v.([]any)
	return l
}

func stringList(v any) []string {
	var out []string
	for _, x := range listOf(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
