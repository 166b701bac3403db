package http

import (
	"context"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
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
	if err := s.app.Buildings.CreateBuilding(ctx, b); err != nil {
		return nil, err
	}
	return ok(b), nil
}

func (s *Server) listBuildings(ctx context.Context, in *PageParams) (*output[Page[*doorman.Building]], error) {
	return page(s.app.Buildings.ListBuildings(ctx, in.page()))
}

func (s *Server) getBuilding(ctx context.Context, in *BuildingIDParam) (*output[*doorman.Building], error) {
	return answer(s.app.Buildings.Building(ctx, in.BuildingID))
}

type updateBuildingInput struct {
	BuildingIDParam
	Body struct {
		Name                *string                       `json:"name,omitempty" minLength:"1" maxLength:"200"`
		Address             *string                       `json:"address,omitempty" minLength:"1" maxLength:"500"`
		Timezone            *string                       `json:"timezone,omitempty" minLength:"1" maxLength:"64" example:"Europe/Berlin"`
		DeliveryHours       Optional[doorman.WeeklyHours] `json:"delivery_hours,omitzero" doc:"New delivery hours; null allows deliveries at any hour (or list delivery_hours in clear)."`
		MaxDistanceMeters   Optional[float64]             `json:"max_distance_meters,omitzero" minimum:"0" doc:"New radius; 0 or null turns the distance check off (or list max_distance_meters in clear)."`
		OfflineDeliveryDays *int                          `json:"offline_delivery_days,omitempty" doc:"How many days after its last time sync a door of the building still accepts offline grants (shown as a QR code to the door's reader when the door does not answer): 0 turns offline delivery off, 1 to 30 turn it on. Out of range is refused (422)."`
		Clear               []string                      `json:"clear,omitempty" nullable:"false" maxItems:"2" uniqueItems:"true" enum:"delivery_hours,max_distance_meters" doc:"Fields to reset: delivery_hours (deliveries at any hour) and max_distance_meters (no distance check). The same as sending them as null, for clients that cannot send null."`
	}
}

func (s *Server) updateBuilding(ctx context.Context, in *updateBuildingInput) (*output[*doorman.Building], error) {
	body := in.Body
	c := app.BuildingChange{Name: body.Name, Address: body.Address, Timezone: body.Timezone, Clear: body.Clear,
		DeliveryHours: body.DeliveryHours.Value, MaxDistanceMeters: body.MaxDistanceMeters.Value,
		OfflineDeliveryDays: body.OfflineDeliveryDays}
	if body.DeliveryHours.Set && body.DeliveryHours.Value == nil {
		c.Clear = append(c.Clear, app.FieldDeliveryHours)
	}
	if body.MaxDistanceMeters.Set && body.MaxDistanceMeters.Value == nil {
		c.Clear = append(c.Clear, app.FieldMaxDistanceMeters)
	}
	return answer(s.app.Buildings.UpdateBuilding(ctx, in.BuildingID, c))
}

type createInviteInput struct {
	BuildingIDParam
	IdempotencyHeader
	Body struct {
		Email string `json:"email" minLength:"3" maxLength:"254" format:"email" doc:"Who is invited to manage the building."`
	}
}

func (s *Server) createInvite(ctx context.Context, in *createInviteInput) (*output[*app.NewInvite], error) {
	return answer(s.app.Accounts.CreateInvite(ctx, in.BuildingID, in.Body.Email))
}

type listAllowedCarriersInput struct {
	BuildingIDParam
	PageParams
}

func (s *Server) listAllowedCarriers(ctx context.Context, in *listAllowedCarriersInput) (*output[Page[*doorman.Carrier]], error) {
	return page(s.app.Buildings.AllowedCarriers(ctx, in.BuildingID, in.page()))
}

type buildingCarrierInput struct {
	BuildingIDParam
	CarrierIDParam
}

func (s *Server) allowCarrier(ctx context.Context, in *buildingCarrierInput) (*noContent, error) {
	return nil, s.app.Buildings.AllowCarrier(ctx, in.BuildingID, in.CarrierID)
}

func (s *Server) disallowCarrier(ctx context.Context, in *buildingCarrierInput) (*noContent, error) {
	return nil, s.app.Buildings.DisallowCarrier(ctx, in.BuildingID, in.CarrierID)
}

type listBuildingParcelsInput struct {
	BuildingIDParam
	PageParams
	Status string `query:"status" enum:"manifested,out_for_delivery,delivered,returned,cancelled" doc:"Only parcels in this status."`
}

func (s *Server) listBuildingParcels(ctx context.Context, in *listBuildingParcelsInput) (*output[Page[*doorman.Parcel]], error) {
	return page(s.app.Buildings.BuildingParcels(ctx, in.BuildingID, in.Status, in.page()))
}
