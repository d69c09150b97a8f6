package odoo

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ExtractOptions says what to pull and where to write it.
type ExtractOptions struct {
	Settings Settings
	// OutDir receives the canonical files; default <state>/canonical.
	OutDir string
	// Full re-syncs from scratch instead of pulling what changed since the
	// watermark (also when Settings.Full is set).
	Full bool
	Log  *slog.Logger
}

// ExtractResult says what a pull did.
type ExtractResult struct {
	// Dir holds invoices.csv, payments.csv and journal_lines.csv.
	Dir      string
	Version  string
	Protocol string
	// Full is set when the mirror was rebuilt, and FullReason says why.
	Full       bool
	FullReason string
	Models     []ModelStats
	// Rows counts the canonical rows written, by table.
	Rows map[string]int
	// UnmappedPartners are the partners rows refer to that have no value
	// in the partner_key field: their rows carry partner_id odoo:<id>.
	UnmappedPartners []Partner
	// Warnings are values that could not be filled, with how many rows.
	Warnings []string
}

// ModelStats are one model's numbers.
type ModelStats struct {
	Model   string
	Pulled  int // records read from Odoo this run
	Removed int // mirror records gone from Odoo (deleted, or out of scope)
	Total   int // records in the mirror now
}

// pullSpec is one model the connector mirrors.
type pullSpec struct {
	model  string
	domain []any
	fields []string
}

// Extract pulls the system's invoices, payments and journal items into its
// mirror — everything on the first run or with Full, else what changed
// since the watermark — and writes the canonical files from the mirror. A
// pull that fails leaves the mirror, the watermark and the canonical files
// as they were.
func Extract(ctx context.Context, opts ExtractOptions) (*ExtractResult, error) {
	s := opts.Settings.withDefaults()
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := extract(ctx, s, opts, log)
	return res, finalError(s, err)
}

// finalError is the last stop of every error the package returns: named
// after the system if it is not an Odoo call's Error (which already is),
// and scrubbed of the key.
func finalError(s Settings, err error) error {
	if err == nil {
		return nil
	}
	var oe *Error
	var be *BatchError
	if !errors.As(err, &oe) && !errors.As(err, &be) {
		err = fmt.Errorf("odoo system %q: %w", s.System, err)
	}
	return newRedactor(s.Key).err(err)
}

func extract(ctx context.Context, s Settings, opts ExtractOptions, log *slog.Logger) (*ExtractResult, error) {
	c, err := Dial(ctx, s, log)
	if err != nil {
		return nil, err
	}
	d := dialectOf(c.Version())
	st, err := openState(s.StateDir)
	if err != nil {
		return nil, err
	}
	specs := pullSpecs(s, d)
	res := &ExtractResult{Version: c.Version().Serie, Protocol: c.Protocol(), Rows: map[string]int{}}
	scope := scopeOf(c.Version(), s, specs)
	full, reason := opts.Full || s.Full, "asked for"
	switch {
	case full:
	case st.damaged != nil:
		return nil, st.damaged
	case !st.found:
		full, reason = true, "first pull"
	case st.wm.Scope != scope:
		full, reason = true, "what is pulled changed (Odoo version, companies, vendor bills or fields)"
	}
	res.Full, res.FullReason = full, reason
	if full {
		log.Info("odoo full re-sync", "reason", reason)
	}
	next := watermarks{Scope: scope, Version: c.Version().Serie, Models: map[string]watermark{}}
	var pending []*pendingFile
	defer func() {
		for _, p := range pending {
			p.discard() // after a commit there is nothing left to remove
		}
	}()
	mirrors := map[string]string{} // model -> its new mirror, still aside
	for _, sp := range specs {
		p := &puller{c: c, s: s, st: st, spec: sp, full: full, log: log}
		out, stats, mark, err := p.run(ctx)
		if err != nil {
			return nil, err
		}
		pending = append(pending, out)
		mirrors[sp.model] = out.path()
		next.Models[sp.model] = mark
		res.Models = append(res.Models, stats)
	}
	res.Dir = opts.OutDir
	if res.Dir == "" {
		res.Dir = filepath.Join(s.StateDir, canonicalDir)
	}
	files, err := writeCanonical(ctx, c, s, d, mirrors, res)
	pending = append(pending, files...)
	if err != nil {
		return nil, err
	}
	// Everything read and written aside: commit the mirror and the
	// canonical files, then the watermark.
	for _, p := range pending {
		if err := p.commit(); err != nil {
			return nil, fmt.Errorf("odoo state: %w", err)
		}
	}
	if err := st.saveWatermarks(next); err != nil {
		return nil, fmt.Errorf("odoo watermark: %w", err)
	}
	if n := len(res.UnmappedPartners); n > 0 {
		log.Warn("odoo partners without a partner key: their rows carry partner_id odoo:<id>",
			"partners", n, "partner_key", s.PartnerKey)
	}
	return res, nil
}

// pullSpecs lists what is mirrored: customer invoices and credit notes
// (and vendor bills and refunds when asked for), customer payments (all
// payments with vendor bills), and every journal item but section and note
// lines, within the configured companies.
func pullSpecs(s Settings, d dialect) []pullSpec {
	types := []any{"out_invoice", "out_refund"}
	var payments []any
	if s.VendorBills {
		types = append(types, "in_invoice", "in_refund")
	} else {
		payments = append(payments, []any{"partner_type", "=", "customer"})
	}
	scope := func(domain []any) []any {
		if len(s.Companies) > 0 {
			domain = append(domain, []any{"company_id", "in", s.companyIDs()})
		}
		return domain
	}
	return []pullSpec{
		{"account.move", scope([]any{[]any{"move_type", "in", types}}), invoiceFields},
		{"account.payment", scope(payments), d.paymentFields()},
		{"account.move.line", scope([]any{[]any{"display_type", "not in", []any{"line_section", "line_subsection", "line_note"}}}), lineFields},
	}
}

// scopeOf fingerprints what the mirror holds.
func scopeOf(v Version, s Settings, specs []pullSpec) string {
	b, _ := json.Marshal(struct {
		Major int
		Specs []pullSpec
	}{v.Major, specs})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func (p pullSpec) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{p.model, p.domain, p.fields})
}

// puller pulls one model.
type puller struct {
	c    *Client
	s    Settings
	st   *state
	spec pullSpec
	full bool
	log  *slog.Logger
}

// run pulls the model's changes and merges them into a new mirror file,
// written aside. It returns the file to commit, the numbers and the next
// watermark.
func (p *puller) run(ctx context.Context) (*pendingFile, ModelStats, watermark, error) {
	stats := ModelStats{Model: p.spec.model}
	prev, incremental := p.st.wm.Models[p.spec.model]
	incremental = incremental && !p.full && prev.WriteDate != ""
	domain := append([]any(nil), p.spec.domain...)
	if incremental {
		domain = append(domain, []any{"write_date", ">=", p.since(prev.WriteDate)})
	}
	delta, err := createPending(p.st.mirrorPath(p.spec.model) + ".delta")
	if err != nil {
		return nil, stats, watermark{}, fmt.Errorf("odoo mirror: %w", err)
	}
	defer delta.discard()
	mark, err := p.pull(ctx, domain, delta)
	if err != nil {
		return nil, stats, watermark{}, err
	}
	if err := delta.finish(); err != nil {
		return nil, stats, watermark{}, fmt.Errorf("odoo mirror: %w", err)
	}
	stats.Pulled = delta.n
	if mark.WriteDate == "" || (incremental && mark.WriteDate < prev.WriteDate) {
		mark = prev // nothing newer: keep the watermark
	}
	var live []int64
	oldPath := p.st.mirrorPath(p.spec.model)
	if incremental {
		if live, err = p.liveIDs(ctx); err != nil {
			return nil, stats, watermark{}, err
		}
	} else {
		oldPath = "" // a full pull replaces the mirror
	}
	out, err := createPending(p.st.mirrorPath(p.spec.model))
	if err != nil {
		return nil, stats, watermark{}, fmt.Errorf("odoo mirror: %w", err)
	}
	removed, err := mergeMirror(oldPath, delta.path(), live, out)
	if err == nil {
		err = out.finish()
	}
	if err != nil {
		out.discard()
		return nil, stats, watermark{}, fmt.Errorf("odoo mirror: %w", err)
	}
	stats.Removed, stats.Total = removed, out.n
	p.log.Info("odoo pulled", "model", p.spec.model, "incremental", incremental, "pulled", stats.Pulled,
		"removed", stats.Removed, "total", stats.Total, "watermark", mark.WriteDate)
	return out, stats, mark, nil
}

// since is the write_date to ask from: the watermark, less the overlap
// that catches transactions which committed late with an earlier
// write_date (Odoo stamps write_date when a transaction starts).
func (p *puller) since(wm string) string {
	t, err := time.Parse(time.DateTime, wm)
	if err != nil || p.s.Overlap <= 0 {
		return wm
	}
	return t.Add(-p.s.Overlap).Format(time.DateTime)
}

// pull pages through domain by id — id > the last id seen, ordered by id,
// never by offset, so that records created or deleted meanwhile cannot
// shift a page — until a page comes back empty.
func (p *puller) pull(ctx context.Context, domain []any, out *pendingFile) (watermark, error) {
	var (
		last int64
		mark watermark
	)
	for {
		page := append(append([]any(nil), domain...), []any{"id", ">", last})
		recs, err := p.c.SearchRead(ctx, p.spec.model, page, p.spec.fields, Query{Order: "id asc", Limit: p.s.PageSize})
		if err != nil {
			return mark, err
		}
		if len(recs) == 0 {
			return mark, nil
		}
		for _, r := range recs {
			id := r.ID()
			if id <= last {
				return mark, &Error{System: p.c.system, Model: p.spec.model, Method: "search_read", Kind: KindProtocol,
					Message: fmt.Sprintf("records came back out of id order (%d after %d)", id, last)}
			}
			last = id
			mark = mark.see(r.Text("write_date"), id)
			if err := out.write(r); err != nil {
				return mark, fmt.Errorf("odoo mirror: %w", err)
			}
		}
		p.log.Debug("odoo page", "model", p.spec.model, "records", len(recs), "last_id", last)
	}
}

// see moves the watermark to a record's write_date.
func (w watermark) see(writeDate string, id int64) watermark {
	switch {
	case writeDate == "" || writeDate < w.WriteDate:
	case writeDate > w.WriteDate:
		w = watermark{WriteDate: writeDate, IDs: []int64{id}}
	default:
		w.IDs = append(w.IDs, id)
	}
	return w
}

// liveIDs lists, by id pages, the ids the model's scope holds now: mirror
// records not among them were deleted (a draft's lines are replaced when
// it is edited) or left the scope.
func (p *puller) liveIDs(ctx context.Context) ([]int64, error) {
	const page = 10000
	var (
		out  []int64
		last int64
	)
	for {
		domain := append(append([]any(nil), p.spec.domain...), []any{"id", ">", last})
		ids, err := p.c.Search(ctx, p.spec.model, domain, Query{Order: "id asc", Limit: page})
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return out, nil
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		out = append(out, ids...)
		last = ids[len(ids)-1]
	}
}

// writeCanonical writes the canonical tables, aside, from the new mirror
// files: a first pass gathers the ids of the reference records, which are
// read from Odoo, a second converts. It returns the files to commit.
func writeCanonical(ctx context.Context, c *Client, s Settings, d dialect, mirrors map[string]string, res *ExtractResult) ([]*pendingFile, error) {
	if err := os.MkdirAll(res.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("odoo canonical folder: %w", err)
	}
	ids := newRefIDs()
	for _, t := range tableSpecs {
		err := eachRecord(mirrors[t.model], func(r Record) error {
			ids.collect(t.model, r)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("odoo mirror: %w", err)
		}
	}
	ref, err := loadRefData(ctx, c, s, ids)
	if err != nil {
		return nil, err
	}
	x := &converter{ref: ref, d: d, issues: map[string]int{}}
	var files []*pendingFile
	for _, t := range tableSpecs {
		f, err := writeTable(filepath.Join(res.Dir, t.table+".csv"), mirrors[t.model], t, x)
		if f != nil {
			files = append(files, f)
		}
		if err != nil {
			return files, fmt.Errorf("odoo canonical %s: %w", t.table, err)
		}
		res.Rows[t.table] = f.n
	}
	res.UnmappedPartners = ref.unmappedPartners()
	for issue, n := range x.issues {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s (%d rows)", issue, n))
	}
	sort.Strings(res.Warnings)
	return files, nil
}

// writeTable converts one mirror file into one canonical CSV, rows in id
// order as the mirror is, written aside.
func writeTable(dest, mirror string, t tableSpec, x *converter) (*pendingFile, error) {
	f, err := createPending(dest)
	if err != nil {
		return nil, err
	}
	cw := csv.NewWriter(f)
	if err := cw.Write(t.header()); err != nil {
		return f, err
	}
	err = eachRecord(mirror, func(r Record) error {
		f.n++
		return cw.Write(sanitizeRow(t.convert(x, r)))
	})
	if err != nil {
		return f, err
	}
	if cw.Flush(); cw.Error() != nil {
		return f, cw.Error()
	}
	return f, f.finish()
}

// sanitizeRow keeps a cell on one physical line: Odoo labels may hold
// newlines, which CSV can quote but line-oriented readers of the file (and
// extract's line numbers) are better without.
func sanitizeRow(row []string) []string {
	for i, v := range row {
		if strings.ContainsAny(v, "\r\n") {
			row[i] = strings.Join(strings.Fields(v), " ")
		}
	}
	return row
}
