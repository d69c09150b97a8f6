package report

import (
	"fmt"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/finrecon/finrecon/internal/run"
)

// IdentitySheet is the hidden sheet that ties a workbook to the run it was
// written from, so that a reviewed workbook cannot be imported against
// another run's breaks. A sheet, unlike a document property, survives a
// round trip through Excel, LibreOffice and Google Sheets.
const IdentitySheet = "_finrecon"

// identityFormat names the identity sheet's layout; ReadReview refuses a
// workbook whose identity it cannot read.
const identityFormat = "finrecon-workbook/1"

// identity is what the identity sheet holds.
type identity struct {
	format      string
	runID       string
	snapshotID  string
	asOf        string
	rulesHash   string
	toolVersion string
	sheets      []sheetInfo // the recon sheets, in order
}

// Keys of the identity sheet's rows: a key in column A, values after it.
const (
	keyFormat   = "format"
	keyRunID    = "run_id"
	keySnapshot = "snapshot_id"
	keyAsOf     = "as_of"
	keyRules    = "rules_hash"
	keyTool     = "tool_version"
	keySheet    = "sheet" // sheet name, recon, part, rows
	keyNote     = "note"
)

// writeIdentity fills the hidden identity sheet, which prepareSheets made.
func writeIdentity(f *excelize.File, id *identity) error {
	rows := [][]string{
		{keyFormat, id.format},
		{keyRunID, id.runID},
		{keySnapshot, id.snapshotID},
		{keyAsOf, id.asOf},
		{keyRules, id.rulesHash},
		{keyTool, id.toolVersion},
		{keyNote, "Written by finrecon report. finrecon review import reads this sheet to check that a " +
			"reviewed workbook belongs to the run it is imported against: do not edit it."},
	}
	for _, s := range id.sheets {
		rows = append(rows, []string{keySheet, s.name, s.recon, strconv.Itoa(s.part), strconv.FormatInt(s.rows, 10)})
	}
	for i, row := range rows {
		for j, v := range row {
			cell, err := excelize.CoordinatesToCellName(j+1, i+1)
			if err != nil {
				return err
			}
			if err := f.SetCellStr(IdentitySheet, cell, v); err != nil {
				return err
			}
		}
	}
	return f.SetColWidth(IdentitySheet, "A", "B", 24)
}

// newIdentity is the identity of a workbook of the run m, holding sheets.
func newIdentity(m *run.Manifest, sheets []sheetInfo) *identity {
	return &identity{
		format: identityFormat, runID: m.RunID, snapshotID: m.SnapshotID, asOf: m.AsOf,
		rulesHash: m.RulesHash, toolVersion: m.ToolVersion, sheets: sheets,
	}
}

// readIdentity reads the identity sheet of a workbook.
func readIdentity(f *excelize.File) (*identity, error) {
	if idx, err := f.GetSheetIndex(IdentitySheet); err != nil || idx < 0 {
		return nil, fmt.Errorf("%w: it has no %s sheet", ErrNotFinreconWorkbook, IdentitySheet)
	}
	rows, err := f.GetRows(IdentitySheet)
	if err != nil {
		return nil, fmt.Errorf("sheet %s: %w", IdentitySheet, err)
	}
	id := &identity{}
	for i, row := range rows {
		if len(row) < 2 {
			continue
		}
		switch row[0] {
		case keyFormat:
			id.format = row[1]
		case keyRunID:
			id.runID = row[1]
		case keySnapshot:
			id.snapshotID = row[1]
		case keyAsOf:
			id.asOf = row[1]
		case keyRules:
			id.rulesHash = row[1]
		case keyTool:
			id.toolVersion = row[1]
		case keySheet:
			s, err := parseSheetRow(row)
			if err != nil {
				return nil, fmt.Errorf("%w: sheet %s row %d: %v", ErrNotFinreconWorkbook, IdentitySheet, i+1, err)
			}
			id.sheets = append(id.sheets, s)
		}
	}
	if id.format != identityFormat {
		return nil, fmt.Errorf("%w: sheet %s has format %q, want %q", ErrNotFinreconWorkbook, IdentitySheet, id.format, identityFormat)
	}
	if id.runID == "" {
		return nil, fmt.Errorf("%w: sheet %s names no run", ErrNotFinreconWorkbook, IdentitySheet)
	}
	return id, nil
}

func parseSheetRow(row []string) (sheetInfo, error) {
	if len(row) < 5 {
		return sheetInfo{}, fmt.Errorf("want sheet, name, recon, part, rows; got %d values", len(row))
	}
	part, err := strconv.Atoi(row[3])
	if err != nil {
		return sheetInfo{}, fmt.Errorf("part %q: %w", row[3], err)
	}
	rows, err := strconv.ParseInt(row[4], 10, 64)
	if err != nil {
		return sheetInfo{}, fmt.Errorf("rows %q: %w", row[4], err)
	}
	return sheetInfo{name: row[1], recon: row[2], part: part, rows: rows}, nil
}
