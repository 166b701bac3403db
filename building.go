package doorman

import (
	"sync"
	"time"
)

// Building is an apartment building with one or more doors that Doorman may
// open. Its delivery hours are read in its own IANA time zone.
type Building struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Address  string `json:"address"`
	Timezone string `json:"timezone"` // IANA name, e.g. "Europe/Berlin"

	// DeliveryHours, when set, limits access to the listed local-time windows.
	// Nil means deliveries are allowed at any hour.
	DeliveryHours *WeeklyHours `json:"delivery_hours,omitempty"`

	// MaxDistanceMeters, when above zero, refuses access requests whose
	// reported position is farther than this from the door's position.
	MaxDistanceMeters float64 `json:"max_distance_meters,omitempty"`

	// OfflineDeliveryDays is how long after its last time sync a door
	// of the building still accepts offline grants (0: offline delivery
	// is off; at most MaxOfflineDeliveryDays). While it is above zero, a
	// courier whose door does not answer is given an offline grant to show
	// to the door's reader, and time replies carry the window.
	OfflineDeliveryDays int `json:"offline_delivery_days"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxOfflineDeliveryDays is the longest offline window a building may set:
// a door's clock drifts, and a door that has not synced for a month should
// not be trusted with expiry times.
const MaxOfflineDeliveryDays = 30

// OfflineWindow returns how long after a time sync the building's doors
// accept offline grants; 0 when offline delivery is off.
func (b *Building) OfflineWindow() time.Duration {
	return time.Duration(b.OfflineDeliveryDays) * 24 * time.Hour
}

// Validate returns EINVALID if the building breaks a rule.
func (b *Building) Validate() error {
	if b.Name == "" {
		return Errorf(EINVALID, "Building name required.")
	} else if b.Address == "" {
		return Errorf(EINVALID, "Building address required.")
	} else if !PlainText(b.Name) || !PlainText(b.Address) {
		return Errorf(EINVALID, "Building name and address must be plain text, without control characters.")
	} else if _, err := LoadLocation(b.Timezone); err != nil {
		return err
	} else if b.MaxDistanceMeters < 0 {
		return Errorf(EINVALID, "max_distance_meters must not be negative.")
	} else if b.OfflineDeliveryDays < 0 || b.OfflineDeliveryDays > MaxOfflineDeliveryDays {
		return InvalidField("body.offline_delivery_days", "offline_delivery_days must be between 0 (off) and %d days.", MaxOfflineDeliveryDays)
	}
	if b.DeliveryHours != nil {
		return b.DeliveryHours.Validate()
	}
	return nil
}

// LoadLocation loads an IANA time zone and returns EINVALID for an unknown
// or empty name. "Local" is refused: a building's zone must not depend on the
// server it happens to run on.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, Errorf(EINVALID, "An IANA time zone such as \"Europe/Berlin\" is required.")
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, Errorf(EINVALID, "Unknown time zone %q.", name)
	}
	locations.Store(name, loc)
	return loc, nil
}

// locations keeps the zones loaded so far: time.LoadLocation reads the
// zone's file on every call, and every access decision needs its
// building's zone. Only zones that loaded are kept, so it holds at most
// the IANA database's few hundred.
var locations sync.Map

// Unit is a flat or suite within a building; parcels are addressed to one.
type Unit struct {
	ID         string    `json:"id"`
	BuildingID string    `json:"building_id"`
	Label      string    `json:"label"` // as written on parcels, e.g. "4B"
	Floor      string    `json:"floor,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Validate returns EINVALID if the unit breaks a rule.
func (u *Unit) Validate() error {
	if u.BuildingID == "" {
		return Errorf(EINVALID, "Unit building required.")
	} else if u.Label == "" {
		return Errorf(EINVALID, "Unit label required.")
	} else if len(u.Label) > 32 {
		return Errorf(EINVALID, "Unit label must be at most 32 characters.")
	} else if !PlainText(u.Label) || !PlainText(u.Floor) {
		return Errorf(EINVALID, "Unit label and floor must be plain text, without control characters.")
	}
	return nil
}

// Resident is a tenant of a unit who is told about deliveries and entries.
type Resident struct {
	ID         string    `json:"id"`
	BuildingID string    `json:"building_id"`
	UnitID     string    `json:"unit_id"`
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	CreatedAt  time.Time `json:"created_at"`
}

// Validate returns EINVALID if the resident breaks a rule.
func (r *Resident) Validate() error {
	if r.UnitID == "" {
		return Errorf(EINVALID, "Resident unit required.")
	} else if r.Name == "" {
		return Errorf(EINVALID, "Resident name required.")
	} else if !PlainText(r.Name) {
		return Errorf(EINVALID, "Resident name must be plain text, without control characters.")
	} else if !ValidEmail(r.Email) {
		return Errorf(EINVALID, "A valid resident email is required.")
	}
	return nil
}
