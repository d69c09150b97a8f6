package match

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/extract"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
)

var update = flag.Bool("update", false, "rewrite the want files of the engine cases")

// TestEngineCases runs every case in testdata/cases/<name>/: data/<system>/
// <table>.csv (canonical columns), rule.yaml, and the expected outcome in
// want.txt: one line per match ("match <pass> <left_id> <right_id>
// <status> <score>") and per break ("break <type> <side> <pass> <left_id>
// <right_id> <difference>", plus the group for breaks without ids); and in
// details.txt each break's words: type, where to fix it, detail.
func TestEngineCases(t *testing.T) {
	cases, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no engine cases: %v", err)
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			outcome, details := runCase(t, dir)
			for name, got := range map[string]string{"want.txt": outcome, "details.txt": details} {
				file := filepath.Join(dir, name)
				if *update {
					os.WriteFile(file, []byte(got), 0o644)
				}
				want, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func runCase(t *testing.T, dir string) (outcome, details string) {
	t.Helper()
	ctx := context.Background()
	// The case's finrecon.yaml is what `finrecon run --config` reads for the
	// examples of docs/rules.md; the test loads it so that it cannot rot.
	// Snapshots and runs still go to a temporary folder.
	cfg, err := config.Load(filepath.Join(dir, "finrecon.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != 1 || filepath.Clean(cfg.Path(cfg.Rules[0])) != filepath.Join(dir, "rule.yaml") {
		t.Fatalf("%s: want rules: [rule.yaml], got %v", cfg.File, cfg.Rules)
	}
	for name, got := range map[string]string{"snapshots": cfg.Snapshots, "runs": cfg.Runs} {
		want := filepath.Join("..", "..", "out", "examples", filepath.Base(dir), name)
		if filepath.Clean(cfg.Path(got)) != want {
			t.Errorf("%s: %s: %q does not resolve to the repo's %s", cfg.File, name, got, filepath.ToSlash(filepath.Join("out", "examples", filepath.Base(dir), name)))
		}
	}
	systems, _ := filepath.Glob(filepath.Join(dir, "data", "*"))
	var have, want []string
	for _, s := range systems {
		want = append(want, filepath.Base(s)+" "+s)
	}
	for _, name := range cfg.SystemNames() {
		have = append(have, name+" "+filepath.Clean(cfg.Path(cfg.Systems[name].Dir)))
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Fatalf("%s: systems do not match the folders in data/ (-data +config):\n%s", cfg.File, diff)
	}
	res := extractAndMatch(t, cfg, cfg.Path(cfg.Rules[0]), "2026-11-30", 0)
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var lines []string
	query := func(q string) {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, s)
		}
	}
	matches, breaks := filepath.Join(res.Dir, "matches.parquet"), filepath.Join(res.Dir, "breaks.parquet")
	query("SELECT concat_ws(' ', 'match', pass, left_id, right_id, status, CAST(score AS VARCHAR)) FROM read_parquet('" + matches + "') ORDER BY pass, left_id, right_id")
	query(`SELECT concat_ws(' ', 'break', break_type, side, coalesce(pass, '-'), coalesce(left_id, '-'), coalesce(right_id, '-'), coalesce(CAST(difference AS VARCHAR), '-'),
			CASE WHEN left_id IS NULL AND right_id IS NULL THEN concat_ws('/', legal_entity, partner_id, currency) END)
		FROM read_parquet('` + breaks + `') ORDER BY break_type, side, left_id, right_id, legal_entity, partner_id, currency`)
	outcome = strings.Join(lines, "\n") + "\n"
	lines = nil
	query(`SELECT concat_ws(' ', break_type, coalesce(left_id, '-'), coalesce(right_id, '-'), 'fix_in=' || coalesce(fix_in, '-'), '|', detail)
		FROM read_parquet('` + breaks + `') ORDER BY break_type, side, left_id, right_id, legal_entity, partner_id, currency`)
	return outcome, strings.Join(lines, "\n") + "\n"
}

// extractAndMatch snapshots cfg's sources and matches them with the rules at
// rulesPath, failing the test on an error or an unexpected number of
// rejected rows.
func extractAndMatch(t *testing.T, cfg *config.Config, rulesPath, asOf string, wantRejects int64) *Result {
	t.Helper()
	ctx := context.Background()
	work := t.TempDir()
	snap, err := extract.Run(ctx, extract.Options{Config: cfg, OutDir: filepath.Join(work, "snaps"), AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if n := snap.Manifest.Rejects.Rows; n != wantRejects {
		t.Fatalf("the test data has %d rejected rows, want %d", n, wantRejects)
	}
	set, err := rules.Load(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, Options{SnapshotDir: snap.Dir, Rules: set, RunsDir: filepath.Join(work, "runs"), AsOf: asOf, FailOn: model.High})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
