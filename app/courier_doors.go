package app

import (
	"context"
	"sort"

	"github.com/doorman-dev/doorman"
)

// courierDoorStore is what the courier's door and delivery-note use cases
// use of the store besides CarrierStore.
type courierDoorStore interface {
	ListDoors(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Door, string, error)
	doorman.DeliveryNoteStore
	doorman.DeliveryPhotoStore
	DeliverParcel(ctx context.Context, carrierID, tracking, note string) (*doorman.Parcel, error)
}

// CourierDoor is a door as a courier sees it: its name, its building and
// when the building takes deliveries, nothing of its status or device.
type CourierDoor struct {
	ID       string
	Name     string
	Building CourierBuilding
	// Timezone and DeliveryHours are the building's: when couriers are let
	// in (nil: at any hour).
	Timezone      string
	DeliveryHours *doorman.WeeklyHours
}

// courierDoorParcels bounds how many of its parcels a courier's door list
// looks at.
const courierDoorParcels = doorman.MaxPageLimit

// CourierDoors lists the doors of the buildings the calling courier has
// parcels out for delivery to, sorted by building and door name. A
// building that does not allow the courier's carrier is left out, as if
// it had no doors.
func (s *Carriers) CourierDoors(ctx context.Context) ([]CourierDoor, error) {
	p, err := require(ctx, couriersOnly)
	if err != nil {
		return nil, err
	}
	parcels, _, err := s.store.ListParcels(ctx, doorman.ParcelFilter{CarrierID: p.CarrierID, CourierID: p.SubjectID,
		Status: doorman.ParcelOutForDelivery}, doorman.Page{Limit: courierDoorParcels})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	doors := []CourierDoor{}
	for _, pa := range parcels {
		if seen[pa.BuildingID] {
			continue
		}
		seen[pa.BuildingID] = true
		if ok, err := s.store.CarrierAllowed(ctx, pa.BuildingID, p.CarrierID); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		b, err := s.store.Building(ctx, pa.BuildingID)
		if err != nil {
			return nil, err
		}
		list, _, err := s.store.ListDoors(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			doors = append(doors, CourierDoor{ID: d.ID, Name: d.Name, Building: CourierBuilding{ID: b.ID, Name: b.Name, Address: b.Address},
				Timezone: b.Timezone, DeliveryHours: b.DeliveryHours})
		}
	}
	sort.SliceStable(doors, func(i, j int) bool {
		if doors[i].Building.Name != doors[j].Building.Name {
			return doors[i].Building.Name < doors[j].Building.Name
		}
		return doors[i].Name < doors[j].Name
	})
	return doors, nil
}

// CourierDoor returns a door for the calling courier, named by the QR
// sticker at it. A door of a building that does not allow the courier's
// carrier is answered exactly like one that does not exist: ENOTFOUND.
func (s *Carriers) CourierDoor(ctx context.Context, doorID string) (*CourierDoor, error) {
	p, err := require(ctx, couriersOnly)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(doorID, doorman.PrefixDoor) {
		return nil, notFound("Door")
	}
	d, err := s.store.Door(ctx, doorID)
	if err != nil {
		return nil, scoped(err, "Door")
	}
	if ok, err := s.store.CarrierAllowed(ctx, d.BuildingID, p.CarrierID); err != nil {
		return nil, scoped(err, "Door")
	} else if !ok {
		return nil, notFound("Door")
	}
	b, err := s.store.Building(ctx, d.BuildingID)
	if err != nil {
		return nil, scoped(err, "Door")
	}
	return &CourierDoor{ID: d.ID, Name: d.Name, Building: CourierBuilding{ID: b.ID, Name: b.Name, Address: b.Address},
		Timezone: b.Timezone, DeliveryHours: b.DeliveryHours}, nil
}

// DeliverParcelWithNote is DeliverParcel with a note of where the parcel
// was left (doorman.CleanDeliveryNote; "" for none), kept for the
// resident and the building's manager. The note is written in the same
// store write as the delivery and its audit entry, so the delivery notice
// produced from that entry always finds it. A note that is not valid is
// refused before anything is written (EINVALID). Returns what
// DeliverParcel returns.
func (s *Carriers) DeliverParcelWithNote(ctx context.Context, tracking, note string) (*CourierParcel, error) {
	return s.DeliverParcelWithPhoto(ctx, tracking, note, nil)
}

// DeliverParcelWithPhoto is DeliverParcelWithNote with a photo of where
// the parcel was left (nil: none). The photo's type is found from its
// bytes (doorman.SniffDeliveryPhoto); anything but a JPEG, PNG or WebP
// image, or one over doorman.MaxDeliveryPhotoBytes, is EINVALID and
// nothing is changed. The photo is stored before the parcel is marked
// delivered, so the delivery notice knows of it. Returns ENOTFOUND (not
// the caller's parcel), ECONFLICT, EINVALID.
func (s *Carriers) DeliverParcelWithPhoto(ctx context.Context, tracking, note string, photo []byte) (*CourierParcel, error) {
	p, err := require(ctx, couriersOnly)
	if err != nil {
		return nil, err
	}
	if note, err = doorman.CleanDeliveryNote(note); err != nil {
		return nil, err
	}
	var contentType string
	if photo != nil {
		if contentType, err = doorman.SniffDeliveryPhoto(photo); err != nil {
			return nil, err
		}
	}
	pa, err := s.store.ParcelByTracking(ctx, p.CarrierID, tracking)
	if err != nil {
		return nil, scoped(err, "Parcel")
	} else if pa.CourierID != p.SubjectID {
		return nil, notFound("Parcel")
	}
	if photo != nil && pa.Status == doorman.ParcelOutForDelivery {
		if err := s.store.PutDeliveryPhoto(ctx, &doorman.DeliveryPhoto{ParcelID: pa.ID, BuildingID: pa.BuildingID,
			UnitID: pa.UnitID, ContentType: contentType, Data: photo}); err != nil {
			return nil, scoped(err, "Parcel")
		}
	}
	if pa, err = s.store.DeliverParcel(ctx, p.CarrierID, pa.TrackingNumber, note); err != nil {
		return nil, scoped(err, "Parcel")
	}
	cp, err := s.newCourierView().parcel(ctx, pa)
	if err != nil {
		return nil, err
	}
	return &cp, nil
}

// DeliveryNotes returns where couriers left those of the building's
// parcels that have a note, by parcel ID (operators; managers of the
// building). Parcels of other buildings are left out. Returns ENOTFOUND
// for a building outside the caller's scope.
func (s *Carriers) DeliveryNotes(ctx context.Context, buildingID string, parcelIDs []string) (map[string]string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	return s.store.DeliveryNotes(ctx, b.ID, parcelIDs)
}

// DeliveryPhoto returns the photo taken when the parcel was delivered
// (operators; managers of the building). Returns ENOTFOUND for a
// building outside the caller's scope, a parcel of another building, or
// a parcel without a photo, alike.
func (s *Carriers) DeliveryPhoto(ctx context.Context, buildingID, parcelID string) (*doorman.DeliveryPhoto, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	ph, err := s.store.DeliveryPhoto(ctx, parcelID)
	if err != nil {
		return nil, scoped(err, "Photo")
	} else if ph.BuildingID != b.ID {
		return nil, notFound("Photo")
	}
	return ph, nil
}
