package http

import (
	"context"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

type createDoorInput struct {
	BuildingIDParam
	IdempotencyHeader
	Body struct {
		Name        string   `json:"name" minLength:"1" maxLength:"200" example:"Front door"`
		PulseMillis int      `json:"pulse_millis,omitempty" minimum:"200" maximum:"15000" doc:"How long the strike is released per unlock; default 3000."`
		Latitude    *float64 `json:"latitude,omitempty" minimum:"-90" maximum:"90" doc:"Position of the door, for the building's max_distance_meters."`
		Longitude   *float64 `json:"longitude,omitempty" minimum:"-180" maximum:"180"`
	}
}

func (s *Server) createDoor(ctx context.Context, in *createDoorInput) (*output[*app.Door], error) {
	return answer(s.app.Buildings.CreateDoor(ctx, &doorman.Door{
		BuildingID:  in.BuildingID,
		Name:        in.Body.Name,
		PulseMillis: in.Body.PulseMillis,
		Latitude:    in.Body.Latitude,
		Longitude:   in.Body.Longitude,
	}))
}

type listDoorsInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listDoors(ctx context.Context, in *listDoorsInput) (*output[Page[*app.Door]], error) {
	return page(s.app.Buildings.ListDoors(ctx, in.BuildingID, in.page()))
}

type DoorIDInput struct {
	BuildingIDParam
	DoorID string `path:"door_id" maxLength:"64" doc:"A door ID (dor_…)."`
}

func (s *Server) getDoor(ctx context.Context, in *DoorIDInput) (*output[*app.Door], error) {
	return answer(s.app.Buildings.Door(ctx, in.BuildingID, in.DoorID))
}

type updateDoorInput struct {
	DoorIDInput
	Body struct {
		Name        *string           `json:"name,omitempty" minLength:"1" maxLength:"200"`
		PulseMillis *int              `json:"pulse_millis,omitempty" minimum:"200" maximum:"15000"`
		Latitude    Optional[float64] `json:"latitude,omitzero" minimum:"-90" maximum:"90" doc:"null (with longitude null) forgets the position."`
		Longitude   Optional[float64] `json:"longitude,omitzero" minimum:"-180" maximum:"180"`
	}
}

func (s *Server) updateDoor(ctx context.Context, in *updateDoorInput) (*output[*app.Door], error) {
	body := in.Body
	return answer(s.app.Buildings.UpdateDoor(ctx, in.BuildingID, in.DoorID, doorman.DoorUpdate{
		Name:        body.Name,
		PulseMillis: body.PulseMillis,
		Latitude:    body.Latitude.Ptr(),
		Longitude:   body.Longitude.Ptr(),
	}))
}

func (s *Server) startLockdown(ctx context.Context, in *DoorIDInput) (*output[*app.Door], error) {
	return answer(s.app.Buildings.SetLockdown(ctx, in.BuildingID, in.DoorID, true))
}

func (s *Server) endLockdown(ctx context.Context, in *DoorIDInput) (*output[*app.Door], error) {
	return answer(s.app.Buildings.SetLockdown(ctx, in.BuildingID, in.DoorID, false))
}

type offlineActivityInput struct {
	DoorIDInput
	PageParams
}

func (s *Server) offlineActivity(ctx context.Context, in *offlineActivityInput) (*output[Page[*app.OfflineEvent]], error) {
	return page(s.app.Buildings.OfflineActivity(ctx, in.BuildingID, in.DoorID, in.page()))
}
