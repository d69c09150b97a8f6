package config

import (
	"path/filepath"
	"strings"
	"testing"
)

const odooOK = `snapshots: out/snapshots
systems:
  odoo:
    odoo:
      url: https://erp.example.com
      db: prod
      login: finrecon-bot
      api_key_env: FINRECON_ODOO_KEY
      companies: [{id: 1, entity: US01}, {id: 2, entity: EU01}]
      timeout: 30s
      retries: 2
      overlap: 5m
`

func TestOdooBlock(t *testing.T) {
	c, err := Parse("/etc/finrecon/c.yaml", []byte(odooOK))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Systems["odoo"].Odoo
	if o == nil || o.URL != "https://erp.example.com" || *o.Retries != 2 || o.Timeout.String() != "30s" || o.Overlap.String() != "5m0s" || len(o.Companies) != 2 {
		t.Fatalf("parsed %+v", o)
	}
	if got := c.OdooSystems(); len(got) != 1 || got[0] != "odoo" {
		t.Errorf("OdooSystems %v", got)
	}
	if got, want := c.OdooState("odoo"), filepath.FromSlash("/etc/finrecon/out/odoo-state/odoo"); got != want {
		t.Errorf("default state %s, want %s (next to the snapshots folder)", got, want)
	}
	if _, err := c.AllSources(); err == nil || !strings.Contains(err.Error(), "has not been pulled") {
		t.Errorf("AllSources before a pull: %v", err)
	}
}

func TestOdooBlockErrors(t *testing.T) {
	const secret = "5e3f1c0a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f"
	block := func(lines ...string) string {
		return "systems:\n  odoo:\n    odoo:\n      " + strings.Join(lines, "\n      ") + "\n"
	}
	base := []string{"url: https://erp.example.com", "db: prod", "login: bot"}
	tests := []struct {
		name, yaml, want string
	}{
		{"key in the config", block(append(base, "api_key: "+secret)...), "c.yaml:7:7: system odoo: odoo api_key: a secret must never be written in the config file"},
		{"password in the config", block(append(base, "api_key_env: K", "password: hunter2hunter2")...), "odoo password: a secret must never be written"},
		{"key as the variable name", block(append(base, "api_key_env: "+secret)...), "api_key_env must name an environment variable"},
		{"not a variable name", block(append(base, "api_key_env: my key")...), "api_key_env must name an environment variable"},
		{"no key at all", block(base...), "give api_key_env"},
		{"both", block(append(base, "api_key_env: K", "api_key_file: k.txt")...), "not both"},
		{"user in url", block("url: https://bot:"+secret+"@erp.example.com", "db: prod", "login: bot", "api_key_env: K"), "must not carry a user or password"},
		{"bad url", block("url: erp.example.com", "db: prod", "login: bot", "api_key_env: K"), "want the server's base URL"},
		{"no db", block("url: https://erp.example.com", "login: bot", "api_key_env: K"), "db is required"},
		{"bad protocol", block(append(base, "api_key_env: K", "protocol: xmlrpc")...), `protocol "xmlrpc": want auto, jsonrpc or json2`},
		{"bad partner key", block(append(base, "api_key_env: K", "partner_key: Billing ID")...), "want a res.partner field name"},
		{"retries", block(append(base, "api_key_env: K", "retries: 50")...), "retries 50: want 0 to 10"},
		{"company twice", block(append(base, "api_key_env: K", "companies: [{id: 1}, {id: 1}]")...), "company 1 is listed twice"},
		{"dir and odoo", "systems:\n  odoo:\n    dir: d\n    odoo: {url: 'https://e.x', db: p, login: b, api_key_env: K}\n", "give dir or odoo, not both"},
		{"misspelt key", block(append(base, "api_key_env: K", "pagesize: 10")...), `unknown key "pagesize", maybe you mean "page_size"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant an error containing %s", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestOdooJSON2NeedsNoDB(t *testing.T) {
	_, err := Parse("c.yaml", []byte("systems:\n  odoo:\n    odoo: {url: 'https://e.x', protocol: json2, api_key_file: /run/secrets/odoo}\n"))
	if err != nil {
		t.Error(err)
	}
}
