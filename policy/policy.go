package policy

import (
	"fmt"
	"time"

	"github.com/doorman-dev/doorman"
)

// Input is everything the decision depends on. The caller (the access
// service) loads it; Decide only reads it.
type Input struct {
	// Now is the instant of the request.
	Now time.Time

	Building *doorman.Building
	Door     *doorman.Door
	Courier  *doorman.Courier

	// CarrierAllowed is whether the building allows the courier's carrier.
	CarrierAllowed bool
	// Allowance is the building's allowance of the carrier, which is
	// active only once its residents were given notice
	// (doorman.CarrierAllowance.Active). Nil skips the check.
	Allowance *doorman.CarrierAllowance

	// Scans are the scanned tracking numbers with what was found for each.
	Scans []Scan

	// Position is where the courier's device says it is, if known.
	Position *doorman.Position
}

// Scan is one scanned tracking number and the parcel it names.
type Scan struct {
	TrackingNumber string
	// Parcel is the courier's carrier's parcel with this tracking number,
	// or nil if that carrier has none.
	Parcel *doorman.Parcel
	// OtherCarrier is true when another carrier has a parcel, or a
	// registered return, with this tracking number.
	OtherCarrier bool
	// Return is the courier's carrier's registered (uncollected) return
	// with this tracking number, when it has no parcel with it: a return
	// to pick up counts as a parcel to deliver, under the same checks.
	Return *doorman.Return
}

// Decide returns whether the courier may pass the door. Conditions are
// checked cheapest and most general first, so the reason names the broadest
// problem: door, courier, carrier, time, place, then each parcel. Rate
// limits are not decided here: they count requests across the store, so
// the store decides them when it records the decision (and re-checks the
// lockdown then).
func Decide(in Input) doorman.Decision {
	switch {
	case in.Door.LockedDown:
		return doorman.Deny(doorman.ReasonDoorLockedDown, "The building manager has locked this door down.")
	case in.Courier.Status != doorman.CourierActive:
		return doorman.Deny(doorman.ReasonCourierInactive, "The courier is "+in.Courier.Status+".")
	case in.Courier.BackgroundCheckVerifiedUntil == nil || !in.Now.Before(*in.Courier.BackgroundCheckVerifiedUntil):
		return doorman.Deny(doorman.ReasonBackgroundCheckExpired, "The courier's background check is not verified.")
	case !in.CarrierAllowed:
		return doorman.Deny(doorman.ReasonCarrierNotAllowed, "The building does not allow this carrier.")
	case in.Allowance != nil && !in.Allowance.Active(in.Now):
		return doorman.Deny(doorman.ReasonCarrierPendingNotice, pendingDetail(in.Allowance))
	}
	if d, ok := checkHours(in); !ok {
		return d
	}
	if d, ok := checkDistance(in); !ok {
		return d
	}
	if len(in.Scans) == 0 {
		return doorman.Deny(doorman.ReasonUnknownParcel, "No parcel was scanned.")
	}
	for _, s := range in.Scans {
		if d := checkParcel(in, s); !d.Allowed {
			return d
		}
	}
	return doorman.Allow()
}

// checkHours refuses requests outside the building's delivery hours, read
// on the building's wall clock.
func checkHours(in Input) (doorman.Decision, bool) {
	if in.Building.DeliveryHours == nil {
		return doorman.Allow(), true
	}
	loc, err := doorman.LoadLocation(in.Building.Timezone)
	if err != nil || !in.Building.DeliveryHours.Contains(in.Now, loc) {
		return doorman.Deny(doorman.ReasonOutsideDeliveryHours, "Deliveries are not allowed at this building at this time."), false
	}
	return doorman.Allow(), true
}

// checkDistance refuses a courier too far from the door, when the building
// set a radius and both positions are known.
func checkDistance(in Input) (doorman.Decision, bool) {
	if in.Building.MaxDistanceMeters <= 0 || in.Position == nil || !in.Door.HasPosition() {
		return doorman.Allow(), true
	}
	door := doorman.Position{Latitude: *in.Door.Latitude, Longitude: *in.Door.Longitude}
	if d := doorman.DistanceMeters(door, *in.Position); d > in.Building.MaxDistanceMeters {
		return doorman.Deny(doorman.ReasonTooFarFromDoor, fmt.Sprintf("The courier is %.0f m from the door; at most %.0f m is allowed.", d, in.Building.MaxDistanceMeters)), false
	}
	return doorman.Allow(), true
}

// checkParcel checks one scanned parcel.
func checkParcel(in Input, s Scan) doorman.Decision {
	p := s.Parcel
	if p == nil && s.Return != nil {
		return checkReturn(in, s)
	}
	switch {
	case p == nil && s.OtherCarrier:
		// The detail is the unknown parcel's: the courier is told
		// unknown_parcel (Decision.Outward), and the audit keeps the reason.
		return doorman.Deny(doorman.ReasonParcelWrongCarrier, "Parcel "+s.TrackingNumber+" is not known.")
	case p == nil || p.CarrierID != in.Courier.CarrierID:
		return doorman.Deny(doorman.ReasonUnknownParcel, "Parcel "+s.TrackingNumber+" is not known.")
	case p.BuildingID != in.Door.BuildingID:
		return doorman.Deny(doorman.ReasonParcelNotForBuilding, "Parcel "+s.TrackingNumber+" is not addressed to this building.")
	case p.CourierID != in.Courier.ID:
		return doorman.Deny(doorman.ReasonParcelNotAssignedToCourier, "Parcel "+s.TrackingNumber+" is not assigned to this courier.")
	case p.Status == doorman.ParcelDelivered:
		return doorman.Deny(doorman.ReasonParcelAlreadyDelivered, "Parcel "+s.TrackingNumber+" was already delivered.")
	case p.Status != doorman.ParcelOutForDelivery:
		return doorman.Deny(doorman.ReasonParcelNotOutForDelivery, "Parcel "+s.TrackingNumber+" is "+p.Status+", not out for delivery.")
	}
	return doorman.Allow()
}

// checkReturn checks one scanned return to pick up: the reasons are a
// parcel's, so a courier cannot tell a return from a parcel by probing.
func checkReturn(in Input, s Scan) doorman.Decision {
	r := s.Return
	switch {
	case r.CarrierID != in.Courier.CarrierID || r.Status != doorman.ReturnRegistered:
		return doorman.Deny(doorman.ReasonUnknownParcel, "Parcel "+s.TrackingNumber+" is not known.")
	case r.BuildingID != in.Door.BuildingID:
		return doorman.Deny(doorman.ReasonParcelNotForBuilding, "Parcel "+s.TrackingNumber+" is not addressed to this building.")
	}
	return doorman.Allow()
}

// pendingDetail says why an allowance is not active yet.
func pendingDetail(a *doorman.CarrierAllowance) string {
	if !a.NoticesDone() {
		return "The building's residents have not yet been sent notice of this carrier."
	}
	return "The building's residents were given notice of this carrier; access starts at " + a.ActiveFrom().UTC().Format(time.RFC3339) + "."
}
