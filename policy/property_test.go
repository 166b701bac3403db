package policy_test

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/policy"
	"pgregory.net/rapid"
)

// TestNoFailingRequestIsAllowed draws random requests and checks Decide
// against an independent statement of the rules: a request is allowed if and
// only if it fails no condition, and a denial names a condition it fails.
func TestNoFailingRequestIsAllowed(t *testing.T) {
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"}
	statuses := []string{doorman.ParcelManifested, doorman.ParcelOutForDelivery, doorman.ParcelDelivered, doorman.ParcelReturned, doorman.ParcelCancelled}
	courierStatuses := []string{doorman.CourierActive, doorman.CourierSuspended, doorman.CourierInactive}

	rapid.Check(t, func(t *rapid.T) {
		now := time.Unix(rapid.Int64Range(1.7e9, 1.9e9).Draw(t, "now"), 0).UTC()
		zone := rapid.SampledFrom(zones).Draw(t, "zone")
		loc, _ := time.LoadLocation(zone)

		// Delivery hours: either none, or whole days open or closed, so that
		// the oracle below needs only the local weekday.
		var hours *doorman.WeeklyHours
		open := map[time.Weekday]bool{}
		if rapid.Bool().Draw(t, "has hours") {
			hours = &doorman.WeeklyHours{}
			days := []*[]doorman.Window{&hours.Sunday, &hours.Monday, &hours.Tuesday, &hours.Wednesday, &hours.Thursday, &hours.Friday, &hours.Saturday}
			for d, w := range days {
				if rapid.Bool().Draw(t, "day open") {
					*w = []doorman.Window{{Start: "00:00", End: "24:00"}}
					open[time.Weekday(d)] = true
				}
			}
		}

		radius := rapid.SampledFrom([]float64{0, 50, 500}).Draw(t, "radius")
		doorLat, doorLng := 48.0, 11.0
		door := &doorman.Door{ID: "dor_a", BuildingID: "bld_a", LockedDown: rapid.Bool().Draw(t, "locked")}
		if rapid.Bool().Draw(t, "door position known") {
			door.Latitude, door.Longitude = &doorLat, &doorLng
		}
		var pos *doorman.Position
		offsetMeters := rapid.Float64Range(0, 1000).Draw(t, "offset")
		if rapid.Bool().Draw(t, "courier position known") {
			// One degree of latitude is about 111 km.
			pos = &doorman.Position{Latitude: doorLat + offsetMeters/111195, Longitude: doorLng}
		}

		courier := &doorman.Courier{ID: "cou_a", CarrierID: "car_a", Status: rapid.SampledFrom(courierStatuses).Draw(t, "courier status")}
		if rapid.Bool().Draw(t, "has check") {
			until := now.Add(time.Duration(rapid.Int64Range(-48, 48).Draw(t, "check hours")) * time.Hour)
			courier.BackgroundCheckVerifiedUntil = &until
		}

		var scans []policy.Scan
		for i := range rapid.IntRange(0, 3).Draw(t, "scans") {
			s := policy.Scan{TrackingNumber: "TN", OtherCarrier: rapid.Bool().Draw(t, "other carrier")}
			if rapid.Bool().Draw(t, "found") {
				s.Parcel = &doorman.Parcel{
					ID:         "par_" + string(rune('a'+i)),
					CarrierID:  "car_a",
					BuildingID: rapid.SampledFrom([]string{"bld_a", "bld_b"}).Draw(t, "building"),
					CourierID:  rapid.SampledFrom([]string{"cou_a", "cou_b", ""}).Draw(t, "assignee"),
					Status:     rapid.SampledFrom(statuses).Draw(t, "status"),
				}
			}
			scans = append(scans, s)
		}

		in := policy.Input{
			Now:            now,
			Building:       &doorman.Building{ID: "bld_a", Timezone: zone, DeliveryHours: hours, MaxDistanceMeters: radius},
			Door:           door,
			Courier:        courier,
			CarrierAllowed: rapid.Bool().Draw(t, "carrier allowed"),
			Scans:          scans,
			Position:       pos,
		}

		// The rules, stated independently of the implementation.
		failing := map[string]bool{}
		fail := func(cond bool, reason string) {
			if cond {
				failing[reason] = true
			}
		}
		fail(door.LockedDown, doorman.ReasonDoorLockedDown)
		fail(courier.Status != doorman.CourierActive, doorman.ReasonCourierInactive)
		fail(courier.BackgroundCheckVerifiedUntil == nil || !courier.BackgroundCheckVerifiedUntil.After(now), doorman.ReasonBackgroundCheckExpired)
		fail(!in.CarrierAllowed, doorman.ReasonCarrierNotAllowed)
		fail(hours != nil && !open[now.In(loc).Weekday()], doorman.ReasonOutsideDeliveryHours)
		// Positions are 0 to 1000 m due north; allow rounding at the edge.
		if radius > 0 && pos != nil && door.HasPosition() && (offsetMeters < radius-1 || offsetMeters > radius+1) {
			fail(offsetMeters > radius, doorman.ReasonTooFarFromDoor)
		} else if radius > 0 && pos != nil && door.HasPosition() {
			t.Skip("position on the radius edge")
		}
		fail(len(scans) == 0, doorman.ReasonUnknownParcel)
		for _, s := range scans {
			p := s.Parcel
			fail(p == nil && !s.OtherCarrier, doorman.ReasonUnknownParcel)
			fail(p == nil && s.OtherCarrier, doorman.ReasonParcelWrongCarrier)
			if p == nil {
				continue
			}
			fail(p.BuildingID != "bld_a", doorman.ReasonParcelNotForBuilding)
			fail(p.CourierID != "cou_a", doorman.ReasonParcelNotAssignedToCourier)
			fail(p.Status == doorman.ParcelDelivered, doorman.ReasonParcelAlreadyDelivered)
			fail(p.Status != doorman.ParcelDelivered && p.Status != doorman.ParcelOutForDelivery, doorman.ReasonParcelNotOutForDelivery)
		}

		d := policy.Decide(in)
		if len(failing) > 0 && d.Allowed {
			t.Fatalf("allowed although failing %v", failing)
		}
		if len(failing) == 0 && !d.Allowed {
			t.Fatalf("denied (%s) although every condition holds", d.Reason)
		}
		if !d.Allowed && !failing[d.Reason] {
			t.Fatalf("denied for %q, which does not fail; failing: %v", d.Reason, failing)
		}
	})
}
