package storetest

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

func testCarriers(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := operator()
	c := &doorman.Carrier{Name: "Parcelfast"}
	must(t, s.CreateCarrier(ctx, c))
	if !doorman.HasPrefix(c.ID, doorman.PrefixCarrier) || c.CreatedAt.IsZero() {
		t.Fatalf("CreateCarrier set %+v", c)
	}
	got, err := s.Carrier(ctx, c.ID)
	must(t, err)
	equal(t, "Carrier", got, c)
	wantCode(t, s.CreateCarrier(ctx, &doorman.Carrier{Name: "Parcelfast"}), doorman.ECONFLICT)
	wantCode(t, s.CreateCarrier(ctx, &doorman.Carrier{}), doorman.EINVALID)
	_, err = s.Carrier(ctx, doorman.NewID(doorman.PrefixCarrier))
	wantCode(t, err, doorman.ENOTFOUND)

	list, _, err := s.ListCarriers(ctx, doorman.Page{})
	must(t, err)
	equal(t, "ListCarriers", list, []*doorman.Carrier{c})

	entries, _, err := s.ListAudit(ctx, doorman.AuditFilter{Chain: doorman.PlatformChain}, doorman.Page{})
	must(t, err)
	if len(entries) != 1 || entries[0].Action != doorman.ActionCarrierCreated || entries[0].CarrierID != c.ID ||
		entries[0].Actor != doorman.RoleOperator {
		t.Fatalf("platform audit after CreateCarrier: %+v", entries)
	}
}

func testCouriers(t *testing.T, open Opener) {
	f := newFixture(t, open)
	got, err := f.s.Courier(f.ctx, f.courier.ID)
	must(t, err)
	equal(t, "Courier", got, f.courier)
	got, err = f.s.CourierByExternalID(f.ctx, f.carrier.ID, "driver-1")
	must(t, err)
	equal(t, "CourierByExternalID", got, f.courier)

	// Upserting the same external ID updates the same courier.
	c := &doorman.Courier{CarrierID: f.carrier.ID, ExternalID: "driver-1", Name: "Renamed", Status: doorman.CourierSuspended}
	created, err := f.s.UpsertCourier(f.ctx, c)
	must(t, err)
	if created || c.ID != f.courier.ID || !c.CreatedAt.Equal(f.courier.CreatedAt) || c.BackgroundCheckVerifiedUntil != nil {
		t.Fatalf("UpsertCourier update: created=%v %+v", created, c)
	}
	got, err = f.s.Courier(f.ctx, c.ID)
	must(t, err)
	equal(t, "Courier after update", got, c)

	// Another carrier may use the same external ID for its own courier.
	other := f.newCarrier(t, "Slowpost")
	theirs := f.newCourier(t, other.ID, "driver-1")
	if theirs.ID == c.ID {
		t.Fatal("two carriers' couriers share an ID")
	}
	_, err = f.s.CourierByExternalID(f.ctx, other.ID, "driver-2")
	wantCode(t, err, doorman.ENOTFOUND)
	_, err = f.s.Courier(f.ctx, doorman.NewID(doorman.PrefixCourier))
	wantCode(t, err, doorman.ENOTFOUND)

	_, err = f.s.UpsertCourier(f.ctx, &doorman.Courier{CarrierID: f.carrier.ID, ExternalID: "x", Name: "x", Status: "retired"})
	wantCode(t, err, doorman.EINVALID)
	_, err = f.s.UpsertCourier(f.ctx, &doorman.Courier{CarrierID: doorman.NewID(doorman.PrefixCarrier), ExternalID: "x",
		Name: "x", Status: doorman.CourierActive})
	wantCode(t, err, doorman.ENOTFOUND)

	until := time.Now().Add(time.Hour)
	second := &doorman.Courier{CarrierID: f.carrier.ID, ExternalID: "driver-2", Name: "Bo", Status: doorman.CourierActive,
		BackgroundCheckVerifiedUntil: &until}
	_, err = f.s.UpsertCourier(f.ctx, second)
	must(t, err)
	if !second.BackgroundCheckVerifiedUntil.Equal(until.Truncate(time.Microsecond)) {
		t.Fatalf("background check until %v, want %v", second.BackgroundCheckVerifiedUntil, until)
	}
	list, _, err := f.s.ListCouriers(f.ctx, f.carrier.ID, doorman.Page{})
	must(t, err)
	equal(t, "ListCouriers", list, []*doorman.Courier{c, second})
}
