package http

import (
	"context"

	"github.com/doorman-dev/doorman"
)

// Door is a door as the API shows it: what is stored, and whether its
// device is online now, computed from last_seen_at on every answer.
type Door struct {
	doorman.Door
	Online bool `json:"online" doc:"Whether the door's device reported within the last 150 seconds (devices send a heartbeat every minute); see last_seen_at."`
}

// doorView returns the API view of d.
func (s *Server) doorView(d *doorman.Door) Door {
	return Door{Door: *d, Online: d.Online(s.now())}
}

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

func (s *Server) createDoor(ctx context.Context, in *createDoorInput) (*output[Door], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	d := &doorman.Door{
		BuildingID:  b.ID,
		Name:        in.Body.Name,
		PulseMillis: in.Body.PulseMillis,
		Latitude:    in.Body.Latitude,
		Longitude:   in.Body.Longitude,
	}
	if d.PulseMillis == 0 {
		d.PulseMillis = doorman.DefaultPulseMillis
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateDoor(ctx, d); err != nil {
		return nil, scoped(err, "Building")
	}
	return ok(s.doorView(d)), nil
}

type listDoorsInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listDoors(ctx context.Context, in *listDoorsInput) (*output[Page[Door]], error) {
	b, err := s.building(ctx, in.BuildingID, readBuilding)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListDoors(ctx, b.ID, in.page())
	if err != nil {
		return nil, err
	}
	views := make([]Door, len(items))
	for i, d := range items {
		views[i] = s.doorView(d)
	}
	return pageOf(views, next), nil
}

type DoorIDInput struct {
	BuildingIDParam
	DoorID string `path:"door_id" maxLength:"64" doc:"A door ID (dor_…)."`
}

func (s *Server) getDoor(ctx context.Context, in *DoorIDInput) (*output[Door], error) {
	d, err := s.door(ctx, in.BuildingID, in.DoorID, readBuilding)
	if err != nil {
		return nil, err
	}
	return ok(s.doorView(d)), nil
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

func (s *Server) updateDoor(ctx context.Context, in *updateDoorInput) (*output[Door], error) {
	d, err := s.door(ctx, in.BuildingID, in.DoorID, manageBuilding)
	if err != nil {
		return nil, err
	}
	body := in.Body
	next := *d
	if body.Name != nil {
		next.Name = *body.Name
	}
	if body.PulseMillis != nil {
		next.PulseMillis = *body.PulseMillis
	}
	if body.Latitude.Set {
		next.Latitude = body.Latitude.Value
	}
	if body.Longitude.Set {
		next.Longitude = body.Longitude.Value
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	return s.updateDoorWith(ctx, d.ID, doorman.DoorUpdate{
		Name:        body.Name,
		PulseMillis: body.PulseMillis,
		Latitude:    body.Latitude.Ptr(),
		Longitude:   body.Longitude.Ptr(),
	})
}

func (s *Server) startLockdown(ctx context.Context, in *DoorIDInput) (*output[Door], error) {
	return s.setLockdown(ctx, in, true)
}

func (s *Server) endLockdown(ctx context.Context, in *DoorIDInput) (*output[Door], error) {
	return s.setLockdown(ctx, in, false)
}

func (s *Server) setLockdown(ctx context.Context, in *DoorIDInput, on bool) (*output[Door], error) {
	d, err := s.door(ctx, in.BuildingID, in.DoorID, manageBuilding)
	if err != nil {
		return nil, err
	}
	return s.updateDoorWith(ctx, d.ID, doorman.DoorUpdate{LockedDown: &on})
}

func (s *Server) updateDoorWith(ctx context.Context, id string, upd doorman.DoorUpdate) (*output[Door], error) {
	d, err := s.store.UpdateDoor(ctx, id, upd)
	if err != nil {
		return nil, scoped(err, "Door")
	}
	return ok(s.doorView(d)), nil
}
