package app

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
)

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

// CourierParcels lists the calling courier's assigned parcels, optionally
// in one status.
func (s *Carriers) CourierParcels(ctx context.Context, status string, page doorman.Page) ([]CourierParcel, string, error) {
	p, err := require(ctx, couriersOnly)
	if err != nil {
		return nil, "", err
	}
	parcels, next, err := s.store.ListParcels(ctx, doorman.ParcelFilter{CarrierID: p.CarrierID, CourierID: p.SubjectID, Status: status}, page.Normalize())
	if err != nil {
		return nil, "", err
	}
	v := s.newCourierView()
	items := make([]CourierParcel, 0, len(parcels))
	for _, pa := range parcels {
		cp, err := v.parcel(ctx, pa)
		if err != nil {
			return nil, "", err
		}
		items = append(items, cp)
	}
	return items, next, nil
}

// DeliverParcel marks a parcel assigned to the calling courier delivered.
// A parcel must be out for delivery; one already delivered is ECONFLICT
// with reason parcel_already_delivered (a retry that must be safe uses an
// Idempotency-Key, which replays the first answer). Delivery is not tied
// to an entry: a courier refused at the door may still hand the parcel to
// the resident or the concierge, and the audit log shows both the refusal
// and the delivery. Returns ENOTFOUND (not the caller's parcel),
// ECONFLICT.
func (s *Carriers) DeliverParcel(ctx context.Context, tracking string) (*CourierParcel, error) {
	return s.DeliverParcelWithNote(ctx, tracking, "")
}

// courierView turns parcels into CourierParcels, looking each building and
// unit up once.
type courierView struct {
	store     CarrierStore
	buildings map[string]*doorman.Building
	units     map[string]*doorman.Unit
}

func (s *Carriers) newCourierView() *courierView {
	return &courierView{store: s.store, buildings: map[string]*doorman.Building{}, units: map[string]*doorman.Unit{}}
}

func (v *courierView) parcel(ctx context.Context, p *doorman.Parcel) (CourierParcel, error) {
	b, ok := v.buildings[p.BuildingID]
	if !ok {
		var err error
		if b, err = v.store.Building(ctx, p.BuildingID); err != nil {
			return CourierParcel{}, err
		}
		v.buildings[p.BuildingID] = b
	}
	u, ok := v.units[p.UnitID]
	if !ok {
		var err error
		if u, err = v.store.Unit(ctx, p.BuildingID, p.UnitID); err != nil {
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
