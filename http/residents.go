package http

import (
	"context"

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
	r := &doorman.Resident{BuildingID: in.BuildingID, UnitID: in.Body.UnitID, Name: in.Body.Name, Email: in.Body.Email}
	if err := s.app.Buildings.CreateResident(ctx, r); err != nil {
		return nil, err
	}
	return ok(r), nil
}

type listResidentsInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listResidents(ctx context.Context, in *listResidentsInput) (*output[Page[*doorman.Resident]], error) {
	return page(s.app.Buildings.ListResidents(ctx, in.BuildingID, in.page()))
}

type deleteResidentInput struct {
	BuildingIDParam
	ResidentID string `path:"resident_id" maxLength:"64" doc:"A resident ID (res_…)."`
}

func (s *Server) deleteResident(ctx context.Context, in *deleteResidentInput) (*noContent, error) {
	return nil, s.app.Buildings.DeleteResident(ctx, in.BuildingID, in.ResidentID)
}
