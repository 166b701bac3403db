package http

import (
	"context"
	"fmt"

	"github.com/doorman-dev/doorman"
)

type manifestInput struct {
	CarrierIDParam
	IdempotencyHeader
	Body struct {
		Parcels []doorman.ParcelInput `json:"parcels" minItems:"1" maxItems:"1000" nullable:"false" doc:"The parcels to create or update, by tracking number."`
	}
}

// ManifestResult is the answer of an applied manifest.
type ManifestResult struct {
	Created   int                    `json:"created"`
	Updated   int                    `json:"updated"`
	Unchanged int                    `json:"unchanged"`
	Results   []doorman.ParcelResult `json:"results" nullable:"false" doc:"One result per submitted parcel, in order."`
}

func (s *Server) uploadManifest(ctx context.Context, in *manifestInput) (*output[ManifestResult], error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	results, err := s.store.UpsertParcels(ctx, c.ID, in.Body.Parcels)
	if doorman.ErrorCode(err) == doorman.EINVALID && len(results) > 0 {
		return nil, manifestProblem(err, results)
	} else if err != nil {
		return nil, err
	}
	out := ManifestResult{Results: results}
	for _, r := range results {
		switch r.Result {
		case "created":
			out.Created++
		case "updated":
			out.Updated++
		case "unchanged":
			out.Unchanged++
		}
	}
	if out.Results == nil {
		out.Results = []doorman.ParcelResult{}
	}
	return ok(out), nil
}

// manifestProblem is the 422 answer of a rejected manifest, listing each
// bad item; nothing was written.
func manifestProblem(err error, results []doorman.ParcelResult) *Problem {
	var items []*ProblemItem
	for _, r := range results {
		if r.Result != "error" {
			continue
		}
		i := r.Index
		code := r.ErrorCode
		if code == "" {
			code = doorman.EINVALID
		}
		items = append(items, &ProblemItem{
			Location: fmt.Sprintf("body.parcels[%d]", i),
			Index:    &i,
			Message:  r.Error,
			Code:     code,
			Value:    r.TrackingNumber,
		})
	}
	detail := fmt.Sprintf("%d of %d parcels are not valid; nothing was written.", len(items), len(results))
	if len(items) == 0 {
		detail = doorman.ErrorMessage(err)
	}
	p := problemf(doorman.EINVALID, "%s", detail)
	p.Errors = items
	return p
}

type listCarrierParcelsInput struct {
	CarrierIDParam
	PageParams
	Status            string `query:"status" enum:"manifested,out_for_delivery,delivered,returned,cancelled" doc:"Only parcels in this status."`
	BuildingID        string `query:"building_id" maxLength:"64" doc:"Only parcels for this building."`
	CourierExternalID string `query:"courier_external_id" maxLength:"128" doc:"Only parcels assigned to this courier."`
}

func (s *Server) listCarrierParcels(ctx context.Context, in *listCarrierParcelsInput) (*output[Page[*doorman.Parcel]], error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	f := doorman.ParcelFilter{CarrierID: c.ID, BuildingID: in.BuildingID, Status: in.Status}
	if in.CourierExternalID != "" {
		co, err := s.store.CourierByExternalID(ctx, c.ID, in.CourierExternalID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			return pageOf[*doorman.Parcel](nil, ""), nil
		} else if err != nil {
			return nil, err
		}
		f.CourierID = co.ID
	}
	items, next, err := s.store.ListParcels(ctx, f, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

type ParcelParam struct {
	CarrierIDParam
	TrackingNumber string `path:"tracking_number" minLength:"1" maxLength:"64" doc:"The carrier's tracking number."`
}

func (s *Server) getCarrierParcel(ctx context.Context, in *ParcelParam) (*output[*doorman.Parcel], error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	p, err := s.store.ParcelByTracking(ctx, c.ID, in.TrackingNumber)
	if err != nil {
		return nil, scoped(err, "Parcel")
	}
	return ok(p), nil
}

type updateCarrierParcelInput struct {
	ParcelParam
	Body struct {
		Status            string `json:"status,omitempty" enum:"manifested,out_for_delivery,delivered,returned,cancelled" doc:"The new status; transitions are checked."`
		CourierExternalID string `json:"courier_external_id,omitempty" maxLength:"128" doc:"Assign the parcel to this courier."`
	}
}

func (s *Server) updateCarrierParcel(ctx context.Context, in *updateCarrierParcelInput) (*output[*doorman.Parcel], error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	if in.Body.Status == "" && in.Body.CourierExternalID == "" {
		return nil, invalidField("body", "Give a status, a courier_external_id, or both.")
	}
	p, err := s.store.ParcelByTracking(ctx, c.ID, in.TrackingNumber)
	if err != nil {
		return nil, scoped(err, "Parcel")
	}
	status := in.Body.Status
	if status == "" {
		status = p.Status
	}
	var courierID string
	if in.Body.CourierExternalID != "" {
		co, err := s.store.CourierByExternalID(ctx, c.ID, in.Body.CourierExternalID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			return nil, invalidField("body.courier_external_id", "Unknown courier_external_id.")
		} else if err != nil {
			return nil, err
		}
		courierID = co.ID
	}
	if err := doorman.CanTransition(p.Status, status); err != nil {
		return nil, err
	}
	updated, err := s.store.SetParcelStatus(ctx, c.ID, p.TrackingNumber, status, courierID)
	if err != nil {
		return nil, scoped(err, "Parcel")
	}
	return ok(updated), nil
}
