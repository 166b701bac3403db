package doorman

import (
	"context"
	"time"
)

// Denial reasons. They are stable: carriers' apps switch on them.
const (
	ReasonUnknownParcel              = "unknown_parcel"
	ReasonParcelWrongCarrier         = "parcel_wrong_carrier"
	ReasonParcelNotForBuilding       = "parcel_not_for_building"
	ReasonParcelNotAssignedToCourier = "parcel_not_assigned_to_courier"
	ReasonParcelNotOutForDelivery    = "parcel_not_out_for_delivery"
	ReasonParcelAlreadyDelivered     = "parcel_already_delivered"
	ReasonCourierInactive            = "courier_inactive"
	ReasonBackgroundCheckExpired     = "background_check_expired"
	ReasonCarrierNotAllowed          = "carrier_not_allowed"
	// ReasonCarrierPendingNotice is given while the building's residents
	// are being told about a newly allowed carrier: until the notices are
	// queued and the building's notice period has passed.
	ReasonCarrierPendingNotice = "carrier_pending_notice"
	ReasonOutsideDeliveryHours = "outside_delivery_hours"
	ReasonDoorLockedDown       = "door_locked_down"
	ReasonRateLimited          = "rate_limited"
	ReasonTooFarFromDoor       = "too_far_from_door"
	// ReasonDoorOffline is given when the grant was committed but the door did
	// not acknowledge the unlock within the command timeout.
	ReasonDoorOffline = "door_offline"
	// ReasonDoorRejected is given when the grant was committed but the
	// door's device refused the signed command (e.g. its clock is off, or it
	// was enrolled with other keys); the device reports why.
	ReasonDoorRejected = "door_rejected"
	// ReasonBusy is given, with EUNAVAILABLE and a Retry-After, to a
	// request the node did not take because it was deciding as many as it
	// takes at once for as long as the request could wait
	// (access.WithMaxInFlight): nothing was decided or recorded, and the
	// courier may ask again at once elsewhere or after the wait here.
	ReasonBusy = "busy"
	// ReasonStorageFull is given, with EUNAVAILABLE and a Retry-After, to
	// a request whose write the store's disk had no room for: nothing was
	// recorded and nothing acted on (no grant, so no door opened).
	ReasonStorageFull = "storage_full"
)

// Reasons lists every denial reason the access decision can give.
var Reasons = []string{
	ReasonUnknownParcel, ReasonParcelWrongCarrier, ReasonParcelNotForBuilding,
	ReasonParcelNotAssignedToCourier, ReasonParcelNotOutForDelivery,
	ReasonParcelAlreadyDelivered, ReasonCourierInactive, ReasonBackgroundCheckExpired,
	ReasonCarrierNotAllowed, ReasonCarrierPendingNotice, ReasonOutsideDeliveryHours, ReasonDoorLockedDown,
	ReasonRateLimited, ReasonTooFarFromDoor,
}

// Access limits.
const (
	// GrantTTL is how long a grant lets a courier in.
	GrantTTL = 60 * time.Second
	// RateWindow is the window the rate limits count over.
	RateWindow = time.Minute
	// RateResolution is how finely a store may count the window: it may
	// count requests in buckets of this width, so that a request counts
	// against a limit for at least RateWindow and at most RateWindow +
	// RateResolution. A limit is thus never exceeded within any
	// RateWindow, and a refused courier may wait up to RateResolution
	// longer than the exact window would make it.
	RateResolution = RateWindow / 6
	// CourierRateLimit is the most access requests one courier may make per RateWindow.
	CourierRateLimit = 10
	// DoorRateLimit is the most grants one door issues per RateWindow.
	// Denials do not count, so couriers without deliverable parcels cannot
	// use up a door's budget.
	DoorRateLimit = 60
	// MaxScannedParcels is the most tracking numbers one access request may carry.
	MaxScannedParcels = 50
)

// Decision is the outcome of an access request. Reason is empty when Allowed.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
	// Detail is a human-readable explanation (e.g. which tracking number).
	Detail string `json:"detail,omitempty"`
}

// Outward returns the decision as the courier and its carrier are told
// it: parcel_wrong_carrier reads as unknown_parcel, so that nobody learns
// which tracking numbers another carrier uses. The audit log keeps the
// precise reason for the building's manager.
func (d Decision) Outward() Decision {
	if d.Reason == ReasonParcelWrongCarrier {
		d.Reason = ReasonUnknownParcel
	}
	return d
}

// Allow returns an allowing decision.
func Allow() Decision { return Decision{Allowed: true} }

// Deny returns a denying decision with a reason and detail.
func Deny(reason, detail string) Decision {
	return Decision{Reason: reason, Detail: detail}
}

// Grant is the permission, committed before any command leaves for the door,
// for one courier to pass one door once, until it expires.
type Grant struct {
	ID         string     `json:"id"`
	DoorID     string     `json:"door_id"`
	BuildingID string     `json:"building_id"`
	CourierID  string     `json:"courier_id"`
	CarrierID  string     `json:"carrier_id"`
	ParcelIDs  []string   `json:"parcel_ids"`
	IssuedAt   time.Time  `json:"issued_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UsedAt     *time.Time `json:"used_at,omitempty"`
	// RevokedAt is set when a lockdown cancels the grant before it is used.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// AccessRequest is a courier at a door scanning parcels.
type AccessRequest struct {
	// CourierID is read only when Doorman itself asks (RoleSystem, the
	// bench); a courier's request is always its own.
	CourierID       string
	DoorID          string
	TrackingNumbers []string
	Position        *Position
}

// AccessResult is the answer to an access request: a decision, and the grant
// when (and only when) the door was opened for it.
type AccessResult struct {
	Decision Decision `json:"decision"`
	Grant    *Grant   `json:"grant,omitempty" doc:"Present only when decision.allowed is true: the grant the door was opened for. A refused answer (any reason, door_offline and door_rejected included) never carries one."`
	// OfflineGrant, only with a door_offline refusal in a building that
	// allows offline delivery, is the grant to show to the door's reader.
	OfflineGrant *OfflineGrant `json:"offline_grant,omitempty" doc:"Present only when decision.reason is door_offline and the building allows offline delivery: a signed, single-use token bound to the door, the courier and the parcels, to be shown as a QR code to the door's reader before expires_at (at most 60 s). The door then opens on its own and reports the use when its link returns."`
	// RetryAfter, for a rate_limited refusal, is when the courier may ask
	// again.
	RetryAfter time.Duration `json:"-"`
}

// OfflineGrant is what a courier shows to an offline door's reader: a
// token the door verifies on its own (see wire.Signer.SignOfflineGrant),
// for one grant.
type OfflineGrant struct {
	Token     string    `json:"token" doc:"The offline grant token (v4.public.…), to be rendered as a QR code for the door's reader."`
	JTI       string    `json:"-"`
	ExpiresAt time.Time `json:"expires_at" doc:"When the door stops accepting the token (at most 60 s after it was issued)."`
}

// OfflineGrantSigner signs offline grants for doors that did not answer.
// natsbus.Bus implements it, with the key that signs unlock commands.
type OfflineGrantSigner interface {
	// SignOfflineGrant returns an offline grant for g, a committed grant
	// of door, bound to the door, g's courier and g's parcels, valid until
	// g expires and at most 60 s. Returns EINVALID (a grant without
	// parcels, for one) or EINTERNAL.
	SignOfflineGrant(door *Door, g *Grant) (*OfflineGrant, error)
}

// AccessService decides access requests and records them.
type AccessService interface {
	// RequestAccess decides req for the calling courier (the principal in
	// ctx), records the decision in the audit log and, when allowed,
	// commits a grant before anything is sent to the door. A denial is a
	// result, not an error; rate-limited requests are counted, not
	// recorded. Returns EINVALID for a malformed request or a door the
	// courier cannot see (unknown, or of a building that does not allow
	// its carrier), EUNAUTHORIZED or EFORBIDDEN for a caller that is not a
	// courier.
	RequestAccess(ctx context.Context, req AccessRequest) (*AccessResult, error)
}
