package storetest

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

func testAccess(t *testing.T, open Opener) {
	t.Run("Granted", func(t *testing.T) {
		f := newFixture(t, open)
		ps := f.newParcels(t, "TRK-2", "TRK-1")
		now := time.Now()
		rec := f.grant(ps, now)
		ctx := as(doorman.RoleCourier, f.courier.ID)
		e, err := f.s.RecordAccess(ctx, rec)
		must(t, err)
		if e.Action != doorman.ActionAccessGranted || e.GrantID != rec.Grant.ID || e.Chain != f.building.ID ||
			e.Actor != "courier:"+f.courier.ID || e.DoorID != f.door.ID || e.CourierID != f.courier.ID ||
			e.CarrierID != f.carrier.ID || !e.At.Equal(now.Truncate(time.Microsecond)) || e.Hash == "" {
			t.Fatalf("grant audit entry: %+v", e)
		}
		equal(t, "audit parcel IDs", e.ParcelIDs, []string{ps[0].ID, ps[1].ID})
		listed := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]
		equal(t, "listed entry", listed, e)

		g, err := f.s.Grant(f.ctx, rec.Grant.ID)
		must(t, err)
		want := *rec.Grant
		want.DoorID, want.BuildingID, want.CourierID, want.CarrierID = f.door.ID, f.building.ID, f.courier.ID, f.carrier.ID
		want.IssuedAt, want.ExpiresAt = want.IssuedAt.UTC().Truncate(time.Microsecond), want.ExpiresAt.UTC().Truncate(time.Microsecond)
		equal(t, "Grant", g, &want)

		// The device's time is held within the grant's life so far.
		must(t, f.s.MarkGrantUsed(f.ctx, g.ID, g.IssuedAt.Add(-time.Hour)))
		wantCode(t, f.s.MarkGrantUsed(f.ctx, g.ID, now), doorman.ECONFLICT) // single use
		g, err = f.s.Grant(f.ctx, g.ID)
		must(t, err)
		if g.UsedAt == nil || !g.UsedAt.Equal(g.IssuedAt) {
			t.Fatalf("UsedAt = %v, want the issue time %v for an execution claimed before it", g.UsedAt, g.IssuedAt)
		}
		wantCode(t, f.s.MarkGrantUsed(f.ctx, doorman.NewID(doorman.PrefixGrant), now), doorman.ENOTFOUND)
		_, err = f.s.Grant(f.ctx, doorman.NewID(doorman.PrefixGrant))
		wantCode(t, err, doorman.ENOTFOUND)

		late := f.grant(ps, now.Add(-2*doorman.GrantTTL))
		_, err = f.s.RecordAccess(ctx, late)
		must(t, err)
		wantCode(t, f.s.MarkGrantUsed(f.ctx, late.Grant.ID, now), doorman.ECONFLICT) // expired
		f.verifyClean(t)
	})

	t.Run("Denied", func(t *testing.T) {
		f := newFixture(t, open)
		rec := f.deny(doorman.ReasonCarrierNotAllowed, time.Now())
		e, err := f.s.RecordAccess(f.ctx, rec)
		must(t, err)
		if e.Action != doorman.ActionAccessDenied || e.Reason != doorman.ReasonCarrierNotAllowed ||
			e.Detail != "test denial" || e.GrantID != "" {
			t.Fatalf("denial audit entry: %+v", e)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		f := newFixture(t, open)
		ps := f.newParcels(t, "TRK-1")
		now := time.Now()
		for name, mutate := range map[string]func(*doorman.AccessRecord){
			"allowed without grant": func(r *doorman.AccessRecord) { r.Grant = nil },
			"denied with grant":     func(r *doorman.AccessRecord) { r.Decision = doorman.Deny(doorman.ReasonRateLimited, "") },
			"no door":               func(r *doorman.AccessRecord) { r.DoorID = "" },
			"grant of another door": func(r *doorman.AccessRecord) { r.Grant.DoorID = doorman.NewID(doorman.PrefixDoor) },
			"expires before issued": func(r *doorman.AccessRecord) { r.Grant.ExpiresAt = r.Grant.IssuedAt.Add(-time.Second) },
		} {
			rec := f.grant(ps, now)
			mutate(rec)
			_, err := f.s.RecordAccess(f.ctx, rec)
			if doorman.ErrorCode(err) != doorman.EINVALID {
				t.Errorf("%s: error %v, want EINVALID", name, err)
			}
		}
		rec := f.grant(ps, now)
		rec.Grant.ParcelIDs = []string{doorman.NewID(doorman.PrefixParcel)}
		_, err := f.s.RecordAccess(f.ctx, rec)
		wantCode(t, err, doorman.ENOTFOUND)
		rec = f.grant(ps, now)
		rec.DoorID, rec.Grant.DoorID = doorman.NewID(doorman.PrefixDoor), ""
		_, err = f.s.RecordAccess(f.ctx, rec)
		wantCode(t, err, doorman.ENOTFOUND)

		// A grant for a real door filed under another building (and so in
		// that building's audit chain) is refused.
		other := f.newBuilding(t, "Oak Yard")
		rec = f.grant(ps, now)
		rec.BuildingID, rec.Grant.BuildingID = other.ID, ""
		_, err = f.s.RecordAccess(f.ctx, rec)
		wantCode(t, err, doorman.ENOTFOUND)
		if n := len(f.audit(t, doorman.AuditFilter{Chain: other.ID})); n != 1 { // building.created only
			t.Fatalf("refused cross-building grant left %d audit entries in the other chain", n-1)
		}
		if n := len(f.audit(t, doorman.AuditFilter{DoorID: f.door.ID})); n != 1 { // door.created only
			t.Fatalf("refused records left %d door audit entries", n-1)
		}
		f.verifyClean(t)
	})
}

func testRateLimitAtCommit(t *testing.T, open Opener) {
	f := newFixture(t, open)
	ps := f.newParcels(t, "TRK-1")
	now := time.Now()
	for i := range 3 {
		rec := f.grant(ps, now)
		rec.CourierLimit, rec.DoorLimit = 5, 2
		_, err := f.s.RecordAccess(f.ctx, rec)
		if i < 2 {
			must(t, err)
			continue
		}
		wantCode(t, err, doorman.ECONFLICT)
		if doorman.ErrorReason(err) != doorman.ReasonRateLimited {
			t.Fatalf("third grant: reason %q, want rate_limited", doorman.ErrorReason(err))
		}
		if _, err := f.s.Grant(f.ctx, rec.Grant.ID); doorman.ErrorCode(err) != doorman.ENOTFOUND {
			t.Fatalf("a refused grant was stored: %v", err)
		}
	}
	// A denial does not use up the door's budget: within the courier's
	// limit it is recorded though the door's limit is reached.
	rec := f.deny(doorman.ReasonUnknownParcel, now)
	rec.CourierLimit, rec.DoorLimit = 5, 1
	_, err := f.s.RecordAccess(f.ctx, rec)
	must(t, err)
	// Past the courier's limit, a denial is counted, not recorded, and
	// says when the oldest counted request leaves the window.
	before := len(f.audit(t, doorman.AuditFilter{DoorID: f.door.ID}))
	rec = f.deny(doorman.ReasonUnknownParcel, now.Add(time.Second))
	rec.CourierLimit = 3
	_, err = f.s.RecordAccess(f.ctx, rec)
	wantCode(t, err, doorman.ECONFLICT)
	if doorman.ErrorReason(err) != doorman.ReasonRateLimited {
		t.Fatalf("denial past the courier's limit: reason %q", doorman.ErrorReason(err))
	}
	if after := doorman.ErrorRetryAfter(err); after < doorman.RateWindow-2*time.Second || after > doorman.RateWindow+doorman.RateResolution {
		t.Fatalf("retry after %v; want the window (to its resolution) less the second since the first request", after)
	}
	if n := len(f.audit(t, doorman.AuditFilter{DoorID: f.door.ID})); n != before {
		t.Fatalf("a rate-limited denial was chained: %d entries, want %d", n, before)
	}
	f.verifyClean(t)
}

func testLockdown(t *testing.T, open Opener) {
	f := newFixture(t, open)
	ps := f.newParcels(t, "TRK-1")
	now := time.Now()

	used := f.grant(ps, now)
	expired := f.grant(ps, now.Add(-2*doorman.GrantTTL))
	pending := f.grant(ps, now)
	otherDoor := f.newDoor(t, f.building.ID, "Back door")
	elsewhere := f.grant(ps, now)
	elsewhere.DoorID, elsewhere.Grant.DoorID = otherDoor.ID, otherDoor.ID
	for _, rec := range []*doorman.AccessRecord{used, expired, pending, elsewhere} {
		_, err := f.s.RecordAccess(f.ctx, rec)
		must(t, err)
	}
	must(t, f.s.MarkGrantUsed(f.ctx, used.Grant.ID, now))

	ctx := as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager))
	d, err := f.s.UpdateDoor(ctx, f.door.ID, doorman.DoorUpdate{LockedDown: ptr(true)})
	must(t, err)
	if !d.LockedDown {
		t.Fatal("UpdateDoor did not lock the door down")
	}
	revoked := func(rec *doorman.AccessRecord) bool {
		g, err := f.s.Grant(f.ctx, rec.Grant.ID)
		must(t, err)
		return g.RevokedAt != nil
	}
	if !revoked(pending) {
		t.Fatal("lockdown left an unused, unexpired grant of the door standing")
	}
	if revoked(used) || revoked(expired) || revoked(elsewhere) {
		t.Fatal("lockdown revoked a used or expired grant, or a grant of another door")
	}
	wantCode(t, f.s.MarkGrantUsed(f.ctx, pending.Grant.ID, now.Add(time.Second)), doorman.ECONFLICT)
	must(t, f.s.MarkGrantUsed(f.ctx, elsewhere.Grant.ID, now.Add(time.Second)))

	e := f.audit(t, doorman.AuditFilter{DoorID: f.door.ID})[0]
	if e.Action != doorman.ActionDoorLockdown || e.Actor != doorman.ActorFromContext(ctx) {
		t.Fatalf("lockdown audit entry: %+v", e)
	}
	// The device executed it before the lockdown reached it (the mark
	// comes after the courier's answer): it was used, not revoked.
	must(t, f.s.MarkGrantUsed(f.ctx, pending.Grant.ID, now))
	if g, err := f.s.Grant(f.ctx, pending.Grant.ID); err != nil || g.UsedAt == nil || g.RevokedAt != nil {
		t.Fatalf("a grant executed before the lockdown: %+v, %v", g, err)
	}

	// A grant committed after the lockdown is not written: the entry
	// records the denial, with the reason, in the same transaction.
	late := f.grant(ps, time.Now())
	e, err = f.s.RecordAccess(f.ctx, late)
	must(t, err)
	if e.Action != doorman.ActionAccessDenied || e.Reason != doorman.ReasonDoorLockedDown || e.GrantID != "" {
		t.Fatalf("entry of a grant refused by the lockdown: %+v", e)
	}
	if _, err := f.s.Grant(f.ctx, late.Grant.ID); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("a grant refused by the lockdown was stored: %v", err)
	}

	d, err = f.s.UpdateDoor(ctx, f.door.ID, doorman.DoorUpdate{LockedDown: ptr(false)})
	must(t, err)
	if d.LockedDown {
		t.Fatal("lockdown not lifted")
	}
	if e := f.audit(t, doorman.AuditFilter{DoorID: f.door.ID})[0]; e.Action != doorman.ActionDoorLockdownLift {
		t.Fatalf("lift audit action %q", e.Action)
	}
	_, err = f.s.RecordAccess(f.ctx, f.grant(ps, time.Now()))
	must(t, err)
	f.verifyClean(t)
}

// testRateWindow: a request counts against its courier for at least
// RateWindow and at most RateWindow + RateResolution, and Retry-After is
// exact: a request at the time it names is let through, one a microsecond
// earlier is not. A grant refused at commit by a lockdown uses no door
// budget.
func testRateWindow(t *testing.T, open Opener) {
	f := newFixture(t, open)
	ps := f.newParcels(t, "TRK-1")
	t0 := time.Now().Truncate(time.Microsecond)
	record := func(at time.Time, courierLimit, doorLimit int) error {
		t.Helper()
		rec := f.grant(ps, at)
		rec.CourierLimit, rec.DoorLimit = courierLimit, doorLimit
		_, err := f.s.RecordAccess(f.ctx, rec)
		if err != nil && doorman.ErrorReason(err) != doorman.ReasonRateLimited {
			t.Fatalf("grant at %v: %v", at, err)
		}
		return err
	}
	must(t, record(t0, 1, 0))
	if err := record(t0.Add(doorman.RateWindow-time.Microsecond), 1, 0); err == nil {
		t.Fatal("a request within the window of the last one was let through past a limit of 1")
	}
	// Asked halfway through the window, the answer is when there is room.
	asked := t0.Add(doorman.RateWindow / 2)
	err := record(asked, 1, 0)
	if err == nil {
		t.Fatal("a request halfway through the window was let through past a limit of 1")
	}
	after := doorman.ErrorRetryAfter(err)
	if after < doorman.RateWindow/2 || after > doorman.RateWindow/2+doorman.RateResolution {
		t.Fatalf("retry after %v halfway through the window; want %v to %v", after,
			doorman.RateWindow/2, doorman.RateWindow/2+doorman.RateResolution)
	}
	if err := record(asked.Add(after-time.Microsecond), 1, 0); err == nil {
		t.Fatalf("a request before Retry-After (%v) was let through", after)
	}
	must(t, record(asked.Add(after), 1, 0))
	if late := t0.Add(doorman.RateWindow + doorman.RateResolution); asked.Add(after).After(late) {
		t.Fatalf("the request at %v was counted past the window and its resolution (%v)", t0, late)
	}

	// A grant the lockdown turns into a denial does not use the door's
	// budget: with a door limit of 1, the next grant still goes through.
	door := f.newDoor(t, f.building.ID, "Side door")
	manager := as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager))
	lock := func(on bool) {
		t.Helper()
		_, err := f.s.UpdateDoor(manager, door.ID, doorman.DoorUpdate{LockedDown: ptr(on)})
		must(t, err)
	}
	at := t0.Add(time.Hour)
	grant := func() (*doorman.AuditEntry, error) {
		rec := f.grant(ps, at)
		rec.DoorID, rec.Grant.DoorID, rec.DoorLimit = door.ID, door.ID, 1
		return f.s.RecordAccess(f.ctx, rec)
	}
	lock(true)
	e, err := grant()
	must(t, err)
	if e.Reason != doorman.ReasonDoorLockedDown {
		t.Fatalf("grant at a locked-down door: %+v", e)
	}
	lock(false)
	e, err = grant()
	must(t, err)
	if e.Action != doorman.ActionAccessGranted {
		t.Fatalf("first grant after the lockdown: %+v", e)
	}
	if _, err := grant(); doorman.ErrorReason(err) != doorman.ReasonRateLimited {
		t.Fatalf("second grant past the door's limit of 1: %v", err)
	}
	f.verifyClean(t)
}

// testRateSweep: the counts of windows long gone are deleted, so they do
// not pile up, and those of the current window stay and still count.
func testRateSweep(t *testing.T, open Opener) {
	f := newFixture(t, open)
	sw, ok := f.s.(RateSweeper)
	if !ok || f.db == nil {
		t.Skip("the store cannot be swept, or there is no database to look under it")
	}
	ps := f.newParcels(t, "TRK-1")
	now := time.Now()
	rows := func() int {
		t.Helper()
		var n int
		must(t, f.db.QueryRow(`SELECT COUNT(*) FROM rate_counts`).Scan(&n))
		return n
	}
	// A day of requests, an hour apart, then one now: each adds a count
	// of the courier and one of the door.
	for i := 24; i >= 0; i-- {
		_, err := f.s.RecordAccess(f.ctx, f.grant(ps, now.Add(-time.Duration(i)*time.Hour)))
		must(t, err)
	}
	if n := rows(); n < 2 || n > 50 {
		t.Fatalf("%d rate counts after 25 requests", n)
	}
	_, err := sw.SweepRateCounts(f.ctx)
	must(t, err)
	if n := rows(); n != 2 {
		t.Fatalf("%d rate counts after the sweep; want the current window's 2", n)
	}
	n, err := sw.SweepRateCounts(f.ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("a second sweep deleted %d counts", n)
	}
	// What is left still counts: the courier is at its limit of 1.
	rec := f.grant(ps, now.Add(time.Second))
	rec.CourierLimit = 1
	if _, err := f.s.RecordAccess(f.ctx, rec); doorman.ErrorReason(err) != doorman.ReasonRateLimited {
		t.Fatalf("a second request within the window past a limit of 1: %v", err)
	}
}
