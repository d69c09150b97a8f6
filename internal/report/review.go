package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/duck"
	"github.com/finrecon/finrecon/internal/run"
)

// ErrNotFinreconWorkbook is wrapped by ReadReview's error for a file that is
// not a workbook finrecon wrote, or whose hidden identity sheet is gone.
var ErrNotFinreconWorkbook = errors.New("not a finrecon workbook")

// ErrOtherRun is what an *OtherRunError is (errors.Is).
var ErrOtherRun = errors.New("workbook of another run")

// OtherRunError is ReadReview's error for a workbook written for another run
// than the one it is read against. Nothing of such a workbook is taken: its
// break ids may exist in both runs with different values.
type OtherRunError struct {
	Want string // the run it was read against
	Got  string // the run that wrote it
}

func (e *OtherRunError) Error() string {
	return fmt.Sprintf("the workbook was written for run %s, not run %s: nothing was read", e.Got, e.Want)
}

// Is makes errors.Is(err, ErrOtherRun) true.
func (e *OtherRunError) Is(target error) bool { return target == ErrOtherRun }

// Edit is one break's review, as read back from a workbook.
type Edit struct {
	BreakID string
	Status  string // one of ReviewStatuses; an empty cell reads as open
	Owner   string
	Comment string
	Sheet   string // where it was read
	Row     int    // the sheet row, as Excel numbers it
	// Changed is true when status, owner or comment differs from what the
	// run carried over for the break.
	Changed bool
}

// Refusal is something of a reviewed workbook that was not taken: a row
// (with the cell at fault), or a whole sheet.
type Refusal struct {
	Sheet   string
	Cell    string // e.g. "V12"; the header cell for a sheet-wide refusal; "" for a missing sheet
	BreakID string // when known
	Reason  string
}

// Ref is where the refusal points, as Excel writes a reference:
// invoices!V12, 'invoices (2)'!V12.
func (r Refusal) Ref() string {
	sheet := r.Sheet
	if needsQuotes(sheet) {
		sheet = "'" + strings.ReplaceAll(sheet, "'", "''") + "'"
	}
	if r.Cell == "" {
		return sheet
	}
	return sheet + "!" + r.Cell
}

func (r Refusal) String() string { return r.Ref() + ": " + r.Reason }

// needsQuotes reports whether a sheet name must be quoted in a reference:
// unless it is letters, digits, underscores and periods, not starting with
// a digit.
func needsQuotes(sheet string) bool {
	for i, c := range sheet {
		switch {
		case unicode.IsLetter(c), c == '_', c == '.':
		case unicode.IsDigit(c) && i > 0:
		default:
			return true
		}
	}
	return false
}

// Review is what ReadReview found in a workbook.
type Review struct {
	RunID string
	// Edits holds every row that was taken, in sheet and row order, changed
	// or not; a row with any refusal is not among them.
	Edits    []Edit
	Refusals []Refusal
}

// Changed returns the edits that change a break's review.
func (r *Review) Changed() []Edit {
	var changed []Edit
	for _, e := range r.Edits {
		if e.Changed {
			changed = append(changed, e)
		}
	}
	return changed
}

// ReadReview reads back the review columns of a workbook that Write made
// for the run want, streaming its recon sheets row by row. orig returns a
// break of that run by id (RunBreaks makes one from a run directory).
//
// Rows are matched by break_id, not by position, so accountants may sort and
// filter. A row is refused, with the cell at fault, for an unknown status, an
// edit to any column other than status, owner and comment, an unknown or
// repeated break_id; a sheet is refused for a missing, renamed or repeated
// header column, and a missing recon sheet is reported. A workbook of
// another run is an *OtherRunError, and nothing of it is read. ReadReview
// writes nothing: storing the edits is the caller's job.
func ReadReview(ctx context.Context, path string, want *run.Manifest, orig func(breakID string) (*run.Break, bool)) (*Review, error) {
	rv, err := readReview(ctx, path, want, orig)
	if err != nil {
		return nil, fmt.Errorf("read review %s: %w", path, err)
	}
	return rv, nil
}

func readReview(ctx context.Context, path string, want *run.Manifest, orig func(string) (*run.Break, bool)) (*Review, error) {
	if want == nil || want.RunID == "" || orig == nil {
		return nil, errors.New("no run to check the workbook against")
	}
	cols, err := sheetColumns()
	if err != nil {
		return nil, err
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	id, err := readIdentity(f)
	if err != nil {
		return nil, err
	}
	if id.runID != want.RunID {
		return nil, &OtherRunError{Want: want.RunID, Got: id.runID}
	}
	r := &reviewReader{f: f, cols: cols, orig: orig, seen: map[string]seenRow{}, review: &Review{RunID: id.runID}}
	for _, s := range id.sheets {
		if err := r.readSheet(ctx, s.name); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", s.name, err)
		}
	}
	r.review.Edits = dropRemoved(r.review.Edits)
	return r.review, nil
}

// reviewReader reads the recon sheets of one workbook.
type reviewReader struct {
	f      *excelize.File
	cols   []column
	orig   func(string) (*run.Break, bool)
	seen   map[string]seenRow // break ids read so far
	review *Review
}

// seenRow is where a break id was first read, and its edit (-1: none).
type seenRow struct {
	ref  string
	edit int
}

// layout is where each column of a recon sheet is in a workbook as read
// back: accountants may move columns, so cells are found by header.
type layout struct {
	pos     []int // by index in cols: position in the row
	id      int   // index in cols of break_id, status, owner, comment
	status  int
	owner   int
	comment int
}

func (r *reviewReader) readSheet(ctx context.Context, sheet string) error {
	if idx, err := r.f.GetSheetIndex(sheet); err != nil || idx < 0 {
		r.refuse(Refusal{Sheet: sheet, Reason: "the sheet is missing or was renamed: its rows were not read"})
		return nil
	}
	rows, err := r.f.Rows(sheet)
	if err != nil {
		return err
	}
	defer rows.Close()
	var l *layout
	n := 0
	for rows.Next() {
		if n++; n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return fmt.Errorf("row %d: %w", n, err)
		}
		if n == 1 {
			if l = r.header(sheet, cells); l == nil {
				return nil
			}
			continue
		}
		r.row(sheet, n, l, cells)
	}
	if err := rows.Error(); err != nil {
		return err
	}
	if n == 0 {
		r.refuse(Refusal{Sheet: sheet, Cell: "A1", Reason: "the sheet is empty: its header and rows were deleted"})
	}
	return nil
}

// header reads a recon sheet's header row and returns where each column
// is, or nil, with the sheet refused, when a column is missing or repeated:
// without every column the sheet's rows cannot be checked.
func (r *reviewReader) header(sheet string, cells []string) *layout {
	ours := map[string]bool{}
	for _, c := range r.cols {
		ours[c.name] = true
	}
	at := map[string]int{}
	ok := true
	for i, name := range cells {
		name = strings.TrimSpace(name)
		if !ours[name] {
			continue // an accountant's own column, ignored
		}
		if first, dup := at[name]; dup {
			r.refuse(Refusal{Sheet: sheet, Cell: cellName(i, 1), Reason: fmt.Sprintf(
				"column %q is in the header twice (also %s): the sheet was not read", name, cellName(first, 1))})
			ok = false
			continue
		}
		at[name] = i
	}
	l := &layout{pos: make([]int, len(r.cols))}
	for i, c := range r.cols {
		p, found := at[c.name]
		if !found {
			r.refuse(Refusal{Sheet: sheet, Cell: cellName(i, 1), Reason: fmt.Sprintf(
				"column %q is missing from the header (row 1): the sheet was not read; restore the header or start from a fresh workbook", c.name)})
			ok = false
		}
		l.pos[i] = p
		switch c.name {
		case "break_id":
			l.id = i
		case statusColumn:
			l.status = i
		case ownerColumn:
			l.owner = i
		case commentColumn:
			l.comment = i
		}
	}
	if !ok {
		return nil
	}
	return l
}

// rowCells is one row of a recon sheet as read back.
type rowCells struct {
	sheet string
	n     int // row number
	l     *layout
	cells []string
}

// get returns the value of column i (an index in cols).
func (rc rowCells) get(i int) string {
	if p := rc.l.pos[i]; p < len(rc.cells) {
		return rc.cells[p]
	}
	return ""
}

// cell returns the name of column i's cell, e.g. "N12".
func (rc rowCells) cell(i int) string { return cellName(rc.l.pos[i], rc.n) }

// row checks one row and takes its review, or refuses it.
func (r *reviewReader) row(sheet string, n int, l *layout, cells []string) {
	if isBlank(cells) {
		return
	}
	rc := rowCells{sheet: sheet, n: n, l: l, cells: cells}
	b, ok := r.lookup(rc)
	if !ok {
		return
	}
	refused := len(r.review.Refusals)
	r.checkRunColumns(rc, b)
	status, ok := parseStatus(rc.get(l.status))
	if !ok {
		r.refuse(Refusal{Sheet: sheet, Cell: rc.cell(l.status), BreakID: b.ID, Reason: fmt.Sprintf(
			"unknown status %q: want %s", strings.TrimSpace(rc.get(l.status)), strings.Join(ReviewStatuses, ", "))})
	}
	if r.duplicate(sheet, rc.cell(l.id), b.ID) || len(r.review.Refusals) > refused {
		return
	}
	e := Edit{BreakID: b.ID, Status: status, Owner: strings.TrimSpace(rc.get(l.owner)),
		Comment: strings.TrimSpace(rc.get(l.comment)), Sheet: sheet, Row: n}
	e.Changed = e.Status != reviewStatus(b) || e.Owner != b.ReviewOwner || e.Comment != b.ReviewComment
	r.seen[b.ID] = seenRow{ref: r.seen[b.ID].ref, edit: len(r.review.Edits)}
	r.review.Edits = append(r.review.Edits, e)
}

// lookup finds the run's break of a row by its break_id, or refuses the row.
func (r *reviewReader) lookup(rc rowCells) (*run.Break, bool) {
	id := strings.TrimSpace(rc.get(rc.l.id))
	if id == "" {
		r.refuse(Refusal{Sheet: rc.sheet, Cell: rc.cell(rc.l.id), Reason: "the row has no break_id: was it added, or the id cleared?"})
		return nil, false
	}
	b, ok := r.orig(id)
	if !ok {
		r.refuse(Refusal{Sheet: rc.sheet, Cell: rc.cell(rc.l.id), BreakID: id,
			Reason: fmt.Sprintf("unknown break_id %q: the run has no such break", id)})
	}
	return b, ok
}

// checkRunColumns refuses every cell of the row, outside the review
// columns, that no longer holds what the run wrote.
func (r *reviewReader) checkRunColumns(rc rowCells, b *run.Break) {
	for i, c := range r.cols {
		if c.kind == reviewKind || c.matches(b, rc.get(i)) {
			continue
		}
		r.refuse(Refusal{Sheet: rc.sheet, Cell: rc.cell(i), BreakID: b.ID, Reason: fmt.Sprintf(
			"%s was edited (the run has %q, the workbook %q): only %s, %s and %s may change",
			c.name, c.display(b), c.shown(rc.get(i)), statusColumn, ownerColumn, commentColumn)})
	}
}

// duplicate records where id was read and reports whether it was read
// before. A break on two rows is refused on both: which one the accountant
// meant cannot be told.
func (r *reviewReader) duplicate(sheet, cell, id string) bool {
	ref := Refusal{Sheet: sheet, Cell: cell}.Ref()
	first, dup := r.seen[id]
	if !dup {
		r.seen[id] = seenRow{ref: ref, edit: -1}
		return false
	}
	r.refuse(Refusal{Sheet: sheet, Cell: cell, BreakID: id, Reason: fmt.Sprintf(
		"break_id %s is on two rows (also %s): neither was taken", id, first.ref)})
	if first.edit >= 0 {
		r.review.Edits[first.edit].BreakID = "" // removed by dropRemoved
		r.seen[id] = seenRow{ref: first.ref, edit: -1}
	}
	return true
}

func (r *reviewReader) refuse(ref Refusal) { r.review.Refusals = append(r.review.Refusals, ref) }

// dropRemoved removes the edits duplicate took back.
func dropRemoved(edits []Edit) []Edit {
	kept := edits[:0]
	for _, e := range edits {
		if e.BreakID != "" {
			kept = append(kept, e)
		}
	}
	return kept
}

// parseStatus reads a status cell. Case and surrounding spaces do not
// matter; an empty cell is open, like a break nobody reviewed.
func parseStatus(raw string) (string, bool) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" {
		return StatusOpen, true
	}
	for _, ok := range ReviewStatuses {
		if s == ok {
			return s, true
		}
	}
	return "", false
}

func isBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// cellName is the name of the cell at 0-based position col of row.
func cellName(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col+1, row)
	return name
}

// RunBreaks reads every break of the run in dir into memory and returns
// ReadReview's lookup over them. It holds the whole run: plan on about a
// kilobyte per break.
func RunBreaks(ctx context.Context, dir string) (func(breakID string) (*run.Break, bool), error) {
	db, err := duck.Open(ctx, duck.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	byID := map[string]*run.Break{}
	err = run.EachBreak(ctx, db, dir, "", func(b *run.Break) error {
		c := *b
		byID[c.ID] = &c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read breaks of %s: %w", dir, err)
	}
	return func(id string) (*run.Break, bool) {
		b, ok := byID[id]
		return b, ok
	}, nil
}
