package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

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
		Cmds:          map[string]func(ts *testscript.TestScript, neg bool, args []string){"corrupt": corrupt, "latest": latest, "exits": exits},
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

// exits CODE finrecon ARGS... runs finrecon in-process and fails unless it
// exits with CODE, so scripts pin DESIGN §8's exit codes, not just "failed".
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || args[1] != "finrecon" {
		ts.Fatalf("usage: exits CODE finrecon ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	wd, err := os.Getwd()
	ts.Check(err)
	ts.Check(os.Chdir(ts.Getenv("WORK")))
	defer os.Chdir(wd)
	if got := main1(args[2:], ts.Stdout(), ts.Stderr()); got != want {
		ts.Fatalf("finrecon exited %d, want %d", got, want)
	}
}
