package doorman

import (
	"context"
	"strings"
	"time"
)

// Statuses of a return.
const (
	ReturnRegistered = "registered"
	ReturnCollected  = "collected"
	ReturnCancelled  = "cancelled"
)

// Places a resident leaves a return for the courier.
const (
	ReturnPlaceLobby    = "lobby"
	ReturnPlaceMailroom = "mailroom"
)

// ReturnPlaces are the places, in the order the resident page lists them.
var ReturnPlaces = []string{ReturnPlaceLobby, ReturnPlaceMailroom}

// Audit actions of returns. A collection is ActionPickupCollected
// (webhook.go), the pickup.collected webhook.
const (
	ActionReturnRegistered = "return.registered"
	ActionReturnOverdue    = "return.overdue"
)

// Kinds of the emails about returns.
const (
	KindReturnCollected = "return.collected"
	KindReturnOverdue   = "return.overdue"
)

// PrefixReturn is the prefix of return IDs.
const PrefixReturn = "ret"

// DefaultReturnOverdueDays is how many days a building's returns wait for
// their courier before the resident and managers are told (once).
const DefaultReturnOverdueDays = 7

// Return is a parcel a resident left for a carrier's courier to pick up.
// Its tracking number is what the courier scans at the door: a registered
// return of the courier's carrier at the door's building counts as a
// parcel to deliver (policy.Scan.Return).
type Return struct {
	ID             string     `json:"id"`
	BuildingID     string     `json:"building_id"`
	UnitID         string     `json:"unit_id"`
	ResidentID     string     `json:"-"`
	CarrierID      string     `json:"carrier_id"`
	TrackingNumber string     `json:"tracking_number"`
	Place          string     `json:"place"`
	Status         string     `json:"status"`
	CreatedAt      time.Time  `json:"created_at"`
	CollectedAt    *time.Time `json:"collected_at,omitempty"`
	CollectedBy    string     `json:"collected_by,omitempty"`
	OverdueAt      *time.Time `json:"overdue_at,omitempty"`
}

// Validate returns EINVALID if the return breaks a rule. It trims the
// tracking number (scanners and pasting add spaces).
func (r *Return) Validate() error {
	r.TrackingNumber = strings.TrimSpace(r.TrackingNumber)
	switch {
	case !HasPrefix(r.CarrierID, PrefixCarrier):
		return InvalidField("carrier_id", "Choose a carrier.")
	case !ValidTrackingNumber(r.TrackingNumber):
		return InvalidField("tracking_number", "Tracking numbers are 1 to 64 printable characters without spaces.")
	case r.Place != ReturnPlaceLobby && r.Place != ReturnPlaceMailroom:
		return InvalidField("place", "Say where the parcel is left: lobby or mailroom.")
	}
	return nil
}

// ReturnStore keeps returns.
type ReturnStore interface {
	// RegisterReturn stores a registered return with its return.registered
	// audit entry (unit label, carrier and tracking number in its detail;
	// the return's ID in its ParcelIDs). Returns EINVALID, or ECONFLICT if
	// the carrier has an open return with that tracking number.
	RegisterReturn(ctx context.Context, r *Return) error
	// Return returns a return. ENOTFOUND.
	Return(ctx context.Context, id string) (*Return, error)
	// ResidentReturns lists the resident's returns, newest first.
	ResidentReturns(ctx context.Context, residentID string) ([]*Return, error)
	// ReturnsByTracking returns the registered (uncollected) returns with
	// those tracking numbers, of every carrier.
	ReturnsByTracking(ctx context.Context, tracking []string) ([]*Return, error)
	// PendingReturns lists the carrier's registered returns at buildings
	// that allow the carrier, oldest first.
	PendingReturns(ctx context.Context, carrierID string) ([]*Return, error)
	// CollectReturn marks the carrier's registered return with that
	// tracking number collected by the courier, with its pickup.collected
	// audit entry in the same transaction. ENOTFOUND (no such open return
	// of the carrier at a building allowing it); ECONFLICT if it was
	// collected or cancelled already.
	CollectReturn(ctx context.Context, carrierID, tracking, courierID string) (*Return, error)
	// MarkOverdueReturns writes one return.overdue entry for each
	// registered return older than its building's return_overdue_days and
	// not yet marked, marking it in the same transaction, so each is told
	// once whichever node sweeps. Returns how many it marked.
	MarkOverdueReturns(ctx context.Context) (int, error)
}
