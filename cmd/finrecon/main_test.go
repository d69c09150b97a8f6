package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/odoo/odootest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"finrecon": func() { os.Exit(main1(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI end to end: testdata/script/*.txtar. Each script
// gets the repository's fixtures and rules under $WORK/repo.
func TestScripts(t *testing.T) {
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", root)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"corrupt": corrupt, "latest": latest, "exits": exits, "promparse": promparse,
			"xlsxedit": xlsxedit, "xlsxget": xlsxget, "fakeodoo": fakeodoo, "subst": subst},
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
	})
}

// corrupt FILE flips one byte in the middle of FILE, as a disk error or a
// hand edit would.
func corrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: corrupt FILE")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	data[len(data)/2] ^= 0xff
	os.Chmod(path, 0o644)
	ts.Check(os.WriteFile(path, data, 0o644))
}

// latest VAR DIR sets $VAR to the folder DIR/LATEST names (the newest
// snapshot or run), whose id a script cannot know in advance.
func latest(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: latest VAR DIR")
	}
	dir := ts.MkAbs(args[1])
	id, err := os.ReadFile(filepath.Join(dir, "LATEST"))
	ts.Check(err)
	ts.Setenv(args[0], filepath.Join(dir, strings.TrimSpace(string(id))))
}

// exits CODE finrecon ARGS... runs finrecon in the script's folder and fails
// unless it exits with CODE, so scripts pin DESIGN §8's exit codes, not just
// "failed". It runs a subprocess: scripts run in parallel, and a chdir in
// this process would pull the folder from under the others.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || args[1] != "finrecon" {
		ts.Fatalf("usage: exits CODE finrecon ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	var bin string
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, "finrecon"); fileExists(p) {
			bin = p
			break
		}
	}
	if bin == "" {
		ts.Fatalf("finrecon not found on the script's PATH")
	}
	cmd := exec.Command(bin, args[2:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = scriptEnv(ts)
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	got := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("run finrecon: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("finrecon exited %d, want %d", got, want)
	}
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// scriptEnv is the environment testscript gives its exec commands.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK", "REPO", "FINRECON_ODOO_KEY"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	// testscript.Main runs the registered command when the binary is
	// started under this name in the environment it prepares.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GO") || strings.HasPrefix(kv, "TESTSCRIPT") {
			env = append(env, kv)
		}
	}
	return env
}

// promparse FILE parses FILE with the Prometheus text parser and prints
// each sample as "name{labels} value", sorted, for stdout checks.
func promparse(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: promparse FILE")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		ts.Fatalf("%s does not parse as Prometheus text: %v", args[0], err)
	}
	var lines []string
	for name, fam := range families {
		for _, m := range fam.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			lines = append(lines, fmt.Sprintf("%s{%s} %v", name, strings.Join(labels, ","), v))
		}
	}
	sort.Strings(lines)
	fmt.Fprintln(ts.Stdout(), strings.Join(lines, "\n"))
}

// xlsxedit FILE SHEET BREAK_ID HEADER=VALUE... edits the row of BREAK_ID on
// SHEET (found in the column headed break_id) as an accountant would in
// Excel, addressing columns by their header. xlsxget FILE SHEET BREAK_ID
// HEADER prints a cell.
func xlsxedit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 {
		ts.Fatalf("usage: xlsxedit FILE SHEET BREAK_ID HEADER=VALUE...")
	}
	path := ts.MkAbs(args[0])
	f, err := excelize.OpenFile(path)
	ts.Check(err)
	defer f.Close()
	for _, kv := range args[3:] {
		header, value, ok := strings.Cut(kv, "=")
		if !ok {
			ts.Fatalf("xlsxedit: %q is not HEADER=VALUE", kv)
		}
		ts.Check(f.SetCellStr(args[1], xlsxCell(ts, f, args[1], args[2], header), value))
	}
	ts.Check(f.Save())
}

func xlsxget(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: xlsxget FILE SHEET BREAK_ID HEADER")
	}
	f, err := excelize.OpenFile(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	v, err := f.GetCellValue(args[1], xlsxCell(ts, f, args[1], args[2], args[3]))
	ts.Check(err)
	fmt.Fprintln(ts.Stdout(), v)
}

// xlsxCell finds the cell of header's column in the row of breakID.
func xlsxCell(ts *testscript.TestScript, f *excelize.File, sheet, breakID, header string) string {
	rows, err := f.GetRows(sheet)
	ts.Check(err)
	if len(rows) == 0 {
		ts.Fatalf("sheet %s is empty", sheet)
	}
	col, idCol := -1, -1
	for i, h := range rows[0] {
		switch h {
		case header:
			col = i
		case "break_id":
			idCol = i
		}
	}
	if col < 0 || idCol < 0 {
		ts.Fatalf("sheet %s: no column headed %q or break_id in %q", sheet, header, rows[0])
	}
	for r, row := range rows {
		if idCol < len(row) && row[idCol] == breakID {
			name, err := excelize.CoordinatesToCellName(col+1, r+1)
			ts.Check(err)
			return name
		}
	}
	ts.Fatalf("sheet %s: no row with break_id %s", sheet, breakID)
	return ""
}

// fakeodoo VERSION starts an Odoo that answers as the recorded VERSION
// (17.0, 18.0 or 19.0; see internal/odoo/odootest) for the rest of the
// script, and sets $ODOO_URL, $ODOO_DB and $FINRECON_ODOO_KEY (the key of
// its integration user). The finrecon subprocesses reach it over HTTP.
func fakeodoo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fakeodoo VERSION")
	}
	s, err := odootest.Start(filepath.Join(ts.Getenv("REPO"), "internal", "odoo", "testdata"), args[0])
	ts.Check(err)
	ts.Defer(s.Close)
	ts.Setenv("ODOO_URL", s.URL)
	ts.Setenv("ODOO_DB", s.DB)
	ts.Setenv("FINRECON_ODOO_KEY", odootest.AdminKey)
}

// subst FILE replaces $VAR and ${VAR} in FILE with the script's
// variables, for config files that need a value known only at run time
// (such as $ODOO_URL).
func subst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: subst FILE")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	ts.Check(os.WriteFile(path, []byte(os.Expand(string(data), ts.Getenv)), 0o644))
}
