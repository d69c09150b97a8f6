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
		Cmds:          map[string]func(ts *testscript.TestScript, neg bool, args []string){"corrupt": corrupt, "latest": latest, "exits": exits, "promparse": promparse},
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
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK", "REPO"} {
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
