package doorman

import "time"

// Parcel statuses.
const (
	ParcelManifested     = "manifested"
	ParcelOutForDelivery = "out_for_delivery"
	ParcelDelivered      = "delivered"
	ParcelReturned       = "returned"
	ParcelCancelled      = "cancelled"
)

// MaxManifestBatch is the most parcels one manifest upload may carry.
const MaxManifestBatch = 1000

// Parcel is a package a carrier has manifested for a unit in a building.
// Its tracking number is unique per carrier.
type Parcel struct {
	ID             string `json:"id"`
	CarrierID      string `json:"carrier_id"`
	TrackingNumber string `json:"tracking_number"`
	BuildingID     string `json:"building_id"`
	UnitID         string `json:"unit_id"`
	// CourierID is the courier the carrier assigned the parcel to, if any.
	CourierID   string     `json:"courier_id,omitempty"`
	Status      string     `json:"status" enum:"manifested,out_for_delivery,delivered,returned,cancelled"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// ValidParcelStatus reports whether s is a known parcel status.
func ValidParcelStatus(s string) bool {
	switch s {
	case ParcelManifested, ParcelOutForDelivery, ParcelDelivered, ParcelReturned, ParcelCancelled:
		return true
	}
	return false
}

// parcelTransitions lists the statuses each status may move to.
var parcelTransitions = map[string][]string{
	ParcelManifested:     {ParcelOutForDelivery, ParcelCancelled, ParcelReturned},
	ParcelOutForDelivery: {ParcelManifested, ParcelDelivered, ParcelReturned, ParcelCancelled},
	ParcelDelivered:      {ParcelReturned},
	ParcelReturned:       {},
	ParcelCancelled:      {},
}

// CanTransition returns nil if a parcel may move from one status to another,
// or EINVALID / ECONFLICT saying why not. Staying in the same status is fine.
func CanTransition(from, to string) error {
	if !ValidParcelStatus(to) {
		return Errorf(EINVALID, "Unknown parcel status %q.", to)
	} else if from == to {
		return nil
	}
	for _, s := range parcelTransitions[from] {
		if s == to {
			return nil
		}
	}
	return Errorf(ECONFLICT, "A %s parcel cannot become %s.", from, to)
}

// ParcelInput is one item of a carrier's manifest upload: create the parcel,
// or update it if the carrier already manifested this tracking number.
type ParcelInput struct {
	TrackingNumber string `json:"tracking_number" minLength:"1" maxLength:"64"`
	BuildingID     string `json:"building_id"`
	// UnitLabel is the unit as written on the parcel, e.g. "4B".
	UnitLabel string `json:"unit"`
	// CourierExternalID assigns the parcel to one of the carrier's couriers.
	CourierExternalID string `json:"courier_external_id,omitempty"`
	// Status defaults to manifested for a new parcel and is kept otherwise.
	Status string `json:"status,omitempty" enum:"manifested,out_for_delivery,delivered,returned,cancelled"`
}

// ParcelResult is the outcome of one ParcelInput, in the same position.
type ParcelResult struct {
	Index          int     `json:"index"`
	TrackingNumber string  `json:"tracking_number"`
	Result         string  `json:"result" enum:"created,updated,unchanged,error"`
	Parcel         *Parcel `json:"parcel,omitempty"`
	ErrorCode      string  `json:"error_code,omitempty"`
	Error          string  `json:"error,omitempty"`
}

// ValidTrackingNumber reports whether s is an acceptable tracking number:
// 1 to 64 printable ASCII characters without spaces.
func ValidTrackingNumber(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
