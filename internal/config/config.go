// Package config reads finrecon's YAML configuration: the systems to
// reconcile, the sources each one is extracted from and how their columns map
// into the canonical model, where rules, snapshots and runs live, and the
// legal entities' company currencies. Relative paths are relative to the
// config file's folder.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/strictyaml"
)

// Config is a parsed finrecon.yaml.
type Config struct {
	Rules     []string `yaml:"rules"`
	Snapshots string   `yaml:"snapshots"`
	Runs      string   `yaml:"runs"`
	FailOn    string   `yaml:"fail_on"`
	// Store is the break store: breaks' history across runs and their
	// review notes (default: breaks.duckdb in the runs folder).
	Store string `yaml:"store"`
	// SigningKey is an ed25519 private key file (finrecon keygen) every
	// run's run.json is signed with; empty: runs are not signed.
	SigningKey string            `yaml:"signing_key"`
	Entities   map[string]Entity `yaml:"entities"`
	Systems    map[string]System `yaml:"systems"`

	// File is the config's path; Dir the folder relative paths start from.
	File string `yaml:"-"`
	Dir  string `yaml:"-"`
}

// Entity is a legal entity, as named in the legal_entity column.
type Entity struct {
	// Currency is the company currency journal entries are booked in.
	Currency string `yaml:"currency"`
}

// System is one source system (billing, odoo, risk, ...).
type System struct {
	// Dir holds canonical files laid out as <dir>/<table>.<csv|jsonl|parquet|xlsx>;
	// they import with no mapping.
	Dir     string   `yaml:"dir"`
	Sources []Source `yaml:"sources"`
	// Odoo, when set, is pulled by extract into canonical files that then
	// load as the system's dir (see odoo.go).
	Odoo *Odoo `yaml:"odoo"`
}

// Source is one file mapped into one canonical table.
type Source struct {
	Table  string `yaml:"table"`
	File   string `yaml:"file"`
	Format string `yaml:"format"` // csv, jsonl, parquet, xlsx; default from the extension
	CSV    CSV    `yaml:"csv"`
	Sheet  string `yaml:"sheet"` // xlsx: default the first sheet

	// Columns maps canonical column -> source column, for renamed columns.
	Columns map[string]string `yaml:"columns"`
	// Constants fills canonical columns the source lacks.
	Constants map[string]string `yaml:"constants"`
	// Values maps source values to canonical ones, per canonical column.
	Values map[string]map[string]string `yaml:"values"`
	// DateFormat and TimestampFormat are strptime formats (%d/%m/%Y).
	DateFormat      string `yaml:"date_format"`
	TimestampFormat string `yaml:"timestamp_format"`
	// DecimalComma reads "1.234,56" as 1234.56.
	DecimalComma bool      `yaml:"decimal_comma"`
	FlipSign     *FlipSign `yaml:"flip_sign"`

	// System is filled from the enclosing system.
	System string `yaml:"-"`
	// Line is where the source is declared, for error messages.
	Line int `yaml:"-"`
}

// CSV describes a delimited file's dialect.
type CSV struct {
	Delimiter string `yaml:"delimiter"`
	Quote     string `yaml:"quote"`
	Escape    string `yaml:"escape"`
	// Header defaults to true.
	Header *bool `yaml:"header"`
}

// FlipSign negates amount columns, on every row or only where the canonical
// columns in When hold the given values (e.g. credit notes stored positive).
type FlipSign struct {
	Columns []string          `yaml:"columns"`
	When    map[string]string `yaml:"when"`
}

// Formats finrecon reads.
var Formats = []string{"csv", "jsonl", "parquet", "xlsx"}

// Dataset returns the source's dataset name.
func (s Source) Dataset() model.Dataset { return model.Dataset{System: s.System, Table: s.Table} }

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates config data read from path.
func Parse(path string, data []byte) (*Config, error) {
	c := &Config{}
	root, err := strictyaml.Decode(path, data, c)
	if err != nil {
		return nil, err
	}
	c.File, c.Dir = path, filepath.Dir(path)
	v := &validator{file: path, root: root}
	v.config(c)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return c, nil
}

// Path resolves p against the config's folder.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// AllSources expands every system's dir into sources and returns them all,
// ordered by dataset and then file so extraction is deterministic.
func (c *Config) AllSources() ([]Source, error) {
	var out []Source
	for _, name := range c.SystemNames() {
		sys := c.Systems[name]
		if sys.Odoo != nil && sys.Dir == "" {
			return nil, fmt.Errorf("config: system %s: its odoo: connection has not been pulled; finrecon extract and finrecon run pull it before extracting", name)
		}
		if sys.Dir != "" {
			found, err := discover(name, c.Path(sys.Dir))
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		}
		for _, s := range sys.Sources {
			s.File = c.Path(s.File)
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := out[i].Dataset().String(), out[j].Dataset().String(); a != b {
			return a < b
		}
		return out[i].File < out[j].File
	})
	return out, nil
}

// SystemNames returns the systems' names, sorted.
func (c *Config) SystemNames() []string {
	names := make([]string, 0, len(c.Systems))
	for n := range c.Systems {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// discover lists <dir>/<table>.<ext> files of canonical tables.
func discover(system, dir string) ([]Source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("config: system %s: %w", system, err)
	}
	var out []Source
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		ext := strings.TrimPrefix(filepath.Ext(e.Name()), ".")
		table := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if _, ok := model.LookupTable(table); !ok || !isFormat(ext) {
			continue
		}
		out = append(out, Source{System: system, Table: table, File: filepath.Join(dir, e.Name()), Format: ext})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("config: system %s: no canonical files (<table>.csv, .jsonl, .parquet or .xlsx for tables %s) in %s",
			system, strings.Join(model.TableNames(), ", "), dir)
	}
	return out, nil
}

func isFormat(f string) bool {
	for _, x := range Formats {
		if x == f {
			return true
		}
	}
	return false
}

// FormatOf returns the source's format, from Format or the file extension.
func (s Source) FormatOf() string {
	if s.Format != "" {
		return s.Format
	}
	return strings.TrimPrefix(strings.ToLower(filepath.Ext(s.File)), ".")
}

type validator struct {
	file string
	root *yaml.Node
	errs []error
}

func (v *validator) errorf(n *yaml.Node, format string, args ...any) {
	v.errs = append(v.errs, strictyaml.Errorf(v.file, n, format, args...))
}

func (v *validator) config(c *Config) {
	if len(c.Systems) == 0 {
		v.errorf(v.root, "no systems: declare at least one under systems:")
	}
	if c.FailOn != "" {
		if _, err := model.ParseSeverity(c.FailOn); err != nil {
			v.errorf(find(v.root, "fail_on"), "fail_on: %v", err)
		}
	}
	for name, e := range c.Entities {
		if _, ok := model.CurrencyDecimals(e.Currency); !ok {
			v.errorf(find(v.root, "entities", name), "entity %s: unknown currency %q (want an ISO 4217 code such as EUR)", name, e.Currency)
		}
	}
	for _, name := range c.SystemNames() {
		sys := c.Systems[name]
		sysNode := find(v.root, "systems", name)
		if !model.ValidIdent(name) {
			v.errorf(sysNode, "system %q: use lower-case letters, digits and _", name)
		}
		if sys.Dir == "" && len(sys.Sources) == 0 && sys.Odoo == nil {
			v.errorf(sysNode, "system %s: give a dir of canonical files, a list of sources or an odoo: connection", name)
		}
		if sys.Odoo != nil {
			if sys.Dir != "" {
				v.errorf(find(v.root, "systems", name, "dir"), "system %s: give dir or odoo, not both: the odoo connection writes the system's canonical files itself", name)
			}
			v.odoo(name, sys.Odoo, find(v.root, "systems", name, "odoo"))
		}
		srcNodes := find(v.root, "systems", name, "sources")
		for i := range sys.Sources {
			s := &sys.Sources[i]
			s.System = name
			n := srcNodes
			if srcNodes != nil && i < len(srcNodes.Content) {
				n = srcNodes.Content[i]
			}
			if n != nil {
				s.Line = n.Line
			}
			v.source(s, n)
		}
		c.Systems[name] = sys
	}
}

func (v *validator) source(s *Source, n *yaml.Node) {
	t, ok := model.LookupTable(s.Table)
	if !ok {
		v.errorf(field(n, "table"), "table %q is not canonical%s (tables: %s)", s.Table,
			strictyaml.Suggest(s.Table, model.TableNames()), strings.Join(model.TableNames(), ", "))
		return
	}
	if s.File == "" {
		v.errorf(n, "source %s.%s needs a file", s.System, s.Table)
	}
	if f := s.FormatOf(); !isFormat(f) {
		v.errorf(field(n, "format"), "format %q: want one of %s", f, strings.Join(Formats, ", "))
	}
	checkCanon := func(section, col string) {
		if _, ok := t.Column(col); !ok {
			v.errorf(find(n, section, col), "%s: %q is not a column of %s%s", section, col, s.Table,
				strictyaml.Suggest(col, t.ColumnNames()))
		}
	}
	for col := range s.Columns {
		checkCanon("columns", col)
	}
	for col := range s.Constants {
		checkCanon("constants", col)
	}
	for col := range s.Values {
		checkCanon("values", col)
	}
	if fs := s.FlipSign; fs != nil {
		for _, col := range fs.Columns {
			if c, ok := t.Column(col); !ok || c.Kind != model.Amount {
				v.errorf(find(n, "flip_sign", "columns"), "flip_sign: %q is not an amount column of %s", col, s.Table)
			}
		}
		for col := range fs.When {
			if _, ok := t.Column(col); !ok {
				v.errorf(find(n, "flip_sign", "when"), "flip_sign when: %q is not a column of %s", col, s.Table)
			}
		}
	}
	for _, ch := range []struct{ name, val string }{{"delimiter", s.CSV.Delimiter}, {"quote", s.CSV.Quote}, {"escape", s.CSV.Escape}} {
		if len(ch.val) > 1 {
			v.errorf(find(n, "csv", ch.name), "csv %s must be a single character", ch.name)
		}
	}
}

// find walks mapping keys from n and returns the deepest node found.
func find(n *yaml.Node, path ...string) *yaml.Node {
	for _, p := range path {
		c := field(n, p)
		if c == nil {
			return n
		}
		n = c
	}
	return n
}

// field returns the key node of name in mapping n (the key, so errors point
// at the name a user typed), or nil.
func field(n *yaml.Node, name string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			if i+1 < len(n.Content) && (n.Content[i+1].Kind == yaml.MappingNode || n.Content[i+1].Kind == yaml.SequenceNode) {
				return n.Content[i+1]
			}
			return n.Content[i]
		}
	}
	return nil
}
