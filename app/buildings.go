package app

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// BuildingStore is what the Buildings service uses of the store.
type BuildingStore interface {
	scopeStore
	CreateBuilding(ctx context.Context, b *doorman.Building) error
	ListBuildings(ctx context.Context, ids []string, p doorman.Page) ([]*doorman.Building, string, error)
	CarrierBuildings(ctx context.Context, carrierID string, p doorman.Page) ([]*doorman.Building, string, error)
	UpdateBuilding(ctx context.Context, id string, upd doorman.BuildingUpdate) (*doorman.Building, error)
	AllowCarrier(ctx context.Context, buildingID, carrierID string) error
	DisallowCarrier(ctx context.Context, buildingID, carrierID string) error
	AllowedCarriers(ctx context.Context, buildingID string) ([]*doorman.Carrier, error)
	ListParcels(ctx context.Context, f doorman.ParcelFilter, p doorman.Page) ([]*doorman.Parcel, string, error)

	CreateUnits(ctx context.Context, units []*doorman.Unit) error
	Unit(ctx context.Context, buildingID, id string) (*doorman.Unit, error)
	ListUnits(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Unit, string, error)
	DeleteUnit(ctx context.Context, buildingID, id string) error

	CreateResident(ctx context.Context, r *doorman.Resident) error
	ListResidents(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Resident, string, error)
	DeleteResident(ctx context.Context, buildingID, id string) error

	CreateDoor(ctx context.Context, d *doorman.Door) error
	ListDoors(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Door, string, error)
	UpdateDoor(ctx context.Context, id string, upd doorman.DoorUpdate) (*doorman.Door, error)
	OfflineActivity(ctx context.Context, doorID string, p doorman.Page) ([]*doorman.DeviceEvent, string, error)

	ListAudit(ctx context.Context, f doorman.AuditFilter, p doorman.Page) ([]*doorman.AuditEntry, string, error)
}

// Buildings runs the use cases of buildings, their units, residents,
// doors and allowed carriers.
type Buildings struct {
	scope
	store BuildingStore
	now   func() time.Time
}

// NewBuildings returns the Buildings service over store; now is the clock
// door status is computed with (time.Now when nil).
func NewBuildings(store BuildingStore, now func() time.Time) *Buildings {
	if now == nil {
		now = time.Now
	}
	return &Buildings{scope: scope{store}, store: store, now: now}
}

// CreateBuilding creates b (operators only). Returns EINVALID.
func (s *Buildings) CreateBuilding(ctx context.Context, b *doorman.Building) error {
	if _, err := require(ctx, operators); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return err
	}
	return s.store.CreateBuilding(ctx, b)
}

// ListBuildings lists the buildings the caller may see: operators every
// building, managers those they manage, carriers those that allow them.
func (s *Buildings) ListBuildings(ctx context.Context, page doorman.Page) ([]*doorman.Building, string, error) {
	p, err := require(ctx, buildingReader)
	if err != nil {
		return nil, "", err
	}
	switch p.Role {
	case doorman.RoleManager:
		ids, err := s.managedBuildingIDs(ctx)
		if err != nil {
			return nil, "", err
		}
		return s.store.ListBuildings(ctx, ids, page.Normalize())
	case doorman.RoleCarrier:
		return s.store.CarrierBuildings(ctx, p.CarrierID, page.Normalize())
	}
	return s.store.ListBuildings(ctx, nil, page.Normalize())
}

// Building returns a building the caller may see. Returns ENOTFOUND.
func (s *Buildings) Building(ctx context.Context, id string) (*doorman.Building, error) {
	if _, err := require(ctx, buildingReader); err != nil {
		return nil, err
	}
	return s.building(ctx, id, readBuilding)
}

// BuildingChange changes the fields that are set. Clear lists fields to
// reset: "delivery_hours" (deliveries at any hour) and
// "max_distance_meters" (no distance check).
type BuildingChange struct {
	Name              *string
	Address           *string
	Timezone          *string
	DeliveryHours     *doorman.WeeklyHours
	MaxDistanceMeters *float64
	// OfflineDeliveryDays sets the building's offline window: 0 turns
	// offline delivery off, 1 to doorman.MaxOfflineDeliveryDays days
	// turns it on.
	OfflineDeliveryDays *int
	Clear               []string
}

// Fields a BuildingChange can clear.
const (
	FieldDeliveryHours     = "delivery_hours"
	FieldMaxDistanceMeters = "max_distance_meters"
)

// UpdateBuilding applies a change to a building the caller manages, after
// checking the building as it would become: nothing is written unless the
// whole change is acceptable. Returns ENOTFOUND or EINVALID.
func (s *Buildings) UpdateBuilding(ctx context.Context, id string, c BuildingChange) (*doorman.Building, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, id, manageBuilding)
	if err != nil {
		return nil, err
	}
	upd := doorman.BuildingUpdate{Name: c.Name, Address: c.Address, Timezone: c.Timezone, MaxDistanceMeters: c.MaxDistanceMeters,
		OfflineDeliveryDays: c.OfflineDeliveryDays}
	if c.DeliveryHours != nil {
		upd.DeliveryHours = &c.DeliveryHours
	}
	for _, f := range c.Clear {
		switch f {
		case FieldDeliveryHours:
			if c.DeliveryHours != nil {
				return nil, doorman.InvalidField("body.clear", "delivery_hours cannot be both set and cleared.")
			}
			var none *doorman.WeeklyHours
			upd.DeliveryHours = &none
		case FieldMaxDistanceMeters:
			if c.MaxDistanceMeters != nil {
				return nil, doorman.InvalidField("body.clear", "max_distance_meters cannot be both set and cleared.")
			}
			zero := 0.0
			upd.MaxDistanceMeters = &zero
		default:
			return nil, doorman.InvalidField("body.clear", "Only delivery_hours and max_distance_meters can be cleared, not %q.", f)
		}
	}
	next := *b
	if upd.Name != nil {
		next.Name = *upd.Name
	}
	if upd.Address != nil {
		next.Address = *upd.Address
	}
	if upd.Timezone != nil {
		next.Timezone = *upd.Timezone
	}
	if upd.DeliveryHours != nil {
		next.DeliveryHours = *upd.DeliveryHours
	}
	if upd.MaxDistanceMeters != nil {
		next.MaxDistanceMeters = *upd.MaxDistanceMeters
	}
	if upd.OfflineDeliveryDays != nil {
		next.OfflineDeliveryDays = *upd.OfflineDeliveryDays
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	updated, err := s.store.UpdateBuilding(ctx, b.ID, upd)
	return updated, scoped(err, "Building")
}

// AllowedCarriers lists the carriers a building the caller manages allows.
func (s *Buildings) AllowedCarriers(ctx context.Context, buildingID string, page doorman.Page) ([]*doorman.Carrier, string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, "", err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, "", err
	}
	all, err := s.store.AllowedCarriers(ctx, b.ID)
	if err != nil {
		return nil, "", err
	}
	items, next := paginate(all, page.Normalize(), func(c *doorman.Carrier) string { return c.ID })
	return items, next, nil
}

// AllowCarrier lets a carrier's couriers into a building the caller
// manages. Allowing an allowed carrier changes nothing. Returns ENOTFOUND.
func (s *Buildings) AllowCarrier(ctx context.Context, buildingID, carrierID string) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return err
	}
	c, err := s.carrier(ctx, carrierID)
	if err != nil {
		return err
	}
	return scoped(s.store.AllowCarrier(ctx, b.ID, c.ID), "Carrier")
}

// DisallowCarrier stops letting a carrier in. Returns ENOTFOUND, also when
// the carrier was not allowed.
func (s *Buildings) DisallowCarrier(ctx context.Context, buildingID, carrierID string) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return err
	}
	if !doorman.HasPrefix(carrierID, doorman.PrefixCarrier) {
		return notFound("Carrier")
	}
	return scoped(s.store.DisallowCarrier(ctx, b.ID, carrierID), "Carrier")
}

// BuildingParcels lists the parcels addressed to a building the caller
// manages, optionally in one status.
func (s *Buildings) BuildingParcels(ctx context.Context, buildingID, status string, page doorman.Page) ([]*doorman.Parcel, string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, "", err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, "", err
	}
	return s.store.ListParcels(ctx, doorman.ParcelFilter{BuildingID: b.ID, Status: status}, page.Normalize())
}

// CreateUnit adds a unit to a building the caller manages. Returns
// ENOTFOUND, EINVALID or ECONFLICT (label taken).
func (s *Buildings) CreateUnit(ctx context.Context, u *doorman.Unit) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, u.BuildingID, manageBuilding)
	if err != nil {
		return err
	}
	u.BuildingID = b.ID
	if err := u.Validate(); err != nil {
		return err
	}
	return s.store.CreateUnits(ctx, []*doorman.Unit{u})
}

// ListUnits lists a building's units.
func (s *Buildings) ListUnits(ctx context.Context, buildingID string, page doorman.Page) ([]*doorman.Unit, string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, "", err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, "", err
	}
	return s.store.ListUnits(ctx, b.ID, page.Normalize())
}

// Unit returns a unit of a building the caller manages. Returns ENOTFOUND.
func (s *Buildings) Unit(ctx context.Context, buildingID, unitID string) (*doorman.Unit, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(unitID, doorman.PrefixUnit) {
		return nil, notFound("Unit")
	}
	u, err := s.store.Unit(ctx, b.ID, unitID)
	return u, scoped(err, "Unit")
}

// DeleteUnit deletes a unit. Returns ENOTFOUND, or ECONFLICT while
// residents or parcels refer to it.
func (s *Buildings) DeleteUnit(ctx context.Context, buildingID, unitID string) error {
	u, err := s.Unit(ctx, buildingID, unitID)
	if err != nil {
		return err
	}
	return scoped(s.store.DeleteUnit(ctx, u.BuildingID, u.ID), "Unit")
}

// CreateResident adds a resident to a unit of a building the caller
// manages. A unit of another building is an invalid reference, not a way
// to learn that it exists. Returns ENOTFOUND (building) or EINVALID.
func (s *Buildings) CreateResident(ctx context.Context, r *doorman.Resident) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, r.BuildingID, manageBuilding)
	if err != nil {
		return err
	}
	unknownUnit := doorman.InvalidField("body.unit_id", "Unknown unit_id.")
	if !doorman.HasPrefix(r.UnitID, doorman.PrefixUnit) {
		return unknownUnit
	} else if _, err := s.store.Unit(ctx, b.ID, r.UnitID); doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return unknownUnit
	} else if err != nil {
		return err
	}
	r.BuildingID = b.ID
	r.Name, r.Email = strings.TrimSpace(r.Name), strings.TrimSpace(r.Email)
	if err := r.Validate(); err != nil {
		return err
	}
	if err := s.store.CreateResident(ctx, r); doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return unknownUnit
	} else if err != nil {
		return err
	}
	return nil
}

// ListResidents lists a building's residents.
func (s *Buildings) ListResidents(ctx context.Context, buildingID string, page doorman.Page) ([]*doorman.Resident, string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, "", err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, "", err
	}
	return s.store.ListResidents(ctx, b.ID, page.Normalize())
}

// DeleteResident removes a resident and their data. Returns ENOTFOUND.
func (s *Buildings) DeleteResident(ctx context.Context, buildingID, residentID string) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return err
	}
	if !doorman.HasPrefix(residentID, doorman.PrefixResident) {
		return notFound("Resident")
	}
	return scoped(s.store.DeleteResident(ctx, b.ID, residentID), "Resident")
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
