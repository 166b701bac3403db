package http

import (
	"context"
	"sort"
	"strings"

	"github.com/doorman-dev/doorman"
)

type BuildingIDParam struct {
	BuildingID string `path:"building_id" maxLength:"64" doc:"A building ID (bld_…)."`
}

type createBuildingInput struct {
	IdempotencyHeader
	Body struct {
		Name              string               `json:"name" minLength:"1" maxLength:"200"`
		Address           string               `json:"address" minLength:"1" maxLength:"500"`
		Timezone          string               `json:"timezone" minLength:"1" maxLength:"64" example:"Europe/Berlin" doc:"IANA time zone the delivery hours are read in."`
		DeliveryHours     *doorman.WeeklyHours `json:"delivery_hours,omitempty" doc:"Local-time windows in which deliveries are allowed; leave out for any hour."`
		MaxDistanceMeters float64              `json:"max_distance_meters,omitempty" minimum:"0" doc:"When above 0, refuse access requests reported farther than this from the door."`
	}
}

func (s *Server) createBuilding(ctx context.Context, in *createBuildingInput) (*output[*doorman.Building], error) {
	b := &doorman.Building{
		Name:              in.Body.Name,
		Address:           in.Body.Address,
		Timezone:          in.Body.Timezone,
		DeliveryHours:     in.Body.DeliveryHours,
		MaxDistanceMeters: in.Body.MaxDistanceMeters,
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateBuilding(ctx, b); err != nil {
		return nil, err
	}
	return ok(b), nil
}

func (s *Server) listBuildings(ctx context.Context, in *PageParams) (*output[Page[*doorman.Building]], error) {
	p := caller(ctx)
	var (
		items []*doorman.Building
		next  string
		err   error
	)
	switch p.Role {
	case doorman.RoleOperator:
		items, next, err = s.store.ListBuildings(ctx, nil, in.page())
	case doorman.RoleManager:
		var ids []string
		if ids, err = s.managedBuildingIDs(ctx); err == nil {
			items, next, err = s.store.ListBuildings(ctx, ids, in.page())
		}
	case doorman.RoleCarrier:
		items, next, err = s.store.CarrierBuildings(ctx, p.CarrierID, in.page())
	}
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

func (s *Server) getBuilding(ctx context.Context, in *BuildingIDParam) (*output[*doorman.Building], error) {
	b, err := s.building(ctx, in.BuildingID, readBuilding)
	if err != nil {
		return nil, err
	}
	return ok(b), nil
}

type updateBuildingInput struct {
	BuildingIDParam
	Body struct {
		Name              *string                       `json:"name,omitempty" minLength:"1" maxLength:"200"`
		Address           *string                       `json:"address,omitempty" minLength:"1" maxLength:"500"`
		Timezone          *string                       `json:"timezone,omitempty" minLength:"1" maxLength:"64" example:"Europe/Berlin"`
		DeliveryHours     Optional[doorman.WeeklyHours] `json:"delivery_hours,omitzero" doc:"New delivery hours; null allows deliveries at any hour."`
		MaxDistanceMeters *float64                      `json:"max_distance_meters,omitempty" minimum:"0" doc:"0 turns the distance check off."`
	}
}

func (s *Server) updateBuilding(ctx context.Context, in *updateBuildingInput) (*output[*doorman.Building], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	body := in.Body
	// Validate the building as it would become, so that nothing is written
	// unless the whole change is acceptable.
	next := *b
	if body.Name != nil {
		next.Name = *body.Name
	}
	if body.Address != nil {
		next.Address = *body.Address
	}
	if body.Timezone != nil {
		next.Timezone = *body.Timezone
	}
	if body.DeliveryHours.Set {
		next.DeliveryHours = body.DeliveryHours.Value
	}
	if body.MaxDistanceMeters != nil {
		next.MaxDistanceMeters = *body.MaxDistanceMeters
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	updated, err := s.store.UpdateBuilding(ctx, b.ID, doorman.BuildingUpdate{
		Name:              body.Name,
		Address:           body.Address,
		Timezone:          body.Timezone,
		DeliveryHours:     body.DeliveryHours.Ptr(),
		MaxDistanceMeters: body.MaxDistanceMeters,
	})
	if err != nil {
		return nil, scoped(err, "Building")
	}
	return ok(updated), nil
}

type createInviteInput struct {
	BuildingIDParam
	IdempotencyHeader
	Body struct {
		Email string `json:"email" minLength:"3" maxLength:"254" format:"email" doc:"Who is invited to manage the building."`
	}
}

// NewInvite is an invitation just made, with its token shown once.
type NewInvite struct {
	Token  string                 `json:"token" doc:"The invitation token, to be passed to the invitee. It is shown only here."`
	Invite *doorman.ManagerInvite `json:"invite"`
}

func (s *Server) createInvite(ctx context.Context, in *createInviteInput) (*output[NewInvite], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	email := strings.TrimSpace(in.Body.Email)
	if !doorman.ValidEmail(email) {
		return nil, invalidField("body.email", "A valid email address is required.")
	}
	now := s.now()
	token, hash := doorman.NewToken(doorman.TokenInvite)
	inv := &doorman.ManagerInvite{
		ID:         doorman.NewID(doorman.PrefixInvite),
		BuildingID: b.ID,
		Email:      email,
		TokenHash:  hash,
		CreatedAt:  now,
		ExpiresAt:  now.Add(doorman.InviteTTL),
	}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return nil, scoped(err, "Building")
	}
	return ok(NewInvite{Token: token, Invite: inv}), nil
}

type listAllowedCarriersInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listAllowedCarriers(ctx context.Context, in *listAllowedCarriersInput) (*output[Page[*doorman.Carrier]], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	all, err := s.store.AllowedCarriers(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	items, next := paginate(all, in.page(), func(c *doorman.Carrier) string { return c.ID })
	return pageOf(items, next), nil
}

// paginate pages a complete list in memory, by ID like the stores do.
func paginate[T any](all []T, p doorman.Page, id func(T) string) ([]T, string) {
	sort.Slice(all, func(i, j int) bool { return id(all[i]) < id(all[j]) })
	start := sort.Search(len(all), func(i int) bool { return id(all[i]) > p.After })
	all = all[start:]
	if len(all) <= p.Limit {
		return all, ""
	}
	return all[:p.Limit], id(all[p.Limit-1])
}

type buildingCarrierInput struct {
	BuildingIDParam
	CarrierIDParam
}

func (s *Server) allowCarrier(ctx context.Context, in *buildingCarrierInput) (*noContent, error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	c, err := s.carrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	return nil, scoped(s.store.AllowCarrier(ctx, b.ID, c.ID), "Carrier")
}

func (s *Server) disallowCarrier(ctx context.Context, in *buildingCarrierInput) (*noContent, error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(in.CarrierID, doorman.PrefixCarrier) {
		return nil, notFound("Carrier")
	}
	return nil, scoped(s.store.DisallowCarrier(ctx, b.ID, in.CarrierID), "Carrier")
}

type listBuildingParcelsInput struct {
	BuildingIDParam
	PageParams
	Status string `query:"status" enum:"manifested,out_for_delivery,delivered,returned,cancelled" doc:"Only parcels in this status."`
}

func (s *Server) listBuildingParcels(ctx context.Context, in *listBuildingParcelsInput) (*output[Page[*doorman.Parcel]], error) {
	b, err := s.building(ctx, in.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListParcels(ctx, doorman.ParcelFilter{BuildingID: b.ID, Status: in.Status}, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}
