package http

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
)

// CSV import limits.
const (
	maxImportRows = 10000
	// maxImportErrors is how many bad rows one answer lists.
	maxImportErrors = 100
)

type importUnitsInput struct {
	BuildingIDParam
	IdempotencyHeader
	RawBody []byte `contentType:"text/csv" doc:"CSV with the header label,floor and one unit per row."`

	contentType string
}

// Resolve implements huma.Resolver to see the request's Content-Type.
func (in *importUnitsInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	return nil
}

// ImportedUnits is the answer of a successful CSV import.
type ImportedUnits struct {
	Imported int             `json:"imported" doc:"How many units were created."`
	Units    []*doorman.Unit `json:"units" nullable:"false"`
}

func (s *Server) importUnits(ctx context.Context, in *importUnitsInput) (*output[ImportedUnits], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	if mt, _, err := mime.ParseMediaType(in.contentType); err != nil || mt != "text/csv" {
		return nil, newProblem(http.StatusUnsupportedMediaType, doorman.EINVALID, "Send the units as Content-Type: text/csv.")
	}
	rows, err := parseUnitsCSV(in.RawBody)
	if err != nil {
		return nil, err
	}
	existing, err := s.unitLabels(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	var bad []*ProblemItem
	units := make([]*doorman.Unit, 0, len(rows))
	for _, r := range rows {
		if r.err != "" {
			bad = append(bad, rowError(r.line, r.err))
			continue
		}
		if existing[r.label] {
			bad = append(bad, rowError(r.line, fmt.Sprintf("Unit %q already exists in the building.", r.label)))
			continue
		}
		units = append(units, &doorman.Unit{BuildingID: b.ID, Label: r.label, Floor: r.floor})
	}
	if len(bad) > 0 {
		return nil, rowsProblem(bad)
	}
	if err := s.store.CreateUnits(ctx, units); err != nil {
		return nil, err
	}
	return ok(ImportedUnits{Imported: len(units), Units: units}), nil
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
		return nil, invalidField("body", "The CSV file is empty; its first line must be the header label,floor.")
	} else if err != nil {
		return nil, rowsProblem([]*ProblemItem{rowError(1, "The header cannot be read: "+csvMessage(err))})
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	if strings.Join(header, ",") != "label,floor" {
		return nil, rowsProblem([]*ProblemItem{rowError(1, fmt.Sprintf("The header must be label,floor, not %q.", strings.Join(header, ",")))})
	}

	var rows []csvRow
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if len(rows) >= maxImportRows {
			return nil, problemf(doorman.ETOOLARGE, "At most %d units can be imported at once.", maxImportRows)
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
		return nil, invalidField("body", "The CSV file has a header but no units.")
	}
	return rows, nil
}

// csvMessage turns an encoding/csv error into a sentence without the
// line prefix (the row carries the line).
func csvMessage(err error) string {
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return sentence(perr.Err.Error())
	}
	return sentence(err.Error())
}

func rowError(line int, msg string) *ProblemItem {
	return &ProblemItem{Row: line, Location: fmt.Sprintf("body line %d", line), Message: msg, Code: doorman.EINVALID}
}

// rowsProblem is the 422 answer listing bad rows; nothing was imported.
func rowsProblem(bad []*ProblemItem) *Problem {
	detail := fmt.Sprintf("%d rows are not valid; nothing was imported.", len(bad))
	if len(bad) == 1 {
		detail = "1 row is not valid; nothing was imported."
	}
	if len(bad) > maxImportErrors {
		detail = fmt.Sprintf("%d rows are not valid (the first %d are listed); nothing was imported.", len(bad), maxImportErrors)
		bad = bad[:maxImportErrors]
	}
	p := newProblem(http.StatusUnprocessableEntity, doorman.EINVALID, detail)
	p.Errors = bad
	return p
}

// unitLabels returns the labels of every unit of a building.
func (s *Server) unitLabels(ctx context.Context, buildingID string) (map[string]bool, error) {
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
