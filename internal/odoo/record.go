package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// Record is one Odoo record as search_read and read return it. Numbers stay
// json.Number, the literal text Odoo sent, so that no amount ever passes
// through a float64: Odoo's floats are turned into exact decimals from that
// text (see Amount).
type Record map[string]any

// decodeRecords decodes a list of records keeping numbers as json.Number.
func decodeRecords(raw json.RawMessage) ([]Record, error) {
	var out []Record
	if err := decodeJSON(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// ID is the record's id.
func (r Record) ID() int64 {
	n, _ := r.Int("id")
	return n
}

// Int reads an integer field.
func (r Record) Int(f string) (int64, bool) {
	n, ok := r[f].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}

// Text reads a char, text, date, datetime or selection field; Odoo's false
// (empty) reads as "".
func (r Record) Text(f string) string {
	switch v := r[f].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// Many2One reads a many2one field, [id, "display name"], or false.
func (r Record) Many2One(f string) (int64, string) {
	pair, ok := r[f].([]any)
	if !ok || len(pair) == 0 {
		return 0, ""
	}
	n, ok := pair[0].(json.Number)
	if !ok {
		return 0, ""
	}
	id, err := n.Int64()
	if err != nil {
		return 0, ""
	}
	name := ""
	if len(pair) > 1 {
		name, _ = pair[1].(string)
	}
	return id, name
}

// IDs reads a one2many or many2many field (a list of ids).
func (r Record) IDs(f string) []int64 {
	list, _ := r[f].([]any)
	var out []int64
	for _, x := range list {
		if n, ok := x.(json.Number); ok {
			if id, err := n.Int64(); err == nil {
				out = append(out, id)
			}
		}
	}
	return out
}

// Amount reads a monetary or float field as an exact decimal rounded to
// places, from the number's literal text: Odoo sends 869.57 as the float
// nearest to it, and its text says 869.57. ok is false when the field is
// empty (false).
func (r Record) Amount(f string, places int32) (d decimal.Decimal, ok bool, err error) {
	switch v := r[f].(type) {
	case json.Number:
		d, err := decimal.NewFromString(v.String())
		if err != nil {
			return decimal.Decimal{}, false, fmt.Errorf("field %s: malformed number %q", f, v)
		}
		if places < 0 {
			return d, true, nil
		}
		return d.Round(places), true, nil
	case nil, bool:
		return decimal.Decimal{}, false, nil
	}
	return decimal.Decimal{}, false, fmt.Errorf("field %s: want a number, got %v", f, r[f])
}

// Query is how a page of records is asked for.
type Query struct {
	Order string
	Limit int
}

// SearchRead returns the records of model matching domain, with fields.
func (c *Client) SearchRead(ctx context.Context, model string, domain []any, fields []string, q Query) ([]Record, error) {
	args := map[string]any{"domain": nonNil(domain), "fields": fields}
	if q.Order != "" {
		args["order"] = q.Order
	}
	if q.Limit > 0 {
		args["limit"] = q.Limit
	}
	raw, err := c.execute(ctx, model, "search_read", args, false)
	if err != nil {
		return nil, err
	}
	return c.records(model, "search_read", raw)
}

// Read returns the records of model with these ids (archived ones too;
// ids that do not exist are left out, as Odoo does).
func (c *Client) Read(ctx context.Context, model string, ids []int64, fields []string) ([]Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	raw, err := c.execute(ctx, model, "read", map[string]any{"ids": ids, "fields": fields}, false)
	if err != nil {
		return nil, err
	}
	return c.records(model, "read", raw)
}

// Search returns the ids of model matching domain.
func (c *Client) Search(ctx context.Context, model string, domain []any, q Query) ([]int64, error) {
	args := map[string]any{"domain": nonNil(domain)}
	if q.Order != "" {
		args["order"] = q.Order
	}
	if q.Limit > 0 {
		args["limit"] = q.Limit
	}
	raw, err := c.execute(ctx, model, "search", args, false)
	if err != nil {
		return nil, err
	}
	var ids []int64
	if err := json.Unmarshal(raw, &ids); err != nil {
		return nil, c.protocolError(model, "search", err)
	}
	return ids, nil
}

// FieldsGet returns which of fields model has, with their type.
func (c *Client) FieldsGet(ctx context.Context, model string, fields []string) (map[string]string, error) {
	raw, err := c.execute(ctx, model, "fields_get", map[string]any{"allfields": fields, "attributes": []string{"type"}}, false)
	if err != nil {
		return nil, err
	}
	var got map[string]struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		return nil, c.protocolError(model, "fields_get", err)
	}
	out := make(map[string]string, len(got))
	for k, v := range got {
		out[k] = v.Type
	}
	return out, nil
}

// Create creates one record and returns its id. It is never retried once
// the request may have reached Odoo: a caller that gets an error with
// MaybeApplied set must look for the record before creating it again.
func (c *Client) Create(ctx context.Context, model string, vals map[string]any) (int64, error) {
	raw, err := c.execute(ctx, model, "create", map[string]any{"vals_list": []any{vals}}, true)
	if err != nil {
		return 0, err
	}
	// JSON-RPC and JSON-2 both answer a list for a list of values; an older
	// server may answer one id.
	var ids []int64
	if err := json.Unmarshal(raw, &ids); err != nil || len(ids) != 1 {
		var id int64
		if err2 := json.Unmarshal(raw, &id); err2 != nil {
			return 0, c.protocolError(model, "create", fmt.Errorf("want one id, got %s", truncate(raw)))
		}
		return id, nil
	}
	return ids[0], nil
}

func (c *Client) records(model, method string, raw json.RawMessage) ([]Record, error) {
	recs, err := decodeRecords(raw)
	if err != nil {
		return nil, c.protocolError(model, method, err)
	}
	return recs, nil
}

func (c *Client) protocolError(model, method string, err error) error {
	return &Error{System: c.system, Model: model, Method: method, Kind: KindProtocol, Message: "unexpected answer: " + err.Error()}
}

// nonNil keeps an empty domain a JSON list: Odoo refuses null.
func nonNil(d []any) []any {
	if d == nil {
		return []any{}
	}
	return d
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return strconv.Quote(string(b[:80])) + "…"
	}
	return strconv.Quote(string(b))
}
