package http

import (
	"context"

	"github.com/doorman-dev/doorman"
)

type unitInput struct {
	Label string `json:"label" minLength:"1" maxLength:"32" example:"4B" doc:"The unit as written on parcels."`
	Floor string `json:"floor,omitempty" maxLength:"32" example:"4"`
}

type createUnitInput struct {
	BuildingIDParam
	IdempotencyHeader
	Body unitInput
}

func (s *Server) createUnit(ctx context.Context, in *createUnitInput) (*output[*doorman.Unit], error) {
	u := &doorman.Unit{BuildingID: in.BuildingID, Label: in.Body.Label, Floor: in.Body.Floor}
	if err := s.app.Buildings.CreateUnit(ctx, u); err != nil {
		return nil, err
	}
	return ok(u), nil
}

type listUnitsInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listUnits(ctx context.Context, in *listUnitsInput) (*output[Page[*doorman.Unit]], error) {
	return page(s.app.Buildings.ListUnits(ctx, in.BuildingID, in.page()))
}

type unitIDInput struct {
	BuildingIDParam
	UnitID string `path:"unit_id" maxLength:"64" doc:"A unit ID (unt_…)."`
}

func (s *Server) getUnit(ctx context.Context, in *unitIDInput) (*output[*doorman.Unit], error) {
	return answer(s.app.Buildings.Unit(ctx, in.BuildingID, in.UnitID))
}

func (s *Server) deleteUnit(ctx context.Context, in *unitIDInput) (*noContent, error) {
	return nil, s.app.Buildings.DeleteUnit(ctx, in.BuildingID, in.UnitID)
}
