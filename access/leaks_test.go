package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
)

// TestRateLimitedRequestsAreNotChained: one courier flooding a door gets
// rate_limited with a Retry-After, and the flood leaves the building's
// hash chain as it was after the limit (190 requests once made 181
// entries).
func TestRateLimitedRequestsAreNotChained(t *testing.T) {
	f := newFixture(t)
	svc := access.NewService(f.store)
	limited := 0
	for range 190 {
		res, err := svc.RequestAccess(f.ctx(), f.request("NOT-MINE"))
		must(t, err)
		if res.Decision.Reason == doorman.ReasonRateLimited {
			limited++
			if res.RetryAfter <= 0 || res.RetryAfter > doorman.RateWindow+doorman.RateResolution {
				t.Fatalf("rate_limited answer says retry after %v", res.RetryAfter)
			}
			if res.Grant != nil {
				t.Fatal("a refused answer carries a grant")
			}
		}
	}
	if limited != 190-doorman.CourierRateLimit {
		t.Fatalf("%d of 190 requests rate-limited; want %d", limited, 190-doorman.CourierRateLimit)
	}
	if n := len(accessEntries(t, f)); n != doorman.CourierRateLimit {
		t.Fatalf("the flood wrote %d audit entries; want the %d within the limit", n, doorman.CourierRateLimit)
	}
}

// TestForeignDoorLooksUnknown: a courier whose carrier a building does not
// allow cannot tell that building's door from a made-up one, and its
// attempt writes nothing into that building's chain.
func TestForeignDoorLooksUnknown(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := &doorman.Carrier{Name: "Other"}
	must(t, f.store.CreateCarrier(ctx, other))
	until := time.Now().Add(time.Hour)
	stranger := &doorman.Courier{CarrierID: other.ID, ExternalID: "s1", Name: "S", Status: doorman.CourierActive, BackgroundCheckVerifiedUntil: &until}
	if _, err := f.store.UpsertCourier(ctx, stranger); err != nil {
		t.Fatal(err)
	}
	sctx := doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleCourier, SubjectID: stranger.ID, CarrierID: other.ID})
	svc := access.NewService(f.store)

	_, realErr := svc.RequestAccess(sctx, doorman.AccessRequest{DoorID: f.door.ID, TrackingNumbers: []string{f.parcel}})
	_, fakeErr := svc.RequestAccess(sctx, doorman.AccessRequest{DoorID: doorman.NewID(doorman.PrefixDoor), TrackingNumbers: []string{f.parcel}})
	if realErr == nil || doorman.ErrorCode(realErr) != doorman.ErrorCode(fakeErr) || doorman.ErrorMessage(realErr) != doorman.ErrorMessage(fakeErr) {
		t.Fatalf("a real door of a building that does not allow the carrier answers %v; a made-up door %v", realErr, fakeErr)
	}
	if n := len(accessEntries(t, f)); n != 0 {
		t.Fatalf("the refused attempt wrote %d entries into the foreign building's chain", n)
	}
}

// TestWrongCarrierParcelLooksUnknown: a courier scanning another carrier's
// tracking number hears unknown_parcel, exactly as for a number nobody
// uses; the building's audit keeps the precise reason.
func TestWrongCarrierParcelLooksUnknown(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := &doorman.Carrier{Name: "Other"}
	must(t, f.store.CreateCarrier(ctx, other))
	must(t, f.store.AllowCarrier(ctx, f.door.BuildingID, other.ID))
	_, err := f.store.UpsertParcels(ctx, other.ID, []doorman.ParcelInput{{TrackingNumber: "THEIRS1", BuildingID: f.door.BuildingID, UnitLabel: "1A"}})
	must(t, err)
	svc := access.NewService(f.store)

	theirs, err := svc.RequestAccess(f.ctx(), f.request("THEIRS1"))
	must(t, err)
	nobodys, err := svc.RequestAccess(f.ctx(), f.request("NOBODYS"))
	must(t, err)
	want := doorman.Deny(doorman.ReasonUnknownParcel, "Parcel THEIRS1 is not known.")
	if theirs.Decision != want {
		t.Fatalf("another carrier's parcel answers %+v; want %+v", theirs.Decision, want)
	}
	if nobodys.Decision.Reason != theirs.Decision.Reason {
		t.Fatalf("reasons differ: %q vs %q", theirs.Decision.Reason, nobodys.Decision.Reason)
	}
	if e := accessEntries(t, f)[1]; e.Reason != doorman.ReasonParcelWrongCarrier {
		t.Fatalf("the audit entry says %q; want the precise %q", e.Reason, doorman.ReasonParcelWrongCarrier)
	}
}
