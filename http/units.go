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
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	u := &doorman.Unit{BuildingID: b.ID, Label: in.Body.Label, Floor: in.Body.Floor}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateUnits(ctx, []*doorman.Unit{u}); err != nil {
		return nil, err
	}
	return ok(u), nil
}

type listUnitsInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listUnits(ctx context.Context, in *listUnitsInput) (*output[Page[*doorman.Unit]], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListUnits(ctx, b.ID, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

type unitIDInput struct {
	BuildingIDParam
	UnitID string `path:"unit_id" maxLength:"64" doc:"A unit ID (unt_…)."`
}

// unit returns a unit of a building the caller manages.
func (s *Server) unit(ctx context.Context, in *unitIDInput) (*doorman.Unit, error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(in.UnitID, doorman.PrefixUnit) {
		return nil, notFound("Unit")
	}
	u, err := s.store.Unit(ctx, b.ID, in.UnitID)
	return u, scoped(err, "Unit")
}

func (s *Server) getUnit(ctx context.Context, in *unitIDInput) (*output[*doorman.Unit], error) {
	u, err := s.unit(ctx, in)
	if err != nil {
		return nil, err
	}
	return ok(u), nil
}

func (s *Server) deleteUnit(ctx context.Context, in *unitIDInput) (*noContent, error) {
	u, err := s.unit(ctx, in)
	if err != nil {
		return nil, err
	}
	return nil, scoped(s.store.DeleteUnit(ctx, u.BuildingID, u.ID), "Unit")
}
