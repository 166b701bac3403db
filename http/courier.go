package http

import (
	"context"
	"fmt"
	"time"

	"github.com/doorman-dev/doorman"
)

type accessRequestInput struct {
	IdempotencyHeader
	Body struct {
		DoorID          string            `json:"door_id" maxLength:"64" doc:"The door (dor_…) the courier stands at."`
		TrackingNumbers []string          `json:"tracking_numbers" minItems:"1" maxItems:"50" nullable:"false" doc:"Tracking numbers of the parcels scanned at the door."`
		Position        *doorman.Position `json:"position,omitempty" doc:"Where the courier's device says it is."`
	}
}

func (s *Server) requestAccess(ctx context.Context, in *accessRequestInput) (*output[*doorman.AccessResult], error) {
	p := caller(ctx)
	b := in.Body
	if !doorman.HasPrefix(b.DoorID, doorman.PrefixDoor) {
		return nil, invalidField("body.door_id", "Unknown door_id.")
	}
	seen := make(map[string]bool, len(b.TrackingNumbers))
	tracking := make([]string, 0, len(b.TrackingNumbers))
	for i, tn := range b.TrackingNumbers {
		if !doorman.ValidTrackingNumber(tn) {
			return nil, invalidField(fmt.Sprintf("body.tracking_numbers[%d]", i), "Tracking numbers are 1 to 64 printable characters without spaces.")
		}
		if !seen[tn] { // a parcel scanned twice is still one parcel
			seen[tn] = true
			tracking = append(tracking, tn)
		}
	}
	if b.Position != nil && !doorman.ValidPosition(b.Position.Latitude, b.Position.Longitude) {
		return nil, invalidField("body.position", "Latitude must be within ±90 and longitude within ±180.")
	}
	res, err := s.access.RequestAccess(ctx, doorman.AccessRequest{
		CourierID:       p.SubjectID,
		DoorID:          b.DoorID,
		TrackingNumbers: tracking,
		Position:        b.Position,
	})
	if err != nil {
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			return nil, invalidField("body.door_id", "Unknown door_id.")
		}
		return nil, err
	}
	return ok(res), nil
}

// CourierParcel is a parcel as its courier sees it: where it goes, down to
// the unit label, and nothing about who lives there.
type CourierParcel struct {
	TrackingNumber string          `json:"tracking_number"`
	Status         string          `json:"status" enum:"manifested,out_for_delivery,delivered,returned,cancelled"`
	Building       CourierBuilding `json:"building"`
	UnitLabel      string          `json:"unit_label" example:"4B"`
	Floor          string          `json:"floor,omitempty"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
}

// CourierBuilding is what a courier needs to know of a building.
type CourierBuilding struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
}

type listCourierParcelsInput struct {
	PageParams
	Status string `query:"status" enum:"manifested,out_for_delivery,delivered,returned,cancelled" doc:"Only parcels in this status."`
}

func (s *Server) listCourierParcels(ctx context.Context, in *listCourierParcelsInput) (*output[Page[CourierParcel]], error) {
	p := caller(ctx)
	parcels, next, err := s.store.ListParcels(ctx, doorman.ParcelFilter{CarrierID: p.CarrierID, CourierID: p.SubjectID, Status: in.Status}, in.page())
	if err != nil {
		return nil, err
	}
	v := s.newCourierView()
	items := make([]CourierParcel, 0, len(parcels))
	for _, pa := range parcels {
		cp, err := v.parcel(ctx, pa)
		if err != nil {
			return nil, err
		}
		items = append(items, cp)
	}
	return pageOf(items, next), nil
}

type deliverParcelInput struct {
	IdempotencyHeader
	TrackingNumber string `path:"tracking_number" minLength:"1" maxLength:"64" doc:"The tracking number of a parcel assigned to the caller."`
}

func (s *Server) deliverParcel(ctx context.Context, in *deliverParcelInput) (*output[CourierParcel], error) {
	p := caller(ctx)
	pa, err := s.store.ParcelByTracking(ctx, p.CarrierID, in.TrackingNumber)
	if err != nil {
		return nil, scoped(err, "Parcel")
	} else if pa.CourierID != p.SubjectID {
		return nil, notFound("Parcel")
	}
	if err := doorman.CanTransition(pa.Status, doorman.ParcelDelivered); err != nil {
		return nil, err
	}
	pa, err = s.store.SetParcelStatus(ctx, p.CarrierID, pa.TrackingNumber, doorman.ParcelDelivered, "")
	if err != nil {
		return nil, scoped(err, "Parcel")
	}
	cp, err := s.newCourierView().parcel(ctx, pa)
	if err != nil {
		return nil, err
	}
	return ok(cp), nil
}

// courierView turns parcels into CourierParcels, looking each building and
// unit up once.
type courierView struct {
	s         *Server
	buildings map[string]*doorman.Building
	units     map[string]*doorman.Unit
}

func (s *Server) newCourierView() *courierView {
	return &courierView{s: s, buildings: map[string]*doorman.Building{}, units: map[string]*doorman.Unit{}}
}

func (v *courierView) parcel(ctx context.Context, p *doorman.Parcel) (CourierParcel, error) {
	b, ok := v.buildings[p.BuildingID]
	if !ok {
		var err error
		if b, err = v.s.store.Building(ctx, p.BuildingID); err != nil {
			return CourierParcel{}, err
		}
		v.buildings[p.BuildingID] = b
	}
	u, ok := v.units[p.UnitID]
	if !ok {
		var err error
		if u, err = v.s.store.Unit(ctx, p.BuildingID, p.UnitID); err != nil {
			return CourierParcel{}, err
		}
		v.units[p.UnitID] = u
	}
	return CourierParcel{
		TrackingNumber: p.TrackingNumber,
		Status:         p.Status,
		Building:       CourierBuilding{ID: b.ID, Name: b.Name, Address: b.Address},
		UnitLabel:      u.Label,
		Floor:          u.Floor,
		DeliveredAt:    p.DeliveredAt,
	}, nil
}
