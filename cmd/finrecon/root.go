package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/fail"
)

// Exit codes of DESIGN §8: cron jobs branch on them.
const (
	exitOK      = 0 // ran; no breaks at or above the failing severity
	exitBreaks  = 1 // ran; breaks at or above the failing severity
	exitUsage   = 2 // bad usage, configuration or rules
	exitFailure = 3 // a source or system failed
)

const exitCodesHelp = `Exit codes:
  0  ran, and found no breaks at or above the failing severity
  1  ran, and found breaks at or above the failing severity
  2  bad usage, configuration or rules
  3  a source or system failed (or finrecon itself did)`

// errFindings reports that a command ran and found what it looks for
// (failing breaks, a changed snapshot): exit 1, and no error message, since
// the command already printed its findings.
var errFindings = errors.New("findings")

// usageError marks command-line mistakes.
type usageError struct{ error }

// exitCode maps an error to its exit code; the only place that does.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errFindings):
		return exitBreaks
	case errors.As(err, &ue):
		return exitUsage
	}
	switch fail.KindOf(err) {
	case fail.Config:
		return exitUsage
	default:
		return exitFailure
	}
}

// globals are the flags every command has.
type globals struct {
	logLevel  string
	logFormat string
	stderr    io.Writer
}

func (g *globals) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if g.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(g.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(g.stderr, opts))
}

// duckFlags are the DuckDB resource flags of the commands that run SQL.
type duckFlags struct {
	threads     int
	memoryLimit string
	tempDir     string
}

func (d *duckFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&d.threads, "threads", 0, "DuckDB threads (default: all cores)")
	cmd.Flags().Var((*memorySize)(&d.memoryLimit), "memory-limit", "DuckDB memory limit, e.g. 2GB (it spills to --temp-dir past it)")
	cmd.Flags().StringVar(&d.tempDir, "temp-dir", "", "folder DuckDB spills to when over --memory-limit")
}

// memorySize is a --memory-limit value, checked when the flag is parsed
// (a usage error, exit 2) rather than when DuckDB is told, mid-command.
type memorySize string

var memorySizeRE = regexp.MustCompile(`(?i)^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)$`)

func (m *memorySize) String() string { return string(*m) }
func (m *memorySize) Type() string   { return "size" }
func (m *memorySize) Set(s string) error {
	if !memorySizeRE.MatchString(strings.TrimSpace(s)) {
		return fmt.Errorf("want a size such as 2GB, 512MB or 1.5GiB")
	}
	*m = memorySize(strings.TrimSpace(s))
	return nil
}

func (d *duckFlags) options() duck.Options {
	return duck.Options{Threads: d.threads, MemoryLimit: d.memoryLimit, TempDir: d.tempDir}
}

// asOf validates --as-of, defaulting to today (UTC): the one place a run
// reads the clock, so a replay passes the recorded date instead.
func asOf(s string) (string, error) {
	if s == "" {
		return time.Now().UTC().Format(time.DateOnly), nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", usageError{fmt.Errorf("--as-of %q: want a date as YYYY-MM-DD", s)}
	}
	return s, nil
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stderr: stderr}
	root := &cobra.Command{
		Use:   "finrecon",
		Short: "Reconcile billing, risk and Odoo data, nightly and at month-end",
		Long: `finrecon extracts invoices, payments, journal lines and exposures from each
system into an immutable snapshot, matches them with declarative rules, and
writes break reports (CSV, Excel) and balanced adjustment batches for Odoo.

` + exitCodesHelp,
		Example:       `  finrecon run --config fixtures/demo/finrecon.yaml --as-of 2026-11-30`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newExtractCmd(g), newSnapshotCmd(g), newMatchCmd(g), newReportCmd(g),
		newAdjustCmd(g), newPostCmd(g), newRunCmd(g), newRulesCmd(g), newVersionCmd(),
		newReplayCmd(g), newVerifyCmd(g), newKeygenCmd(), newReviewCmd(g),
	)
	return root
}

// main1 runs finrecon with args and returns the exit code; tests call it.
func main1(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil && !errors.Is(err, errFindings) {
		msg := err.Error()
		if strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
			strings.Contains(msg, "arg(s)") || strings.HasPrefix(msg, "required flag") {
			err = usageError{err}
			msg += "\nRun 'finrecon --help' for usage."
		}
		fmt.Fprintln(stderr, "finrecon: "+msg)
	}
	return exitCode(err)
}
