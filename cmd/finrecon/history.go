package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/match"
	"github.com/finrecon/finrecon/internal/store"
)

// defaultStore is the break store's file in the runs folder.
const defaultStore = "breaks.duckdb"

// matchWithHistory runs match from the history the break store holds for
// the as-of day, then records the run in the store. The history file goes
// into the run folder (match copies it), which makes it an input a replay
// reads back instead of the store.
func matchWithHistory(ctx context.Context, storePath string, mo match.Options) (*match.Result, *store.Changes, error) {
	st, err := store.Open(ctx, storePath)
	if err != nil {
		return nil, nil, fail.SourceErr(err)
	}
	defer st.Close()
	tmp, err := os.MkdirTemp("", "finrecon-history-")
	if err != nil {
		return nil, nil, fail.SourceErr(err)
	}
	defer os.RemoveAll(tmp)
	day, _ := time.Parse(time.DateOnly, mo.AsOf)
	mo.History = filepath.Join(tmp, "history.parquet")
	if _, err := st.ExportHistory(ctx, day, mo.History); err != nil {
		return nil, nil, fail.SourceErr(err)
	}
	res, err := match.Run(ctx, mo)
	if err != nil {
		return nil, nil, err
	}
	changes, err := st.Record(ctx, res.Dir, res.Summary)
	if err != nil {
		return nil, nil, fail.SourceErr(fmt.Errorf("run %s was written, but recording it in the break store failed: %w", res.Summary.RunID, err))
	}
	return res, changes, nil
}
