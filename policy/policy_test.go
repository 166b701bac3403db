package policy_test

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/policy"
)

// base returns an input that is allowed: an active, checked courier of an
// allowed carrier, at an open door, within hours, scanning one parcel that is
// out for delivery, addressed to the building and assigned to the courier.
func base() policy.Input {
	now := time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC) // a Wednesday
	until := now.Add(365 * 24 * time.Hour)
	lat, lng := 52.5200, 13.4050
	return policy.Input{
		Now: now,
		Building: &doorman.Building{ID: "bld_1", Timezone: "Europe/Berlin",
			DeliveryHours:     &doorman.WeeklyHours{Wednesday: []doorman.Window{{Start: "08:00", End: "20:00"}}},
			MaxDistanceMeters: 100},
		Door:           &doorman.Door{ID: "dor_1", BuildingID: "bld_1", Latitude: &lat, Longitude: &lng},
		Courier:        &doorman.Courier{ID: "cou_1", CarrierID: "car_1", Status: doorman.CourierActive, BackgroundCheckVerifiedUntil: &until},
		CarrierAllowed: true,
		Scans: []policy.Scan{{TrackingNumber: "TN1", Parcel: &doorman.Parcel{
			ID: "par_1", CarrierID: "car_1", TrackingNumber: "TN1", BuildingID: "bld_1",
			CourierID: "cou_1", Status: doorman.ParcelOutForDelivery}}},
		Position: &doorman.Position{Latitude: 52.5201, Longitude: 13.4051},
	}
}

func TestDecide(t *testing.T) {
	past := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	everyDay := func(start, end string) *doorman.WeeklyHours {
		w := []doorman.Window{{Start: start, End: end}}
		return &doorman.WeeklyHours{Monday: w, Tuesday: w, Wednesday: w, Thursday: w, Friday: w, Saturday: w, Sunday: w}
	}
	parcel := func(in *policy.Input) *doorman.Parcel { return in.Scans[0].Parcel }

	tests := []struct {
		name   string
		change func(in *policy.Input)
		reason string // "" means allowed
	}{
		{"allowed", func(in *policy.Input) {}, ""},
		{"allowed without hours", func(in *policy.Input) { in.Building.DeliveryHours = nil }, ""},
		{"allowed without radius", func(in *policy.Input) {
			in.Building.MaxDistanceMeters = 0
			in.Position = &doorman.Position{Latitude: 0, Longitude: 0}
		}, ""},
		{"allowed without courier position", func(in *policy.Input) { in.Position = nil }, ""},
		{"allowed without door position", func(in *policy.Input) {
			in.Door.Latitude, in.Door.Longitude = nil, nil
			in.Position = &doorman.Position{Latitude: 0, Longitude: 0}
		}, ""},
		{"allowed with several parcels", func(in *policy.Input) {
			p := *parcel(in)
			p.ID, p.TrackingNumber = "par_2", "TN2"
			in.Scans = append(in.Scans, policy.Scan{TrackingNumber: "TN2", Parcel: &p})
		}, ""},
		{"allowed when another carrier also uses the number", func(in *policy.Input) { in.Scans[0].OtherCarrier = true }, ""},

		{"unknown parcel", func(in *policy.Input) { in.Scans[0].Parcel = nil }, doorman.ReasonUnknownParcel},
		{"no parcel scanned", func(in *policy.Input) { in.Scans = nil }, doorman.ReasonUnknownParcel},
		{"parcel of another carrier", func(in *policy.Input) {
			in.Scans[0].Parcel = nil
			in.Scans[0].OtherCarrier = true
		}, doorman.ReasonParcelWrongCarrier},
		{"parcel for another building", func(in *policy.Input) { parcel(in).BuildingID = "bld_2" }, doorman.ReasonParcelNotForBuilding},
		{"parcel unassigned", func(in *policy.Input) { parcel(in).CourierID = "" }, doorman.ReasonParcelNotAssignedToCourier},
		{"parcel assigned to another courier", func(in *policy.Input) { parcel(in).CourierID = "cou_2" }, doorman.ReasonParcelNotAssignedToCourier},
		{"parcel only manifested", func(in *policy.Input) { parcel(in).Status = doorman.ParcelManifested }, doorman.ReasonParcelNotOutForDelivery},
		{"parcel returned", func(in *policy.Input) { parcel(in).Status = doorman.ParcelReturned }, doorman.ReasonParcelNotOutForDelivery},
		{"parcel cancelled", func(in *policy.Input) { parcel(in).Status = doorman.ParcelCancelled }, doorman.ReasonParcelNotOutForDelivery},
		{"parcel delivered", func(in *policy.Input) { parcel(in).Status = doorman.ParcelDelivered }, doorman.ReasonParcelAlreadyDelivered},
		{"one bad parcel among good ones", func(in *policy.Input) {
			p := *parcel(in)
			p.ID, p.TrackingNumber, p.BuildingID = "par_2", "TN2", "bld_2"
			in.Scans = append(in.Scans, policy.Scan{TrackingNumber: "TN2", Parcel: &p})
		}, doorman.ReasonParcelNotForBuilding},
		{"courier suspended", func(in *policy.Input) { in.Courier.Status = doorman.CourierSuspended }, doorman.ReasonCourierInactive},
		{"courier inactive", func(in *policy.Input) { in.Courier.Status = doorman.CourierInactive }, doorman.ReasonCourierInactive},
		{"background check lapsed", func(in *policy.Input) { in.Courier.BackgroundCheckVerifiedUntil = &past }, doorman.ReasonBackgroundCheckExpired},
		{"background check lapses right now", func(in *policy.Input) { now := in.Now; in.Courier.BackgroundCheckVerifiedUntil = &now }, doorman.ReasonBackgroundCheckExpired},
		{"no background check", func(in *policy.Input) { in.Courier.BackgroundCheckVerifiedUntil = nil }, doorman.ReasonBackgroundCheckExpired},
		{"carrier not allowed", func(in *policy.Input) { in.CarrierAllowed = false }, doorman.ReasonCarrierNotAllowed},
		{"carrier allowed before notices existed", func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{AllowedAt: in.Now, NoticePeriod: 7 * 24 * time.Hour, ResidentsOwed: 3}
		}, ""},
		{"carrier within its notice period", func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now.Add(-time.Hour), NoticePeriod: 7 * 24 * time.Hour, ResidentsOwed: 3, NoticesQueued: 3}
		}, doorman.ReasonCarrierPendingNotice},
		{"carrier one microsecond before its notice period ends", func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now.Add(-time.Hour + time.Microsecond), NoticePeriod: time.Hour, ResidentsOwed: 1, NoticesQueued: 1}
		}, doorman.ReasonCarrierPendingNotice},
		{"carrier active the instant its notice period ends", func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now.Add(-time.Hour), NoticePeriod: time.Hour, ResidentsOwed: 1, NoticesQueued: 1}
		}, ""},
		{"carrier past its period but notices not queued", func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now.Add(-30 * 24 * time.Hour), NoticePeriod: 0, ResidentsOwed: 2}
		}, doorman.ReasonCarrierPendingNotice},
		{"carrier with a zero period and notices queued", func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now, ResidentsOwed: 2, NoticesQueued: 2}
		}, ""},
		{"zero period: a clock behind the allowance's does not refuse", func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now.Add(time.Second), ResidentsOwed: 1, NoticesQueued: 1}
		}, ""},
		{"carrier at a building without residents, zero period", func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now}
		}, ""},
		{"carrier not allowed outranks pending notice", func(in *policy.Input) {
			in.CarrierAllowed = false
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now, NoticePeriod: time.Hour}
		}, doorman.ReasonCarrierNotAllowed},
		{"outside hours", func(in *policy.Input) { in.Now = utc("2026-06-10T19:00:00Z") /* 21:00 in Berlin */ }, doorman.ReasonOutsideDeliveryHours},
		{"inside hours by UTC but not by local time", func(in *policy.Input) { in.Now = utc("2026-06-10T06:30:00Z") /* 08:30 Berlin */ }, ""},
		{"no window that weekday", func(in *policy.Input) { in.Now = utc("2026-06-11T12:00:00Z") /* Thursday */ }, doorman.ReasonOutsideDeliveryHours},
		{"weekday is the local one", func(in *policy.Input) {
			// Tuesday 23:30 UTC is Wednesday 08:30 in Tokyo.
			in.Building.Timezone = "Asia/Tokyo"
			in.Now = utc("2026-06-09T23:30:00Z")
		}, ""},
		{"DST spring forward: 07:30 CEST is outside", func(in *policy.Input) {
			in.Building.DeliveryHours = everyDay("08:00", "20:00")
			in.Now = utc("2026-03-29T05:30:00Z") // 07:30 CEST; would be 06:30 in CET
		}, doorman.ReasonOutsideDeliveryHours},
		{"DST spring forward: 08:30 CEST is inside", func(in *policy.Input) {
			in.Building.DeliveryHours = everyDay("08:00", "20:00")
			in.Now = utc("2026-03-29T06:30:00Z") // 08:30 CEST; a fixed +1 offset would say 07:30
		}, ""},
		{"DST fall back: 19:30 EST is inside", func(in *policy.Input) {
			in.Building.Timezone = "America/New_York"
			in.Building.DeliveryHours = everyDay("08:00", "20:00")
			in.Now = utc("2026-11-02T00:30:00Z") // Sunday 19:30 EST; a fixed EDT offset would say 20:30
		}, ""},
		{"DST fall back: 20:30 EST is outside", func(in *policy.Input) {
			in.Building.Timezone = "America/New_York"
			in.Building.DeliveryHours = everyDay("08:00", "20:00")
			in.Now = utc("2026-11-02T01:30:00Z")
		}, doorman.ReasonOutsideDeliveryHours},
		{"window end is exclusive", func(in *policy.Input) { in.Now = utc("2026-06-10T18:00:00Z") /* 20:00 Berlin */ }, doorman.ReasonOutsideDeliveryHours},
		{"window until midnight", func(in *policy.Input) {
			in.Building.DeliveryHours = everyDay("00:00", "24:00")
			in.Now = utc("2026-06-10T21:59:00Z") // 23:59 Berlin
		}, ""},
		{"unknown time zone refuses", func(in *policy.Input) { in.Building.Timezone = "Mars/Olympus" }, doorman.ReasonOutsideDeliveryHours},
		{"door locked down", func(in *policy.Input) { in.Door.LockedDown = true }, doorman.ReasonDoorLockedDown},
		{"too far from door", func(in *policy.Input) { in.Position = &doorman.Position{Latitude: 52.53, Longitude: 13.405} }, doorman.ReasonTooFarFromDoor},
		{"just within radius", func(in *policy.Input) {
			in.Position = &doorman.Position{Latitude: 52.5200 + 0.0008, Longitude: 13.4050} // ~89 m north
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.change(&in)
			d := policy.Decide(in)
			if tt.reason == "" {
				if !d.Allowed || d.Reason != "" {
					t.Fatalf("want allowed, got %+v", d)
				}
				return
			}
			if d.Allowed || d.Reason != tt.reason {
				t.Fatalf("want denied with %q, got %+v", tt.reason, d)
			}
			if d.Detail == "" {
				t.Fatal("denial without detail")
			}
		})
	}
}

// TestDecideCoversEveryReason fails when a reason is added to the domain
// without a row in TestDecide's table… by checking the reasons the table
// produces against doorman.Reasons.
func TestDecideCoversEveryReason(t *testing.T) {
	seen := map[string]bool{}
	mutations := []func(in *policy.Input){
		func(in *policy.Input) { in.Scans[0].Parcel = nil },
		func(in *policy.Input) { in.Scans[0].Parcel = nil; in.Scans[0].OtherCarrier = true },
		func(in *policy.Input) { in.Scans[0].Parcel.BuildingID = "x" },
		func(in *policy.Input) { in.Scans[0].Parcel.CourierID = "x" },
		func(in *policy.Input) { in.Scans[0].Parcel.Status = doorman.ParcelManifested },
		func(in *policy.Input) { in.Scans[0].Parcel.Status = doorman.ParcelDelivered },
		func(in *policy.Input) { in.Courier.Status = doorman.CourierInactive },
		func(in *policy.Input) { in.Courier.BackgroundCheckVerifiedUntil = nil },
		func(in *policy.Input) { in.CarrierAllowed = false },
		func(in *policy.Input) {
			in.Allowance = &doorman.CarrierAllowance{NoticeSource: "aud_1", AllowedAt: in.Now, NoticePeriod: time.Hour}
		},
		func(in *policy.Input) { in.Now = in.Now.Add(24 * time.Hour) },
		func(in *policy.Input) { in.Door.LockedDown = true },
		func(in *policy.Input) { in.Position = &doorman.Position{} },
	}
	for _, m := range mutations {
		in := base()
		m(&in)
		seen[policy.Decide(in).Reason] = true
	}
	for _, r := range doorman.Reasons {
		if r == doorman.ReasonRateLimited {
			continue // the store decides rate limits when it records
		}
		if !seen[r] {
			t.Errorf("reason %q is never produced", r)
		}
	}
}
