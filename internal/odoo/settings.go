package odoo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/finrecon/finrecon/internal/config"
)

// Defaults for what the config leaves out.
const (
	DefaultPageSize   = 500
	DefaultTimeout    = 60 * time.Second
	DefaultRetries    = 4
	DefaultRetryDelay = 500 * time.Millisecond
	DefaultOverlap    = 10 * time.Minute
	DefaultPartnerKey = "ref"
)

// Settings is everything the package needs to talk to one Odoo system,
// resolved from the config: defaults filled in, the API key read.
type Settings struct {
	// System is the config's name for the system; every error names it.
	System string
	URL    string
	DB     string
	Login  string
	Key    Secret
	// KeySource says where the key came from ("$FINRECON_ODOO_KEY", "the
	// file /run/secrets/odoo"), for messages that must not show the key.
	KeySource string
	// Protocol is auto, jsonrpc or json2.
	Protocol string
	// Companies restrict every call to these Odoo companies and give their
	// legal_entity; empty means the integration user's companies, with the
	// company's name as legal_entity.
	Companies   []Company
	PartnerKey  string
	VendorBills bool
	PageSize    int
	Timeout     time.Duration
	Retries     int
	RetryDelay  time.Duration
	Overlap     time.Duration
	// StateDir holds the mirror and the watermark.
	StateDir string
	Full     bool

	// HTTPClient, when set, replaces the default client (tests).
	HTTPClient *http.Client
	// sleep waits between retries; tests replace it to record the waits.
	sleep func(context.Context, time.Duration) error
}

// Company is an Odoo company and the legal entity it books for.
type Company struct {
	ID     int64
	Entity string
}

// ErrConfig marks problems with the odoo: block or the key it points at;
// callers map it to a configuration error.
var ErrConfig = errors.New("odoo configuration")

// FromConfig resolves system's odoo: block of cfg, reading the API key from
// the environment variable or file it names.
func FromConfig(cfg *config.Config, system string) (Settings, error) {
	sys, ok := cfg.Systems[system]
	if !ok || sys.Odoo == nil {
		return Settings{}, fmt.Errorf("%w: system %q has no odoo: connection (systems with one: %s)",
			ErrConfig, system, strings.Join(cfg.OdooSystems(), ", "))
	}
	o := sys.Odoo
	s := Settings{
		System: system, URL: strings.TrimRight(o.URL, "/"), DB: o.DB, Login: o.Login,
		Protocol: o.Protocol, PartnerKey: o.PartnerKey, VendorBills: o.VendorBills,
		PageSize: o.PageSize, Timeout: o.Timeout, RetryDelay: o.RetryDelay,
		StateDir: cfg.OdooState(system), Full: o.Full, Retries: DefaultRetries, Overlap: DefaultOverlap,
	}
	if o.Retries != nil {
		s.Retries = *o.Retries
	}
	if o.Overlap != nil {
		s.Overlap = *o.Overlap
	}
	for _, c := range o.Companies {
		s.Companies = append(s.Companies, Company{ID: c.ID, Entity: c.Entity})
	}
	key, source, err := readKey(o.APIKeyEnv, cfg.Path(o.APIKeyFile))
	if err != nil {
		return Settings{}, fmt.Errorf("%w: system %s: %v", ErrConfig, system, err)
	}
	s.Key, s.KeySource = key, source
	return s.withDefaults(), nil
}

// readKey reads the API key from the environment variable env or the file
// path, whichever is set. Errors name the variable or file, never a value.
func readKey(env, path string) (Secret, string, error) {
	if env != "" {
		source := "$" + env
		v, ok := os.LookupEnv(env)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return Secret{}, source, fmt.Errorf("the API key's environment variable %s is not set or empty (api_key_env)", env)
		}
		return NewSecret(v), source, nil
	}
	source := "the file " + path
	data, err := os.ReadFile(path)
	if err != nil {
		return Secret{}, source, fmt.Errorf("the API key file (api_key_file): %w", err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" || strings.ContainsAny(v, "\n\r") {
		return Secret{}, source, fmt.Errorf("the API key file %s must hold the key alone, on one line", path)
	}
	return NewSecret(v), source, nil
}

// withDefaults fills in what is unset.
func (s Settings) withDefaults() Settings {
	if s.Protocol == "" {
		s.Protocol = "auto"
	}
	if s.PartnerKey == "" {
		s.PartnerKey = DefaultPartnerKey
	}
	if s.PageSize <= 0 {
		s.PageSize = DefaultPageSize
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.RetryDelay <= 0 {
		s.RetryDelay = DefaultRetryDelay
	}
	if s.KeySource == "" {
		s.KeySource = "the configured API key"
	}
	return s
}

// companyIDs lists the configured company ids.
func (s Settings) companyIDs() []int64 {
	ids := make([]int64, len(s.Companies))
	for i, c := range s.Companies {
		ids[i] = c.ID
	}
	return ids
}
