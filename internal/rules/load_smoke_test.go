package rules

import "testing"

func TestShippedRulesLoad(t *testing.T) {
	set, err := Load("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) < 2 {
		t.Fatalf("got %d rules", len(set.Rules))
	}
}
