package doorman

import "time"

// Carrier is a delivery company (national, postal or local) that uploads
// couriers and parcel manifests through the API. A building manager decides
// which carriers may enter their building.
type Carrier struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate returns EINVALID if the carrier breaks a rule.
func (c *Carrier) Validate() error {
	if c.Name == "" {
		return Errorf(EINVALID, "Carrier name required.")
	} else if len(c.Name) > 200 {
		return Errorf(EINVALID, "Carrier name must be at most 200 characters.")
	} else if !PlainText(c.Name) {
		return Errorf(EINVALID, "Carrier name must be plain text, without control characters.")
	}
	return nil
}

// Courier statuses.
const (
	CourierActive    = "active"
	CourierSuspended = "suspended"
	CourierInactive  = "inactive"
)

// Courier is a person delivering for a carrier, known to the carrier by its
// own ExternalID. Couriers are only let in while active and while their
// background check is verified.
type Courier struct {
	ID         string `json:"id"`
	CarrierID  string `json:"carrier_id"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Status     string `json:"status" enum:"active,suspended,inactive"`

	// BackgroundCheckVerifiedUntil is when the carrier's background check of
	// this courier lapses. Nil means no verified check: access is refused.
	BackgroundCheckVerifiedUntil *time.Time `json:"background_check_verified_until,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate returns EINVALID if the courier breaks a rule.
func (c *Courier) Validate() error {
	if c.CarrierID == "" {
		return Errorf(EINVALID, "Courier carrier required.")
	} else if c.ExternalID == "" || len(c.ExternalID) > 128 {
		return Errorf(EINVALID, "Courier external_id required, at most 128 characters.")
	} else if c.Name == "" {
		return Errorf(EINVALID, "Courier name required.")
	} else if !PlainText(c.Name) || !PlainText(c.ExternalID) {
		return Errorf(EINVALID, "Courier name and external_id must be plain text, without control characters.")
	}
	switch c.Status {
	case CourierActive, CourierSuspended, CourierInactive:
	default:
		return Errorf(EINVALID, "Courier status must be active, suspended or inactive.")
	}
	return nil
}
