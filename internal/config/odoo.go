package config

import (
	"net/url"
	"path/filepath"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// Odoo is a system's connection to Odoo: extract pulls the system's
// invoices, payments and journal lines from it, post creates adjustment
// drafts in it. The API key is never written here: api_key_env names the
// environment variable that holds it, or api_key_file a file.
type Odoo struct {
	URL        string `yaml:"url"`
	DB         string `yaml:"db"`
	Login      string `yaml:"login"`
	APIKeyEnv  string `yaml:"api_key_env"`
	APIKeyFile string `yaml:"api_key_file"`
	// Protocol is jsonrpc, json2 (Odoo 19+) or auto (the default): json2
	// when the server's version is 19 or later.
	Protocol  string        `yaml:"protocol"`
	Companies []OdooCompany `yaml:"companies"`
	// PartnerKey is the res.partner field holding the partner id the other
	// systems know (default ref).
	PartnerKey  string `yaml:"partner_key"`
	VendorBills bool   `yaml:"vendor_bills"`
	PageSize    int    `yaml:"page_size"`
	// Timeout bounds one HTTP request; Retries is how many times a failed
	// read is tried again, waiting RetryDelay, then twice that, ...
	Timeout    time.Duration `yaml:"timeout"`
	Retries    *int          `yaml:"retries"`
	RetryDelay time.Duration `yaml:"retry_delay"`
	// Overlap re-reads records written this long before the watermark, for
	// transactions that committed after the previous pull read past them.
	Overlap *time.Duration `yaml:"overlap"`
	// State is the folder of the system's local mirror and watermark.
	State string `yaml:"state"`
	// Full makes every extract a full re-sync instead of an incremental pull.
	Full bool `yaml:"full"`

	// APIKey and Password are never accepted: they are declared so that a
	// secret typed into the config is refused with a clear message rather
	// than "unknown key", and their values are dropped on reading.
	APIKey   present `yaml:"api_key"`
	Password present `yaml:"password"`
}

// OdooCompany maps an Odoo company to the legal_entity its rows carry.
type OdooCompany struct {
	ID     int64  `yaml:"id"`
	Entity string `yaml:"entity"`
}

// present records that a key was set and throws its value away, so a secret
// written in the wrong place does not linger in memory or in a %+v.
type present bool

func (p *present) UnmarshalYAML(*yaml.Node) error {
	*p = true
	return nil
}

// Odoo protocols.
var OdooProtocols = []string{"auto", "jsonrpc", "json2"}

var (
	envName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	fieldName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	keyLike   = regexp.MustCompile(`^[0-9a-fA-F]{32,}$`)
)

// OdooState is the folder that holds the system's mirror and watermark:
// its odoo state:, by default odoo-state/<system> next to the snapshots
// folder.
func (c *Config) OdooState(system string) string {
	sys := c.Systems[system]
	if sys.Odoo != nil && sys.Odoo.State != "" {
		return c.Path(sys.Odoo.State)
	}
	base := c.Dir
	if c.Snapshots != "" {
		base = filepath.Dir(c.Path(c.Snapshots))
	}
	return filepath.Join(base, "odoo-state", system)
}

// OdooSystems returns the names of the systems with an odoo: connection,
// sorted.
func (c *Config) OdooSystems() []string {
	var out []string
	for _, name := range c.SystemNames() {
		if c.Systems[name].Odoo != nil {
			out = append(out, name)
		}
	}
	return out
}

// odoo checks a system's odoo: block. Errors point at the block's keys and
// never repeat a value that might be a secret.
func (v *validator) odoo(system string, o *Odoo, n *yaml.Node) {
	at := func(key string) *yaml.Node { return find(n, key) }
	for _, k := range []struct {
		set  present
		name string
	}{{o.APIKey, "api_key"}, {o.Password, "password"}} {
		if k.set {
			v.errorf(at(k.name), "system %s: odoo %s: a secret must never be written in the config file (it ends up in backups, diffs and logs); "+
				"put it in an environment variable named by api_key_env, or in a file named by api_key_file, and rotate the key if this file was shared",
				system, k.name)
		}
	}
	if u, err := url.Parse(o.URL); o.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(at("url"), "system %s: odoo url: want the server's base URL, such as https://erp.example.com", system)
	} else if u.User != nil {
		v.errorf(at("url"), "system %s: odoo url: must not carry a user or password; use login and api_key_env", system)
	}
	switch {
	case o.APIKeyEnv == "" && o.APIKeyFile == "":
		v.errorf(n, "system %s: odoo: give api_key_env (an environment variable holding the API key) or api_key_file (a file holding it)", system)
	case o.APIKeyEnv != "" && o.APIKeyFile != "":
		v.errorf(at("api_key_file"), "system %s: odoo: give api_key_env or api_key_file, not both", system)
	case o.APIKeyEnv != "" && (!envName.MatchString(o.APIKeyEnv) || keyLike.MatchString(o.APIKeyEnv)):
		v.errorf(at("api_key_env"), "system %s: odoo api_key_env must name an environment variable, such as FINRECON_ODOO_KEY; "+
			"the value given is not a variable name (if it is the key itself, rotate the key: it has been written to a file)", system)
	}
	protocol := o.Protocol
	if protocol == "" {
		protocol = "auto"
	}
	if !isOneOf(protocol, OdooProtocols) {
		v.errorf(at("protocol"), "system %s: odoo protocol %q: want auto, jsonrpc or json2", system, o.Protocol)
	}
	if protocol != "json2" {
		if o.DB == "" {
			v.errorf(n, "system %s: odoo: db is required (the Odoo database name) unless protocol is json2", system)
		}
		if o.Login == "" {
			v.errorf(n, "system %s: odoo: login is required (the integration user's login) unless protocol is json2", system)
		}
	}
	if o.PartnerKey != "" && !fieldName.MatchString(o.PartnerKey) {
		v.errorf(at("partner_key"), "system %s: odoo partner_key %q: want a res.partner field name, such as ref", system, o.PartnerKey)
	}
	if o.PageSize < 0 || o.PageSize > 10000 {
		v.errorf(at("page_size"), "system %s: odoo page_size %d: want 1 to 10000", system, o.PageSize)
	}
	if o.Timeout < 0 || o.RetryDelay < 0 || (o.Overlap != nil && *o.Overlap < 0) {
		v.errorf(n, "system %s: odoo: timeout, retry_delay and overlap cannot be negative", system)
	}
	if o.Retries != nil && (*o.Retries < 0 || *o.Retries > 10) {
		v.errorf(at("retries"), "system %s: odoo retries %d: want 0 to 10", system, *o.Retries)
	}
	v.odooCompanies(system, o.Companies, at("companies"))
}

func (v *validator) odooCompanies(system string, companies []OdooCompany, n *yaml.Node) {
	seen := map[int64]bool{}
	for _, c := range companies {
		if c.ID <= 0 {
			v.errorf(n, "system %s: odoo companies: every company needs its Odoo id (a positive number)", system)
			continue
		}
		if seen[c.ID] {
			v.errorf(n, "system %s: odoo companies: company %d is listed twice", system, c.ID)
		}
		seen[c.ID] = true
	}
}

func isOneOf(s string, set []string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}
