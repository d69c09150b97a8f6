package odoo

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/finrecon/finrecon/internal/odoo/odootest"
)

// TestBadKey: Odoo refuses the key — authenticate answers false over
// JSON-RPC (files 05b), 401 over JSON-2 (j06) — and the error says so,
// names where the key comes from, and never shows it.
func TestBadKey(t *testing.T) {
	const wrong = "9999999999999999999999999999999999999999"
	for _, tt := range []struct{ version, protocol, method string }{
		{"17.0", "jsonrpc", "authenticate"}, {"18.0", "jsonrpc", "authenticate"},
		{"19.0", "jsonrpc", "authenticate"}, {"19.0", "json2", "account.move.search_read"},
	} {
		t.Run(tt.version+"/"+tt.protocol, func(t *testing.T) {
			s := settings(t, server(t, tt.version))
			s.Protocol, s.Key = tt.protocol, NewSecret(wrong)
			_, err := Extract(context.Background(), ExtractOptions{Settings: s})
			var oe *Error
			if !errors.As(err, &oe) || oe.Kind != KindAuth {
				t.Fatalf("got %v, want an authentication error", err)
			}
			msg := err.Error()
			for _, want := range []string{`odoo system "odoo"`, tt.method, "refused the login or API key", "$FINRECON_TEST_ODOO_KEY"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if strings.Contains(msg, wrong) || strings.Contains(msg, odootest.AdminLogin+"\"") {
				t.Errorf("error %q shows the key or login", msg)
			}
		})
	}
}

// TestAccessError: a user without accounting rights (files 34, j08) gets
// told which model it cannot read and to have its rights granted.
func TestAccessError(t *testing.T) {
	for _, tt := range []struct{ version, protocol string }{
		{"17.0", "jsonrpc"}, {"18.0", "jsonrpc"}, {"19.0", "jsonrpc"}, {"19.0", "json2"},
	} {
		t.Run(tt.version+"/"+tt.protocol, func(t *testing.T) {
			s := settings(t, server(t, tt.version))
			s.Protocol, s.Login, s.Key = tt.protocol, odootest.LimitedLogin, NewSecret(odootest.LimitedKey)
			_, err := Extract(context.Background(), ExtractOptions{Settings: s})
			if !IsKind(err, KindAccess) {
				t.Fatalf("got %v, want an access error", err)
			}
			for _, want := range []string{`odoo system "odoo"`, "account.move.search_read", "may not read or write account.move", "grant the integration user read access to account.move", "You are not allowed to access 'Journal Entry'"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestUnknownField: a field the version does not have is named — 17 has
// no payment memo (file 38), 19 no payment ref (38, j18).
func TestUnknownField(t *testing.T) {
	for _, tt := range []struct{ version, protocol, field string }{
		{"17.0", "jsonrpc", "memo"}, {"18.0", "jsonrpc", "ref"}, {"19.0", "jsonrpc", "ref"}, {"19.0", "json2", "ref"},
	} {
		t.Run(tt.version+"/"+tt.protocol, func(t *testing.T) {
			s := settings(t, server(t, tt.version))
			s.Protocol = tt.protocol
			c, err := Dial(context.Background(), s, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SearchRead(context.Background(), "account.payment", nil, []string{"name", tt.field}, Query{Limit: 1})
			var oe *Error
			if !errors.As(err, &oe) || oe.Kind != KindUnknownField || oe.Field != tt.field {
				t.Fatalf("got %#v, want unknown field %s", err, tt.field)
			}
			for _, want := range []string{`unknown field "` + tt.field + `" on account.payment`, "account.payment.search_read", "Odoo " + tt.version} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestUnknownFieldInDomain names the field of a bad domain (file 39b).
func TestUnknownFieldInDomain(t *testing.T) {
	c, err := Dial(context.Background(), settings(t, server(t, "17.0")), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SearchRead(context.Background(), "account.move", []any{[]any{"bad_field_x", "=", 1}}, []string{"name"}, Query{})
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != KindUnknownField || oe.Field != "bad_field_x" {
		t.Fatalf("got %v, want unknown field bad_field_x", err)
	}
}

// TestUnknownModel: files 37 and j10.
func TestUnknownModel(t *testing.T) {
	for _, protocol := range []string{"jsonrpc", "json2"} {
		s := settings(t, server(t, "19.0"))
		s.Protocol = protocol
		c, err := Dial(context.Background(), s, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.SearchRead(context.Background(), "finrecon.nonexistent", nil, nil, Query{})
		if !IsKind(err, KindNotFound) || !strings.Contains(err.Error(), "finrecon.nonexistent") {
			t.Errorf("%s: got %v, want not found naming the model", protocol, err)
		}
	}
}

// TestJSON2OnlyFrom19 refuses JSON-2 on an older server, saying what to
// set instead.
func TestJSON2OnlyFrom19(t *testing.T) {
	s := settings(t, server(t, "18.0"))
	s.Protocol = "json2"
	_, err := Dial(context.Background(), s, nil)
	if err == nil || !strings.Contains(err.Error(), "set protocol: jsonrpc") {
		t.Errorf("got %v, want advice to use jsonrpc", err)
	}
}

// TestAutoProtocol picks JSON-2 from 19 on.
func TestAutoProtocol(t *testing.T) {
	for v, want := range map[string]string{"17.0": "jsonrpc", "18.0": "jsonrpc", "19.0": "json2"} {
		c, err := Dial(context.Background(), settings(t, server(t, v)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Protocol() != want || c.Version().Serie != v {
			t.Errorf("%s: protocol %s version %s, want %s", v, c.Protocol(), c.Version().Serie, want)
		}
	}
}

// TestFieldsGet says which fields a version has (files 24c).
func TestFieldsGet(t *testing.T) {
	for v, want := range map[string]string{"17.0": "ref", "18.0": "memo", "19.0": "memo"} {
		c, err := Dial(context.Background(), settings(t, server(t, v)), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.FieldsGet(context.Background(), "account.payment", []string{"ref", "memo"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got[want]; !ok || len(got) != 1 {
			t.Errorf("%s: fields %v, want only %s", v, got, want)
		}
	}
}
