package http

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

type accessRequestInput struct {
	IdempotencyHeader
	Body struct {
		DoorID          string            `json:"door_id" maxLength:"64" doc:"The door (dor_…) the courier stands at."`
		TrackingNumbers []string          `json:"tracking_numbers" minItems:"1" maxItems:"50" nullable:"false" doc:"Tracking numbers of the parcels scanned at the door."`
		Position        *doorman.Position `json:"position,omitempty" doc:"Where the courier's device says it is."`
	}
}

type accessResultOutput struct {
	RetryAfter string `header:"Retry-After" doc:"With a rate_limited refusal: seconds until the courier may ask again."`
	RateLimit  string `header:"RateLimit" doc:"With a rate_limited refusal: the IETF RateLimit header (remaining quota 0, seconds until reset)."`
	Body       *doorman.AccessResult
}

func (s *Server) requestAccess(ctx context.Context, in *accessRequestInput) (*accessResultOutput, error) {
	res, err := s.app.Access.RequestAccess(ctx, doorman.AccessRequest{
		DoorID:          in.Body.DoorID,
		TrackingNumbers: in.Body.TrackingNumbers,
		Position:        in.Body.Position,
	})
	if err != nil {
		return nil, err
	}
	out := &accessResultOutput{Body: res}
	if res.RetryAfter > 0 {
		secs := seconds(res.RetryAfter)
		out.RetryAfter = secs
		out.RateLimit = `"courier";r=0;t=` + secs
	}
	return out, nil
}

type listCourierParcelsInput struct {
	PageParams
	Status string `query:"status" enum:"manifested,out_for_delivery,delivered,returned,cancelled" doc:"Only parcels in this status."`
}

func (s *Server) listCourierParcels(ctx context.Context, in *listCourierParcelsInput) (*output[Page[app.CourierParcel]], error) {
	return page(s.app.Carriers.CourierParcels(ctx, in.Status, in.page()))
}

type deliverParcelInput struct {
	IdempotencyHeader
	TrackingNumber string             `path:"tracking_number" minLength:"1" maxLength:"64" doc:"The tracking number of a parcel assigned to the caller."`
	Body           *deliverParcelBody `required:"false"`
}

// deliverParcelBody is the optional body of a delivery.
type deliverParcelBody struct {
	Note string `json:"note,omitempty" maxLength:"200" doc:"Where the parcel was left (\"with the concierge\"), plain text, at most 200 characters; shown to the unit's residents and the building's manager, never to other couriers."`
}

func (s *Server) deliverParcel(ctx context.Context, in *deliverParcelInput) (*output[*app.CourierParcel], error) {
	var note string
	if in.Body != nil {
		note = in.Body.Note
	}
	return answer(s.app.Carriers.DeliverParcelWithNote(ctx, in.TrackingNumber, note))
}

// seconds formats a wait in whole seconds, rounded up and at least 1, as
// Retry-After wants it.
func seconds(d time.Duration) string {
	return itoa(max(1, int((d+time.Second-1)/time.Second)))
}
