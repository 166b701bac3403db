package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
)

// registerReturn registers a return of the carrier at the building, for a
// new resident of a new unit.
func registerReturn(t *testing.T, f *fixture, buildingID, carrierID, tracking string) *doorman.Return {
	t.Helper()
	ctx := context.Background()
	u := &doorman.Unit{BuildingID: buildingID, Label: "R-" + tracking}
	must(t, f.store.CreateUnits(ctx, []*doorman.Unit{u}))
	res := &doorman.Resident{BuildingID: buildingID, UnitID: u.ID, Name: "Res", Email: tracking + "@example.org"}
	must(t, f.store.CreateResident(ctx, res))
	r := &doorman.Return{BuildingID: buildingID, UnitID: u.ID, ResidentID: res.ID, CarrierID: carrierID, TrackingNumber: tracking, Place: doorman.ReturnPlaceLobby}
	must(t, f.store.RegisterReturn(ctx, r))
	return r
}

// TestReturnOpensDoorForItsCarrier: from the courier's side, a registered
// return of their carrier at the door's building opens it like a parcel;
// another carrier's return, or a return at another building, is refused
// with the reasons of a parcel; a collected return no longer opens it.
func TestReturnOpensDoorForItsCarrier(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := access.NewService(f.store)

	// Another carrier, allowed at the building too, and another building
	// that allows the fixture's carrier.
	other := &doorman.Carrier{Name: "Other"}
	must(t, f.store.CreateCarrier(ctx, other))
	must(t, f.store.AllowCarrier(ctx, f.door.BuildingID, other.ID))
	elsewhere := &doorman.Building{Name: "B2", Address: "2 Road", Timezone: "UTC"}
	must(t, f.store.CreateBuilding(ctx, elsewhere))
	must(t, f.store.AllowCarrier(ctx, elsewhere.ID, f.carrier.ID))

	registerReturn(t, f, f.door.BuildingID, f.carrier.ID, "RET-MINE")
	registerReturn(t, f, f.door.BuildingID, other.ID, "RET-OTHER")
	registerReturn(t, f, elsewhere.ID, f.carrier.ID, "RET-ELSEWHERE")

	res, err := svc.RequestAccess(f.ctx(), f.request("RET-MINE"))
	must(t, err)
	if !res.Decision.Allowed || res.Grant == nil {
		t.Fatalf("the carrier's return did not open the door: %+v", res.Decision)
	}

	res, err = svc.RequestAccess(f.ctx(), f.request("RET-OTHER"))
	must(t, err)
	if res.Decision.Allowed || res.Decision.Reason != doorman.ReasonUnknownParcel {
		t.Fatalf("another carrier's return: %+v, want unknown_parcel", res.Decision)
	}
	if e := accessEntries(t, f)[0]; e.Reason != doorman.ReasonParcelWrongCarrier {
		t.Fatalf("the audit entry says %q; want %q as for a parcel", e.Reason, doorman.ReasonParcelWrongCarrier)
	}
	// Scanned together with a good one, it still refuses (every scan counts).
	res, err = svc.RequestAccess(f.ctx(), f.request("RET-MINE", "RET-OTHER"))
	must(t, err)
	if res.Decision.Allowed {
		t.Fatal("a return of another carrier was let through with a good one")
	}

	res, err = svc.RequestAccess(f.ctx(), f.request("RET-ELSEWHERE"))
	must(t, err)
	if res.Decision.Allowed || res.Decision.Reason != doorman.ReasonParcelNotForBuilding {
		t.Fatalf("a return at another building: %+v, want parcel_not_for_building", res.Decision)
	}

	// Another carrier's courier cannot use the fixture carrier's return.
	until := time.Now().Add(time.Hour)
	oc := &doorman.Courier{CarrierID: other.ID, ExternalID: "o1", Name: "Oh", Status: doorman.CourierActive, BackgroundCheckVerifiedUntil: &until}
	_, err = f.store.UpsertCourier(ctx, oc)
	must(t, err)
	octx := doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleCourier, SubjectID: oc.ID, CarrierID: other.ID})
	res, err = svc.RequestAccess(octx, doorman.AccessRequest{CourierID: oc.ID, DoorID: f.door.ID, TrackingNumbers: []string{"RET-MINE"}})
	must(t, err)
	if res.Decision.Allowed || res.Decision.Reason != doorman.ReasonUnknownParcel {
		t.Fatalf("another carrier's courier with the return: %+v, want unknown_parcel", res.Decision)
	}

	// Collected: no longer opens.
	_, err = f.store.CollectReturn(ctx, f.carrier.ID, "RET-MINE", f.courier.ID)
	must(t, err)
	res, err = svc.RequestAccess(f.ctx(), f.request("RET-MINE"))
	must(t, err)
	if res.Decision.Allowed || res.Decision.Reason != doorman.ReasonUnknownParcel {
		t.Fatalf("a collected return: %+v, want unknown_parcel", res.Decision)
	}
}
