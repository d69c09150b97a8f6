package match

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// TestDemoFindsExactlyThePlantedBreaks checks the shipped rules on the demo
// fixtures against the generator's truth: every planted break is found
// (recall) and nothing else is (precision), traps included.
func TestDemoFindsExactlyThePlantedBreaks(t *testing.T) {
	ctx := context.Background()
	var truth struct {
		Breaks []struct {
			Recon     string   `json:"recon"`
			BreakType string   `json:"break_type"`
			LeftIDs   []string `json:"left_ids"`
			RightIDs  []string `json:"right_ids"`
		} `json:"breaks"`
	}
	data, err := os.ReadFile("../../fixtures/demo/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &truth); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, b := range truth.Breaks {
		want = append(want, strings.Join([]string{b.Recon, b.BreakType, strings.Join(b.LeftIDs, "|"), strings.Join(b.RightIDs, "|")}, " "))
	}
	sort.Strings(want)

	cfg, err := config.Load("../../fixtures/demo/finrecon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res := extractAndMatch(t, cfg, "../../rules", "2026-12-07", 4) // 4 bad rows are planted
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	err = run.EachBreak(ctx, db, res.Dir, "", func(b *run.Break) error {
		got = append(got, strings.Join([]string{b.Recon, b.Type, b.LeftID, b.RightID}, " "))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("breaks (-planted +found):\n%s", diff)
	}
}
