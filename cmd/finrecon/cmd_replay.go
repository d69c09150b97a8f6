package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/match"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/rules"
	"github.com/finrecon/finrecon/internal/run"
	"github.com/finrecon/finrecon/internal/snapshot"
	"github.com/finrecon/finrecon/internal/version"
)

type replayOptions struct {
	snapshot string
	config   string
	duck     duckFlags
}

func newReplayCmd(g *globals) *cobra.Command {
	opts := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay RUN_DIR",
		Short: "Re-run a past run from what it recorded and say whether the outputs are identical",
		Long: `Replay re-runs the match of a past run from what its folder recorded: the
snapshot it names (by id), its copy of the rules, its as-of, its failing
severity and the break history it started from (history.parquet). It writes
into a temporary folder, compares every output run.json lists byte for byte,
and says identical or names the first file that differs. It changes nothing:
not the runs folder, not the break store.

The snapshot is looked up by id in --snapshot (a snapshot folder or a
snapshots folder), else in the config's snapshots:, else in the snapshots
folder next to the runs folder.

Exit code 0: identical; 1: a file differs; 2 or 3: replay could not run.`,
		Example: `  finrecon replay out/demo/runs/r-20261130-d79a6e38a313
  finrecon replay /archive/runs/r-20260630-0a1b2c3d4e5f --snapshot /archive/snapshots`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return replay(cmd, g, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.snapshot, "snapshot", "", "snapshot folder, or a snapshots folder holding the run's snapshot")
	cmd.Flags().StringVar(&opts.config, "config", "", "config file (its snapshots: is searched)")
	opts.duck.add(cmd)
	return cmd
}

func replay(cmd *cobra.Command, g *globals, opts *replayOptions, ref string) error {
	dir, err := run.Resolve(ref)
	if err != nil {
		return fail.ConfigErr(err)
	}
	m, err := run.ReadManifest(dir)
	if err != nil {
		return fail.ConfigErr(err)
	}
	w := cmd.OutOrStdout()
	if m.ToolVersion != version.Version {
		fmt.Fprintf(w, "note: run %s was written by finrecon %s, this is %s: a difference may come from the version\n", m.RunID, m.ToolVersion, version.Version)
	}
	snapDir, err := findSnapshot(opts, dir, m.SnapshotID)
	if err != nil {
		return err
	}
	set, err := rules.Load(filepath.Join(dir, run.RulesDir))
	if err != nil {
		return fail.ConfigErr(fmt.Errorf("replay %s: its rules copy: %w", m.RunID, err))
	}
	sev, err := model.ParseSeverity(m.FailOn)
	if err != nil {
		return fail.ConfigErr(fmt.Errorf("replay %s: run.json fail_on: %w", m.RunID, err))
	}
	tmp, err := os.MkdirTemp("", "finrecon-replay-")
	if err != nil {
		return fail.SourceErr(err)
	}
	defer os.RemoveAll(tmp)
	mo := match.Options{SnapshotDir: snapDir, Rules: set, RunsDir: tmp, AsOf: m.AsOf, FailOn: sev, Duck: opts.duck.options(), Log: g.logger()}
	if m.History != nil {
		mo.History = filepath.Join(dir, m.History.File)
	}
	res, err := match.Run(cmd.Context(), mo)
	if err != nil {
		return err
	}
	diff, err := firstDifference(dir, res.Dir, m)
	if err != nil {
		return fail.SourceErr(err)
	}
	if diff != "" {
		fmt.Fprintf(w, "replay of run %s: DIFFERS: %s\n", m.RunID, diff)
		return errFindings
	}
	fmt.Fprintf(w, "replay of run %s: identical (%d outputs and run.json, from snapshot %s, as of %s)\n", m.RunID, len(m.Outputs), m.SnapshotID, m.AsOf)
	return nil
}

// findSnapshot looks the run's snapshot up by id.
func findSnapshot(opts *replayOptions, runDir, id string) (string, error) {
	var places []string
	if opts.snapshot != "" {
		places = append(places, opts.snapshot, filepath.Join(opts.snapshot, id))
	}
	if opts.config != "" {
		cfg, err := loadConfig(opts.config)
		if err != nil {
			return "", err
		}
		places = append(places, filepath.Join(cfg.Path(cfg.Snapshots), id))
	}
	places = append(places, filepath.Join(runDir, "..", "..", "snapshots", id))
	for _, p := range places {
		snap, err := snapshot.Open(p)
		if err == nil && snap.ID == id {
			return p, nil
		}
	}
	return "", fail.ConfigErr(fmt.Errorf("replay: snapshot %s not found (looked in %v): pass --snapshot with the folder that holds it", id, places))
}

// firstDifference compares the replayed run with the recorded one: every
// output byte for byte, then run.json apart from the evidence link, which
// depends on the runs folder a run is written into.
func firstDifference(recorded, replayed string, m *run.Manifest) (string, error) {
	for _, f := range m.Outputs {
		a, err := os.ReadFile(filepath.Join(recorded, f.File))
		if err != nil {
			return f.File + ": missing from the recorded run", nil
		}
		b, err := os.ReadFile(filepath.Join(replayed, f.File))
		if err != nil {
			return f.File + ": not produced by the replay", nil
		}
		if !bytes.Equal(a, b) {
			return f.File + ": " + whereDiffers(a, b), nil
		}
	}
	want, err := unlinked(filepath.Join(recorded, run.ManifestJSON))
	if err != nil {
		return "", err
	}
	got, err := unlinked(filepath.Join(replayed, run.ManifestJSON))
	if err != nil {
		return "", err
	}
	if !bytes.Equal(want, got) {
		return run.ManifestJSON + ": " + whereDiffers(want, got), nil
	}
	return "", nil
}

// unlinked reads run.json without its evidence link.
func unlinked(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m run.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.PreviousRun, m.PreviousManifestSHA256 = "", ""
	return json.MarshalIndent(m, "", "  ")
}

// whereDiffers names the first line that differs, for text files, or the
// first byte.
func whereDiffers(a, b []byte) string {
	line := 1
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference at byte %d (line %d)", i+1, line)
		}
		if a[i] == '\n' {
			line++
		}
	}
	return fmt.Sprintf("one is a prefix of the other (%d vs %d bytes)", len(a), len(b))
}
