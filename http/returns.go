package http

import (
	"context"

	"github.com/doorman-dev/doorman/app"
)

type listCourierReturnsInput struct {
	BuildingID string `query:"building_id" maxLength:"64" doc:"Only returns at this building (bld_…)."`
}

type returnsBody struct {
	Items []*app.PendingReturn `json:"items" nullable:"false" doc:"Returns waiting for pickup, oldest first."`
}

func (s *Server) listCourierReturns(ctx context.Context, in *listCourierReturnsInput) (*output[returnsBody], error) {
	list, err := s.app.Returns.Pending(ctx, in.BuildingID)
	if err != nil {
		return nil, err
	}
	return ok(returnsBody{Items: list}), nil
}

type collectReturnInput struct {
	IdempotencyHeader
	TrackingNumber string `path:"tracking_number" minLength:"1" maxLength:"64" doc:"The tracking number of a return registered for the caller's carrier."`
}

func (s *Server) collectReturn(ctx context.Context, in *collectReturnInput) (*output[*app.PendingReturn], error) {
	return answer(s.app.Returns.Collect(ctx, in.TrackingNumber))
}
