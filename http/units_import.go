package http

import (
	"context"
	"mime"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
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
	if mt, _, err := mime.ParseMediaType(in.contentType); err != nil || mt != "text/csv" {
		return nil, newProblem(http.StatusUnsupportedMediaType, doorman.EINVALID, "Send the units as Content-Type: text/csv.")
	}
	units, err := s.app.Buildings.ImportUnits(ctx, in.BuildingID, in.RawBody)
	if err != nil {
		return nil, err
	}
	return ok(ImportedUnits{Imported: len(units), Units: units}), nil
}
