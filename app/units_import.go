package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/doorman-dev/doorman"
)

// CSV import limits.
const (
	// MaxImportRows is the most units one CSV import may hold.
	MaxImportRows = 10000
	// maxImportErrors is how many bad rows one refusal lists.
	maxImportErrors = 100
)

// ImportUnits creates the units of a CSV file (header label,floor) in a
// building the caller manages, all or none. A file that cannot be used is
// EINVALID with one item per bad row (line numbers one-based, at most the
// first 100 listed), and nothing is written; ETOOLARGE above MaxImportRows
// rows. PreviewUnits tells the same without writing.
func (s *Buildings) ImportUnits(ctx context.Context, buildingID string, data []byte) ([]*doorman.Unit, error) {
	rows, units, err := s.checkUnits(ctx, buildingID, data)
	if err != nil {
		return nil, err
	}
	var bad []doorman.ErrorItem
	for _, r := range rows {
		if r.Error != "" {
			bad = append(bad, rowError(r.Line, r.Error))
		}
	}
	if len(bad) > 0 {
		return nil, rowsError(bad)
	}
	if err := s.store.CreateUnits(ctx, units); err != nil {
		return nil, err
	}
	return units, nil
}

// ImportRow is one data row of a units CSV file as an import would take
// it: the unit, or why the row is not valid.
type ImportRow struct {
	Line         int
	Label, Floor string
	Error        string
}

// UnitsPreview is what ImportUnits would do with a file.
type UnitsPreview struct {
	Rows []ImportRow
	// Bad counts the rows with an error; the import writes nothing
	// unless it is zero.
	Bad int
}

// PreviewUnits checks a units CSV file exactly as ImportUnits does and
// says, row by row, what it would import or why not, writing nothing.
// Errors about the file as a whole (no header, no rows, too many) are
// returned as ImportUnits returns them.
func (s *Buildings) PreviewUnits(ctx context.Context, buildingID string, data []byte) (*UnitsPreview, error) {
	rows, _, err := s.checkUnits(ctx, buildingID, data)
	if err != nil {
		return nil, err
	}
	p := &UnitsPreview{Rows: rows}
	for _, r := range rows {
		if r.Error != "" {
			p.Bad++
		}
	}
	return p, nil
}

// checkUnits authorises the caller, reads the file and checks each row
// against the file and the building's units: the one place of the rules.
// It returns every row, and the units of the good ones.
func (s *Buildings) checkUnits(ctx context.Context, buildingID string, data []byte) ([]ImportRow, []*doorman.Unit, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, nil, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, nil, err
	}
	parsed, err := parseUnitsCSV(data)
	if err != nil {
		return nil, nil, err
	}
	existing, err := s.unitLabels(ctx, b.ID)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]ImportRow, len(parsed))
	units := make([]*doorman.Unit, 0, len(parsed))
	for i, r := range parsed {
		rows[i] = ImportRow{Line: r.line, Label: r.label, Floor: r.floor, Error: r.err}
		if r.err == "" && existing[r.label] {
			rows[i].Error = fmt.Sprintf("Unit %q already exists in the building.", r.label)
		}
		if rows[i].Error == "" {
			units = append(units, &doorman.Unit{BuildingID: b.ID, Label: r.label, Floor: r.floor})
		}
	}
	return rows, units, nil
}

// csvRow is one parsed data row, or the error that makes it bad.
type csvRow struct {
	line         int
	label, floor string
	err          string
}

// parseUnitsCSV reads a label,floor CSV. Errors about the file as a whole
// are returned; errors of single rows are kept with the row.
func parseUnitsCSV(data []byte) ([]csvRow, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true

	header, err := r.Read()
	if err == io.EOF {
		return nil, doorman.InvalidField("body", "The CSV file is empty; its first line must be the header label,floor.")
	} else if err != nil {
		return nil, rowsError([]doorman.ErrorItem{rowError(1, "The header cannot be read: "+csvMessage(err))})
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	if strings.Join(header, ",") != "label,floor" {
		return nil, rowsError([]doorman.ErrorItem{rowError(1, fmt.Sprintf("The header must be label,floor, not %q.", strings.Join(header, ",")))})
	}

	var rows []csvRow
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if len(rows) >= MaxImportRows {
			return nil, doorman.Errorf(doorman.ETOOLARGE, "At most %d units can be imported at once.", MaxImportRows)
		}
		var row csvRow
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			row.line, row.err = perr.StartLine, csvMessage(err)
			rows = append(rows, row)
			continue
		} else if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		row.line = line
		switch {
		case len(rec) != 2:
			row.err = fmt.Sprintf("Expected 2 fields (label,floor), found %d.", len(rec))
		default:
			row.label, row.floor = strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
			u := doorman.Unit{BuildingID: "-", Label: row.label, Floor: row.floor}
			if err := u.Validate(); err != nil {
				row.err = doorman.ErrorMessage(err)
			} else if len(row.floor) > 32 {
				row.err = "Unit floor must be at most 32 characters."
			} else if first, dup := seen[row.label]; dup {
				row.err = fmt.Sprintf("Unit %q is already on line %d.", row.label, first)
			} else {
				seen[row.label] = line
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, doorman.InvalidField("body", "The CSV file has a header but no units.")
	}
	return rows, nil
}

// csvMessage turns an encoding/csv error into a sentence without the
// line prefix (the row carries the line).
func csvMessage(err error) string {
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return doorman.Sentence(perr.Err.Error())
	}
	return doorman.Sentence(err.Error())
}

func rowError(line int, msg string) doorman.ErrorItem {
	return doorman.ErrorItem{Row: line, Location: fmt.Sprintf("body line %d", line), Message: msg, Code: doorman.EINVALID}
}

// rowsError is the refusal listing bad rows; nothing was imported.
func rowsError(bad []doorman.ErrorItem) error {
	detail := fmt.Sprintf("%d rows are not valid; nothing was imported.", len(bad))
	if len(bad) == 1 {
		detail = "1 row is not valid; nothing was imported."
	}
	if len(bad) > maxImportErrors {
		detail = fmt.Sprintf("%d rows are not valid (the first %d are listed); nothing was imported.", len(bad), maxImportErrors)
		bad = bad[:maxImportErrors]
	}
	e := doorman.Errorf(doorman.EINVALID, "%s", detail)
	e.Items = bad
	return e
}

// unitLabels returns the labels of every unit of a building.
func (s *Buildings) unitLabels(ctx context.Context, buildingID string) (map[string]bool, error) {
	labels := map[string]bool{}
	page := doorman.Page{Limit: doorman.MaxPageLimit}
	for {
		units, next, err := s.store.ListUnits(ctx, buildingID, page)
		if err != nil {
			return nil, err
		}
		for _, u := range units {
			labels[u.Label] = true
		}
		if next == "" {
			return labels, nil
		}
		page.After = next
	}
}
