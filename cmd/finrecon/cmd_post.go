package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/finrecon/finrecon/internal/config"
	"github.com/finrecon/finrecon/internal/fail"
	"github.com/finrecon/finrecon/internal/model"
	"github.com/finrecon/finrecon/internal/odoo"
)

type postOptions struct {
	config string
	system string
	apply  bool
}

func newPostCmd(g *globals) *cobra.Command {
	opts := &postOptions{}
	cmd := &cobra.Command{
		Use:   "post BATCH_DIR --config FILE [--apply]",
		Short: "Create an adjustment batch's entries in Odoo as drafts (a dry run without --apply)",
		Long: `Post reads BATCH_DIR/adjustments.jsonl, as finrecon adjust writes it, and
creates each entry in Odoo as a DRAFT journal entry, which an accountant
reviews and posts in Odoo: post never posts an entry, nor writes to an
existing one.

Without --apply it is a dry run: it reads Odoo, to say for each entry what
it would create and what is already there, and writes nothing.

Every entry is checked first: one that does not balance to the cent refuses
the whole batch before anything is sent to Odoo (exit 2). Before creating an
entry, post looks for a move whose ref is the entry's idempotency key and
skips the entry if there is one, so a re-run after a crash, or after the
batch's CSV went through Odoo's import wizard, creates nothing twice. Each
entry created or found is appended to BATCH_DIR/posted.jsonl as it goes.
An entry dated on or before its company's lock date is dated the first day
after it, and post says so. See docs/odoo.md.

` + exitCodesHelp + `

post exits 2 when the batch is refused or Odoo refused some of its entries
(each is listed with the reason), 3 when Odoo failed (a re-run is safe).`,
		Example: `  finrecon post out/runs/r-20261130-0123456789ab/adjustments --config finrecon.yaml
  finrecon post out/runs/r-20261130-0123456789ab/adjustments --config finrecon.yaml --apply`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPost(cmd, g, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.config, "config", "", "config file (required)")
	cmd.Flags().StringVar(&opts.system, "system", "", "the Odoo system to post to (default: the system with an odoo: connection)")
	cmd.Flags().BoolVar(&opts.apply, "apply", false, "create the drafts (default: a dry run that writes nothing)")
	cmd.MarkFlagRequired("config")
	return cmd
}

func runPost(cmd *cobra.Command, g *globals, opts *postOptions, dir string) error {
	cfg, err := loadConfig(opts.config)
	if err != nil {
		return err
	}
	system, err := odooSystem(cfg, opts.system)
	if err != nil {
		return err
	}
	s, err := odoo.FromConfig(cfg, system)
	if err != nil {
		return fail.ConfigErr(err)
	}
	w := cmd.OutOrStdout()
	mode := "dry run: nothing is written"
	if opts.apply {
		mode = "creating drafts"
	}
	started := false
	res, err := odoo.Post(cmd.Context(), odoo.PostOptions{Settings: s, BatchDir: dir, Apply: opts.apply, Log: g.logger(),
		OnEntry: func(o odoo.Outcome) {
			if !started { // once the batch is read and checked, and Odoo answered
				fmt.Fprintf(w, "post %s to odoo system %s (%s)\n", dir, system, mode)
				started = true
			}
			printOutcome(w, o)
		}})
	if res != nil {
		printPostSummary(w, dir, res)
	}
	var be *odoo.BatchError
	switch {
	case errors.As(err, &be):
		return fail.ConfigErr(err)
	case err != nil:
		return fail.SourceErr(err)
	case res.Refused > 0:
		return fail.ConfigErr(fmt.Errorf("%d entr%s refused (reasons above): fix them and post again; what was created stays, and is skipped next time",
			res.Refused, map[bool]string{true: "y", false: "ies"}[res.Refused == 1]))
	}
	return nil
}

// odooSystem picks the system to post to: the one named, else the only
// one with an odoo: connection.
func odooSystem(cfg *config.Config, name string) (string, error) {
	systems := cfg.OdooSystems()
	switch {
	case name != "":
		return name, nil
	case len(systems) == 1:
		return systems[0], nil
	case len(systems) == 0:
		return "", fail.ConfigErr(fmt.Errorf("%s: no system has an odoo: connection to post to (see docs/odoo.md)", cfg.File))
	}
	return "", usageError{fmt.Errorf("several systems have an odoo: connection (%s): choose one with --system", strings.Join(systems, ", "))}
}

// printOutcome shows one entry: key, date, journal, company, lines, and
// what happened to it.
func printOutcome(w io.Writer, o odoo.Outcome) {
	e := o.Entry
	places, _ := model.CurrencyDecimals(e.Currency) // the batch was checked: the currency is known
	fmt.Fprintf(w, "  %s  %s  %s  %s  %s %s\n", e.Key, o.Date, e.Journal, orDash(o.Company), e.Total().StringFixed(places), e.Currency)
	if o.LockNote != "" {
		fmt.Fprintf(w, "    date moved: %s\n", o.LockNote)
	}
	for _, l := range e.Lines {
		side, amount := "D", l.Debit
		if l.Credit.Sign() > 0 {
			side, amount = "C", l.Credit
		}
		partner := ""
		if l.PartnerRef != "" {
			partner = "  partner " + l.PartnerRef
			if l.PartnerName != "" {
				partner += " (" + l.PartnerName + ")"
			}
		}
		fmt.Fprintf(w, "    %s %-8s %12s%s\n", side, l.Account, amount.StringFixed(places), partner)
	}
	switch o.Status {
	case odoo.StatusWouldCreate:
		fmt.Fprintln(w, "    → would create a draft (not in Odoo yet)")
	case odoo.StatusCreated:
		fmt.Fprintf(w, "    → created draft move %d\n", o.MoveID)
	case odoo.StatusPresent:
		fmt.Fprintf(w, "    → already in Odoo as move %d%s: skipped\n", o.MoveID, prefixed(" ", o.MoveName))
	case odoo.StatusRefused:
		fmt.Fprintf(w, "    → refused: %s\n", o.Reason)
	case odoo.StatusGone:
		fmt.Fprintf(w, "    → not created again: %s\n", o.Reason)
	}
}

func printPostSummary(w io.Writer, dir string, r *odoo.PostResult) {
	if !r.Applied {
		fmt.Fprintf(w, "dry run of batch %s (Odoo %s): would create %d, already present %d, refused %d", r.BatchID, r.Version, r.WouldCreate, r.Present, r.Refused)
	} else {
		fmt.Fprintf(w, "batch %s (Odoo %s): created %d, already present %d, refused %d", r.BatchID, r.Version, r.Created, r.Present, r.Refused)
	}
	if r.Gone > 0 {
		fmt.Fprintf(w, ", deleted in Odoo since created %d", r.Gone)
	}
	fmt.Fprintln(w)
	if r.Applied {
		fmt.Fprintf(w, "  recorded in %s\n", filepath.Join(dir, odoo.PostedFile))
	} else if r.WouldCreate > 0 {
		fmt.Fprintln(w, "  nothing was written; run again with --apply to create the drafts")
	}
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
