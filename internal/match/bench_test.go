package match

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/extract"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
)

// BenchmarkMatchDemo measures a whole match of the demo snapshot with the
// shipped rules: the fixed overhead a nightly run pays.
func BenchmarkMatchDemo(b *testing.B) {
	ctx := context.Background()
	cfg, err := config.Load("../../fixtures/demo/finrecon.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	snap, err := extract.Run(ctx, extract.Options{Config: cfg, OutDir: filepath.Join(dir, "snaps"), AsOf: "2026-11-30"})
	if err != nil {
		b.Fatal(err)
	}
	set, err := rules.Load("../../rules")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := Run(ctx, Options{SnapshotDir: snap.Dir, Rules: set, RunsDir: filepath.Join(dir, fmt.Sprint("runs", i)), AsOf: "2026-11-30", FailOn: model.High})
		if err != nil {
			b.Fatal(err)
		}
	}
}
