package http

import (
	"context"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

type manifestInput struct {
	CarrierIDParam
	IdempotencyHeader
	Body struct {
		Parcels []doorman.ParcelInput `json:"parcels" minItems:"1" maxItems:"1000" nullable:"false" doc:"The parcels to create or update, by tracking number."`
	}
}

func (s *Server) uploadManifest(ctx context.Context, in *manifestInput) (*output[*app.ManifestResult], error) {
	return answer(s.app.Carriers.UploadManifest(ctx, in.CarrierID, in.Body.Parcels))
}

type listCarrierParcelsInput struct {
	CarrierIDParam
	PageParams
	Status            string `query:"status" enum:"manifested,out_for_delivery,delivered,returned,cancelled" doc:"Only parcels in this status."`
	BuildingID        string `query:"building_id" maxLength:"64" doc:"Only parcels for this building."`
	CourierExternalID string `query:"courier_external_id" maxLength:"128" doc:"Only parcels assigned to this courier."`
}

func (s *Server) listCarrierParcels(ctx context.Context, in *listCarrierParcelsInput) (*output[Page[*doorman.Parcel]], error) {
	q := app.ParcelQuery{Status: in.Status, BuildingID: in.BuildingID, CourierExternalID: in.CourierExternalID}
	return page(s.app.Carriers.CarrierParcels(ctx, in.CarrierID, q, in.page()))
}

type ParcelParam struct {
	CarrierIDParam
	TrackingNumber string `path:"tracking_number" minLength:"1" maxLength:"64" doc:"The carrier's tracking number."`
}

func (s *Server) getCarrierParcel(ctx context.Context, in *ParcelParam) (*output[*doorman.Parcel], error) {
	return answer(s.app.Carriers.CarrierParcel(ctx, in.CarrierID, in.TrackingNumber))
}

type updateCarrierParcelInput struct {
	ParcelParam
	Body struct {
		Status            string `json:"status,omitempty" enum:"manifested,out_for_delivery,delivered,returned,cancelled" doc:"The new status; transitions are checked."`
		CourierExternalID string `json:"courier_external_id,omitempty" maxLength:"128" doc:"Assign the parcel to this courier."`
	}
}

func (s *Server) updateCarrierParcel(ctx context.Context, in *updateCarrierParcelInput) (*output[*doorman.Parcel], error) {
	return answer(s.app.Carriers.UpdateParcel(ctx, in.CarrierID, in.TrackingNumber, in.Body.Status, in.Body.CourierExternalID))
}
