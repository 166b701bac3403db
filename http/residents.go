package http

import (
	"context"
	"strings"

	"github.com/doorman-dev/doorman"
)

type createResidentInput struct {
	BuildingIDParam
	IdempotencyHeader
	Body struct {
		UnitID string `json:"unit_id" maxLength:"64" doc:"The unit (unt_…) of this building the resident lives in."`
		Name   string `json:"name" minLength:"1" maxLength:"200"`
		Email  string `json:"email" minLength:"3" maxLength:"254" format:"email" doc:"Where delivery notices go."`
	}
}

func (s *Server) createResident(ctx context.Context, in *createResidentInput) (*output[*doorman.Resident], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	// A unit of another building is an invalid reference, not a way to
	// learn that it exists.
	if !doorman.HasPrefix(in.Body.UnitID, doorman.PrefixUnit) {
		return nil, invalidField("body.unit_id", "Unknown unit_id.")
	} else if _, err := s.store.Unit(ctx, b.ID, in.Body.UnitID); doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, invalidField("body.unit_id", "Unknown unit_id.")
	} else if err != nil {
		return nil, err
	}
	r := &doorman.Resident{
		BuildingID: b.ID,
		UnitID:     in.Body.UnitID,
		Name:       strings.TrimSpace(in.Body.Name),
		Email:      strings.TrimSpace(in.Body.Email),
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateResident(ctx, r); err != nil {
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			return nil, invalidField("body.unit_id", "Unknown unit_id.")
		}
		return nil, err
	}
	return ok(r), nil
}

type listResidentsInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listResidents(ctx context.Context, in *listResidentsInput) (*output[Page[*doorman.Resident]], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListResidents(ctx, b.ID, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

type deleteResidentInput struct {
	BuildingIDParam
	ResidentID string `path:"resident_id" maxLength:"64" doc:"A resident ID (res_…)."`
}

func (s *Server) deleteResident(ctx context.Context, in *deleteResidentInput) (*noContent, error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(in.ResidentID, doorman.PrefixResident) {
		return nil, notFound("Resident")
	}
	return nil, scoped(s.store.DeleteResident(ctx, b.ID, in.ResidentID), "Resident")
}
