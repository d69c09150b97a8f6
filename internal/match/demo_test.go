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

// demoAsOf is the demo's as-of: the November 2026 month-end close (the
// extracts were taken on 2026-12-07).
const demoAsOf = "2026-11-30"

// TestDemoFindsExactlyThePlantedBreaks checks the shipped rules on the demo
// fixtures against the generator's truth: every planted break is found
// (recall) and nothing else is (precision), traps included. A break is
// identified by recon, type, left ids and right ids, and, for breaks
// without ids (proofs and limits), its group: legal_entity/partner_id/currency.
func TestDemoFindsExactlyThePlantedBreaks(t *testing.T) {
	ctx := context.Background()
	var truth struct {
		AsOf   string `json:"as_of"`
		Breaks []struct {
			Recon     string   `json:"recon"`
			BreakType string   `json:"break_type"`
			LeftIDs   []string `json:"left_ids"`
			RightIDs  []string `json:"right_ids"`
			Group     string   `json:"group"`
		} `json:"breaks"`
	}
	data, err := os.ReadFile("../../fixtures/demo/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &truth); err != nil {
		t.Fatal(err)
	}
	if truth.AsOf != demoAsOf {
		t.Fatalf("expected.json is the truth as of %s, the test runs as of %s", truth.AsOf, demoAsOf)
	}
	key := func(recon, typ, left, right, group string) string {
		return strings.Join([]string{recon, typ, left, right, group}, " ")
	}
	var want []string
	for _, b := range truth.Breaks {
		want = append(want, key(b.Recon, b.BreakType, strings.Join(b.LeftIDs, "|"), strings.Join(b.RightIDs, "|"), b.Group))
	}
	sort.Strings(want)

	cfg, err := config.Load("../../fixtures/demo/finrecon.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res := extractAndMatch(t, cfg, "../../rules", demoAsOf, 4) // 4 bad rows are planted
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	err = run.EachBreak(ctx, db, res.Dir, "", func(b *run.Break) error {
		group := ""
		if b.LeftID == "" && b.RightID == "" {
			group = strings.Join([]string{b.LegalEntity, b.PartnerID, b.Currency}, "/")
		}
		got = append(got, key(b.Recon, b.Type, b.LeftID, b.RightID, group))
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
