package odoo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/finrecon/finrecon/internal/config"
)

func loadConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "finrecon.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestFromConfigReadsTheKey(t *testing.T) {
	t.Setenv("FINRECON_TEST_KEY", "  "+leakyKey+"\n")
	cfg := loadConfig(t, `snapshots: out/snaps
systems:
  erp:
    odoo: {url: 'https://erp.example.com/', db: prod, login: bot, api_key_env: FINRECON_TEST_KEY, companies: [{id: 3, entity: FR01}]}
`)
	s, err := FromConfig(cfg, "erp")
	if err != nil {
		t.Fatal(err)
	}
	if s.Key.Reveal() != leakyKey || s.KeySource != "$FINRECON_TEST_KEY" || s.URL != "https://erp.example.com" {
		t.Errorf("settings %+v", s)
	}
	if s.PageSize != DefaultPageSize || s.Timeout != DefaultTimeout || s.Retries != DefaultRetries || s.Overlap != DefaultOverlap ||
		s.PartnerKey != "ref" || s.Protocol != "auto" || s.RetryDelay != 500*time.Millisecond {
		t.Errorf("defaults not applied: %+v", s)
	}
	if want := filepath.Join(cfg.Dir, "out", "odoo-state", "erp"); s.StateDir != want {
		t.Errorf("state %s, want %s", s.StateDir, want)
	}
}

func TestFromConfigKeyFile(t *testing.T) {
	cfg := loadConfig(t, "systems:\n  odoo:\n    odoo: {url: 'https://e.x', db: p, login: b, api_key_file: key.txt}\n")
	path := filepath.Join(cfg.Dir, "key.txt")
	for _, tt := range []struct{ content, want string }{
		{leakyKey + "\n", ""},
		{"", "must hold the key alone"},
		{leakyKey + "\nsecond line\n", "must hold the key alone"},
	} {
		os.WriteFile(path, []byte(tt.content), 0o600)
		s, err := FromConfig(cfg, "odoo")
		if tt.want == "" {
			if err != nil || s.Key.Reveal() != leakyKey || !strings.Contains(s.KeySource, "key.txt") {
				t.Errorf("key file: %v %+v", err, s)
			}
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), leakyKey) {
			t.Errorf("got %v, want %q without the key", err, tt.want)
		}
	}
}

func TestFromConfigMissingKey(t *testing.T) {
	cfg := loadConfig(t, "systems:\n  odoo:\n    odoo: {url: 'https://e.x', db: p, login: b, api_key_env: FINRECON_UNSET_KEY}\n")
	_, err := FromConfig(cfg, "odoo")
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "FINRECON_UNSET_KEY is not set") {
		t.Errorf("got %v", err)
	}
	if _, err := FromConfig(cfg, "billing"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "systems with one: odoo") {
		t.Errorf("unknown system: %v", err)
	}
}
