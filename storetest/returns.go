package storetest

import (
	"testing"

	"github.com/doorman-dev/doorman"
)

// testReturns checks returns: registered with an audit entry, listed for
// the carrier while the building allows it, collected once, told overdue
// once, and gone with their resident.
func testReturns(t *testing.T, open Opener) {
	f := newFixture(t, open)
	res := &doorman.Resident{BuildingID: f.building.ID, UnitID: f.unit.ID, Name: "Ada", Email: "ada@example.org"}
	must(t, f.s.CreateResident(f.ctx, res))
	other := f.newCarrier(t, "Boxline")

	r := &doorman.Return{BuildingID: f.building.ID, UnitID: f.unit.ID, ResidentID: res.ID, CarrierID: f.carrier.ID,
		TrackingNumber: " RET-1 ", Place: doorman.ReturnPlaceLobby}
	must(t, f.s.RegisterReturn(f.ctx, r))
	if !doorman.HasPrefix(r.ID, doorman.PrefixReturn) || r.Status != doorman.ReturnRegistered || r.TrackingNumber != "RET-1" {
		t.Fatalf("registered return %+v", r)
	}
	var reg *doorman.AuditEntry
	for _, e := range f.audit(t, doorman.AuditFilter{Chain: f.building.ID}) {
		if e.Action == doorman.ActionReturnRegistered {
			reg = e
		}
	}
	if reg == nil || reg.CarrierID != f.carrier.ID || len(reg.ParcelIDs) != 1 || reg.ParcelIDs[0] != r.ID ||
		reg.Detail != "Unit 4B, Parcelfast RET-1" {
		t.Fatalf("return.registered entry %+v", reg)
	}

	// Bad input is refused, and nothing is stored.
	for name, bad := range map[string]*doorman.Return{
		"no place":        {BuildingID: f.building.ID, UnitID: f.unit.ID, ResidentID: res.ID, CarrierID: f.carrier.ID, TrackingNumber: "X1"},
		"bad tracking":    {BuildingID: f.building.ID, UnitID: f.unit.ID, ResidentID: res.ID, CarrierID: f.carrier.ID, TrackingNumber: "a b", Place: "lobby"},
		"no carrier":      {BuildingID: f.building.ID, UnitID: f.unit.ID, ResidentID: res.ID, TrackingNumber: "X1", Place: "lobby"},
		"other unit":      {BuildingID: f.building.ID, UnitID: f.newUnit(t, f.building.ID, "5C").ID, ResidentID: res.ID, CarrierID: f.carrier.ID, TrackingNumber: "X1", Place: "lobby"},
		"already open":    {BuildingID: f.building.ID, UnitID: f.unit.ID, ResidentID: res.ID, CarrierID: f.carrier.ID, TrackingNumber: "RET-1", Place: "mailroom"},
		"unknown carrier": {BuildingID: f.building.ID, UnitID: f.unit.ID, ResidentID: res.ID, CarrierID: doorman.NewID(doorman.PrefixCarrier), TrackingNumber: "X1", Place: "lobby"},
	} {
		if err := f.s.RegisterReturn(f.ctx, bad); err == nil {
			t.Fatalf("%s: registered %+v", name, bad)
		}
	}
	list, err := f.s.ResidentReturns(f.ctx, res.ID)
	must(t, err)
	equal(t, "resident's returns", len(list), 1)

	// The courier's carrier sees it pending; another carrier does not.
	pending, err := f.s.PendingReturns(f.ctx, f.carrier.ID)
	must(t, err)
	if len(pending) != 1 || pending[0].ID != r.ID {
		t.Fatalf("pending %v", pending)
	}
	pending, err = f.s.PendingReturns(f.ctx, other.ID)
	must(t, err)
	equal(t, "other carrier's pending", len(pending), 0)
	found, err := f.s.ReturnsByTracking(f.ctx, []string{"RET-1", "nope"})
	must(t, err)
	equal(t, "returns by tracking", len(found), 1)

	// Another carrier cannot collect it; the courier collects it once.
	oc := f.newCourier(t, other.ID, "boxline-1")
	if _, err := f.s.CollectReturn(f.ctx, other.ID, "RET-1", oc.ID); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("other carrier's collection: %v", err)
	}
	got, err := f.s.CollectReturn(f.ctx, f.carrier.ID, "RET-1", f.courier.ID)
	must(t, err)
	if got.Status != doorman.ReturnCollected || got.CollectedBy != f.courier.ID || got.CollectedAt == nil {
		t.Fatalf("collected %+v", got)
	}
	if _, err := f.s.CollectReturn(f.ctx, f.carrier.ID, "RET-1", f.courier.ID); doorman.ErrorCode(err) != doorman.ECONFLICT {
		t.Fatalf("second collection: %v, want ECONFLICT", err)
	}
	equal(t, "pickup.collected entries", f.countActions(t, f.building.ID, doorman.ActionPickupCollected), 1)
	var col *doorman.AuditEntry
	for _, e := range f.audit(t, doorman.AuditFilter{Chain: f.building.ID}) {
		if e.Action == doorman.ActionPickupCollected {
			col = e
		}
	}
	if col.CarrierID != f.carrier.ID || col.CourierID != f.courier.ID || col.BuildingID != f.building.ID || col.ParcelIDs[0] != r.ID {
		t.Fatalf("pickup.collected entry %+v", col)
	}
	found, err = f.s.ReturnsByTracking(f.ctx, []string{"RET-1"})
	must(t, err)
	equal(t, "a collected return is not open", len(found), 0)

	// Overdue: only once, and never for a collected return.
	late := &doorman.Return{BuildingID: f.building.ID, UnitID: f.unit.ID, ResidentID: res.ID, CarrierID: f.carrier.ID,
		TrackingNumber: "RET-2", Place: doorman.ReturnPlaceMailroom}
	must(t, f.s.RegisterReturn(f.ctx, late))
	n, err := f.s.MarkOverdueReturns(f.ctx)
	must(t, err)
	equal(t, "overdue before its days", n, 0)
	// Eight days ago (the default is seven).
	if _, err := f.db.Exec(`UPDATE returns SET created_at = created_at - 691200000000`); err != nil {
		t.Fatal(err)
	}
	n, err = f.s.MarkOverdueReturns(f.ctx)
	must(t, err)
	equal(t, "overdue", n, 1)
	n, err = f.s.MarkOverdueReturns(f.ctx)
	must(t, err)
	equal(t, "overdue again", n, 0)
	equal(t, "return.overdue entries", f.countActions(t, f.building.ID, doorman.ActionReturnOverdue), 1)
	f.verifyClean(t)

	// The returns go with their resident's data.
	must(t, f.s.EraseResident(f.ctx, f.building.ID, res.ID))
	list, err = f.s.ResidentReturns(f.ctx, res.ID)
	must(t, err)
	equal(t, "returns of an erased resident", len(list), 0)
}
