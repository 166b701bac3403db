package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// TestReturns: a resident registers a return only for their own unit at
// their own building, and only for a carrier the building allows and
// whose allowance is active; a courier lists only their carrier's returns
// and collects each once; the collection's entry gives the resident one
// "collected" email that never names the courier; an overdue entry gives
// the resident and each of the building's managers one email.
func TestReturns(t *testing.T) {
	w := newResidentWorld(t)
	ctx := context.Background()
	ana := as(doorman.RoleResident, w.ana.ID, "")
	olga := as(doorman.RoleResident, w.olga.ID, "")
	cou, err := w.store.CourierByExternalID(ctx, w.allowed.ID, "c1")
	must(t, err)
	courier := as(doorman.RoleCourier, cou.ID, w.allowed.ID)
	scou, err := w.store.CourierByExternalID(ctx, w.stranger.ID, "c1")
	must(t, err)
	strangerCourier := as(doorman.RoleCourier, scou.ID, w.stranger.ID)
	in := app.ReturnInput{CarrierID: w.allowed.ID, TrackingNumber: "RET-1", Place: doorman.ReturnPlaceMailroom}

	// Before the notice period has passed the carrier is not active.
	_, err = w.app.Returns.Register(ana, in)
	wantCode(t, "a carrier pending notice", err, doorman.EINVALID)
	w.advance(doorman.DefaultNoticePeriod + time.Hour)

	for name, c := range map[string]context.Context{"anonymous": ctx, "courier": courier, "system": w.sys,
		"carrier": as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)} {
		if _, err := w.app.Returns.Register(c, in); err == nil {
			t.Fatalf("%s registered a return", name)
		}
	}
	_, err = w.app.Returns.Register(ana, app.ReturnInput{CarrierID: w.stranger.ID, TrackingNumber: "RET-1", Place: "lobby"})
	wantCode(t, "a carrier the building does not allow", err, doorman.EINVALID)
	_, err = w.app.Returns.Register(ana, app.ReturnInput{CarrierID: w.allowed.ID, TrackingNumber: "RET-1", Place: "roof"})
	wantCode(t, "a bad place", err, doorman.EINVALID)
	// Olga's building does not allow the carrier.
	_, err = w.app.Returns.Register(olga, in)
	wantCode(t, "a carrier Olga's building does not allow", err, doorman.EINVALID)

	r, err := w.app.Returns.Register(ana, in)
	must(t, err)
	if r.BuildingID != w.building.ID || r.UnitID != w.unit.ID || r.ResidentID != w.ana.ID {
		t.Fatalf("the return is not Ana's unit's: %+v", r)
	}
	mine, err := w.app.Returns.MyReturns(ana)
	must(t, err)
	theirs, err := w.app.Returns.MyReturns(olga)
	must(t, err)
	if len(mine) != 1 || len(theirs) != 0 {
		t.Fatalf("Ana sees %d returns, Olga %d", len(mine), len(theirs))
	}
	carriers, err := w.app.Returns.ReturnCarriers(ana)
	must(t, err)
	if len(carriers) != 1 || carriers[0].ID != w.allowed.ID {
		t.Fatalf("return carriers %v", carriers)
	}

	// Couriers see their own carrier's returns only, without the resident.
	pending, err := w.app.Returns.Pending(courier, "")
	must(t, err)
	if len(pending) != 1 || pending[0].TrackingNumber != "RET-1" || pending[0].Unit != "2B" || pending[0].Place != "mailroom" {
		t.Fatalf("pending %+v", pending)
	}
	pending, err = w.app.Returns.Pending(strangerCourier, "")
	must(t, err)
	if len(pending) != 0 {
		t.Fatalf("another carrier's courier sees %+v", pending)
	}
	_, err = w.app.Returns.Pending(as(doorman.RoleManager, "mgr_x", ""), "")
	wantCode(t, "a manager listing pickups", err, doorman.EFORBIDDEN)

	_, err = w.app.Returns.Collect(strangerCourier, "RET-1")
	wantCode(t, "another carrier's courier collecting", err, doorman.ENOTFOUND)
	_, err = w.app.Returns.Collect(courier, "RET-1")
	must(t, err)
	_, err = w.app.Returns.Collect(courier, "RET-1")
	wantCode(t, "a second collection", err, doorman.ECONFLICT)

	// The producer: one email to Ana, naming the carrier, never the courier.
	e := lastEntry(t, w, w.building.ID, doorman.ActionPickupCollected)
	if e.CourierID != cou.ID || e.CarrierID != w.allowed.ID {
		t.Fatalf("pickup.collected entry %+v", e)
	}
	rs := app.NewReturns(w.store, base, nil, nil)
	msgs, err := rs.ProduceCollected(w.sys, e)
	must(t, err)
	if len(msgs) != 1 || msgs[0].Target != "ana@example.org" || msgs[0].ResidentID != w.ana.ID || msgs[0].Kind != doorman.KindReturnCollected || msgs[0].Source != e.ID {
		t.Fatalf("collected emails %+v", msgs)
	}
	if !strings.Contains(msgs[0].Text, "RET-1") || !strings.Contains(msgs[0].Text, w.allowed.Name) || !strings.Contains(msgs[0].Text, base+"/resident") ||
		strings.Contains(msgs[0].Text+msgs[0].HTML+string(msgs[0].Payload), cou.ID) {
		t.Fatalf("collected email:\n%s", msgs[0].Text)
	}
	// Other entries give nothing.
	if out, err := rs.ProduceCollected(w.sys, lastEntry(t, w, w.building.ID, doorman.ActionReturnRegistered)); err != nil || len(out) != 0 {
		t.Fatalf("a return.registered entry produced %v, %v", out, err)
	}
	if out, err := rs.ProduceOverdue(w.sys, e); err != nil || len(out) != 0 {
		t.Fatalf("the overdue producer on pickup.collected: %v, %v", out, err)
	}

	// Overdue: the resident and each manager, once each.
	for _, email := range []string{"m@example.org", "ana@example.org"} { // a manager who lives there is told once
		inv, err := w.app.Accounts.CreateInvite(w.sys, w.building.ID, email)
		must(t, err)
		_, err = w.app.Accounts.AcceptInvite(ctx, inv.Token, "M", "a long password here")
		must(t, err)
	}
	late, err := w.app.Returns.Register(ana, app.ReturnInput{CarrierID: w.allowed.ID, TrackingNumber: "RET-2", Place: "lobby"})
	must(t, err)
	over := &doorman.AuditEntry{ID: doorman.NewID(doorman.PrefixAudit), Action: doorman.ActionReturnOverdue, BuildingID: w.building.ID,
		CarrierID: w.allowed.ID, ParcelIDs: []string{late.ID}, At: time.Now()}
	msgs, err = rs.ProduceOverdue(w.sys, over)
	must(t, err)
	targets := map[string]bool{}
	for _, m := range msgs {
		if m.Kind != doorman.KindReturnOverdue || m.Source != over.ID || !strings.Contains(m.Text, "RET-2") {
			t.Fatalf("overdue email %+v", m)
		}
		targets[m.Target] = true
	}
	if len(msgs) != 2 || !targets["ana@example.org"] || !targets["m@example.org"] {
		t.Fatalf("overdue emails to %v", targets)
	}
	// The sweep is the system's.
	_, err = w.app.Returns.SweepOverdue(courier)
	wantCode(t, "a courier sweeping", err, doorman.EFORBIDDEN)
	n, err := w.app.Returns.SweepOverdue(w.sys)
	must(t, err)
	if n != 0 {
		t.Fatalf("swept %d returns registered just now", n)
	}
}
