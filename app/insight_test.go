package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// insightWorld is a world whose building has a manager and a log with a
// few refusals at two doors and a lockdown.
func insightWorld(t *testing.T) (w *world, manager context.Context, back *app.Door) {
	t.Helper()
	w = newWorld(t)
	ctx := context.Background()
	sys := doorman.NewContextWithPrincipal(ctx, doorman.System())
	newManager(t, w, "m@example.com", "a long manager password", cheap)
	m, err := w.store.ManagerByEmail(ctx, "m@example.com")
	must(t, err)
	manager = as(doorman.RoleManager, m.ID, "")
	back, err = w.app.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: w.building.ID, Name: "Back"})
	must(t, err)
	courier, err := w.store.CourierByExternalID(ctx, w.allowed.ID, "c1")
	must(t, err)
	asCourier := as(doorman.RoleCourier, courier.ID, w.allowed.ID)
	for _, door := range []string{w.door.ID, w.door.ID, back.ID} {
		_, err := w.app.Access.RequestAccess(asCourier, doorman.AccessRequest{DoorID: door, TrackingNumbers: []string{"NOPE"}})
		must(t, err)
	}
	_, err = w.app.Buildings.SetLockdown(manager, w.building.ID, back.ID, true)
	must(t, err)
	return w, manager, back
}

// TestAuditSearchFilters: each filter of the manager's audit log, alone,
// and the cursor through a filtered log.
func TestAuditSearchFilters(t *testing.T) {
	w, manager, back := insightWorld(t)
	b := w.building.ID
	future := time.Now().Add(48 * time.Hour)
	for _, tc := range []struct {
		name string
		q    app.AuditSearch
		want func(*doorman.AuditEntry) bool
		n    int
	}{
		{"everything", app.AuditSearch{}, func(*doorman.AuditEntry) bool { return true }, -1},
		{"an action", app.AuditSearch{Action: doorman.ActionAccessDenied},
			func(e *doorman.AuditEntry) bool { return e.Action == doorman.ActionAccessDenied }, 3},
		{"an action prefix", app.AuditSearch{Action: "door."},
			func(e *doorman.AuditEntry) bool { return e.Action[:5] == "door." }, -1},
		// The world's courier has no background check on file.
		{"a reason", app.AuditSearch{Reason: doorman.ReasonBackgroundCheckExpired},
			func(e *doorman.AuditEntry) bool { return e.Reason == doorman.ReasonBackgroundCheckExpired }, 3},
		{"another reason", app.AuditSearch{Reason: doorman.ReasonUnknownParcel}, nil, 0},
		{"a door", app.AuditSearch{DoorID: back.ID, Action: doorman.ActionAccessDenied},
			func(e *doorman.AuditEntry) bool { return e.DoorID == back.ID }, 1},
		{"a carrier", app.AuditSearch{CarrierID: w.allowed.ID},
			func(e *doorman.AuditEntry) bool { return e.CarrierID == w.allowed.ID }, -1},
		{"another carrier", app.AuditSearch{CarrierID: w.stranger.ID}, nil, 0},
		{"from tomorrow on", app.AuditSearch{Since: future}, nil, 0},
		{"until yesterday", app.AuditSearch{Until: time.Now().Add(-48 * time.Hour)}, nil, 0},
		{"today", app.AuditSearch{Since: time.Now().Add(-time.Hour), Until: future, Action: doorman.ActionDoorLockdown},
			func(e *doorman.AuditEntry) bool { return e.Action == doorman.ActionDoorLockdown }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.BuildingID = b
			v, err := w.app.Audit.Search(manager, tc.q, doorman.Page{})
			must(t, err)
			if tc.n >= 0 && len(v.Entries) != tc.n {
				t.Errorf("%d entries, want %d", len(v.Entries), tc.n)
			}
			if tc.n < 0 && len(v.Entries) == 0 {
				t.Error("no entries")
			}
			for _, e := range v.Entries {
				if e.Chain != b || (tc.want != nil && !tc.want(e)) {
					t.Errorf("entry %s %s (door %s, carrier %s, reason %s) does not match", e.ID, e.Action, e.DoorID, e.CarrierID, e.Reason)
				}
			}
			for _, e := range v.Entries {
				if e.DoorID != "" && v.Names[e.DoorID] == "" || e.CarrierID != "" && v.Names[e.CarrierID] == "" {
					t.Errorf("entry %s: names %v", e.ID, v.Names)
				}
			}
		})
	}

	// The cursor goes through a filtered log one entry at a time, newest
	// first, and ends.
	var seen []int64
	page := doorman.Page{Limit: 1}
	for range 10 {
		v, err := w.app.Audit.Search(manager, app.AuditSearch{BuildingID: b, Action: doorman.ActionAccessDenied}, page)
		must(t, err)
		for _, e := range v.Entries {
			seen = append(seen, e.Seq)
		}
		if v.Next == "" {
			break
		}
		page.After = v.Next
	}
	if len(seen) != 3 || seen[0] < seen[1] || seen[1] < seen[2] {
		t.Errorf("paged through seqs %v, want 3 newest first", seen)
	}
	// Unfiltered pages, whose every read the store filters, cover the log
	// once, newest first.
	all, err := w.app.Audit.Search(manager, app.AuditSearch{BuildingID: b}, doorman.Page{})
	must(t, err)
	var paged []int64
	page = doorman.Page{Limit: 3}
	for range 20 {
		v, err := w.app.Audit.Search(manager, app.AuditSearch{BuildingID: b}, page)
		must(t, err)
		for _, e := range v.Entries {
			if len(paged) > 0 && e.Seq >= paged[len(paged)-1] {
				t.Fatalf("seq %d after %d", e.Seq, paged[len(paged)-1])
			}
			paged = append(paged, e.Seq)
		}
		if v.Next == "" {
			break
		}
		page.After = v.Next
	}
	if len(paged) != len(all.Entries) {
		t.Errorf("paged through %d entries, the log holds %d", len(paged), len(all.Entries))
	}
	if v, _ := w.app.Audit.Search(manager, app.AuditSearch{BuildingID: b}, doorman.Page{}); v.Entries[0].Action != doorman.ActionDoorLockdown {
		t.Errorf("newest entry %s, want the lockdown", v.Entries[0].Action)
	}
}

// TestAuditInsightScope: another building's manager, a courier and a
// carrier get nothing of the building's log, and the platform chain is no
// building's.
func TestAuditInsightScope(t *testing.T) {
	w, manager, _ := insightWorld(t)
	b := w.building.ID
	other := as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager), "")
	carrier := as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)
	operator := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	for _, c := range []struct {
		name string
		ctx  context.Context
		code string
	}{{"another manager", other, doorman.ENOTFOUND}, {"a carrier", carrier, doorman.EFORBIDDEN}, {"anonymous", context.Background(), doorman.EUNAUTHORIZED}} {
		_, err := w.app.Audit.Search(c.ctx, app.AuditSearch{BuildingID: b}, doorman.Page{})
		wantCode(t, c.name+" searches", err, c.code)
		_, err = w.app.Audit.Recent(c.ctx, b, 0, 10)
		wantCode(t, c.name+" reads recent entries", err, c.code)
		_, err = w.app.Audit.VerifyBuilding(c.ctx, b)
		wantCode(t, c.name+" verifies", err, c.code)
		_, err = w.app.Audit.Stats(c.ctx, b, 14, time.Now())
		wantCode(t, c.name+" sums up", err, c.code)
	}
	_, err := w.app.Audit.Search(operator, app.AuditSearch{BuildingID: doorman.PlatformChain}, doorman.Page{})
	wantCode(t, "the platform chain as a building", err, doorman.ENOTFOUND)
	_, err = w.app.Audit.Search(manager, app.AuditSearch{BuildingID: b, Since: time.Now(), Until: time.Now().Add(-time.Hour)}, doorman.Page{})
	wantCode(t, "a range that ends before it starts", err, doorman.EINVALID)
	_, err = w.app.Audit.Stats(manager, b, 0, time.Now())
	wantCode(t, "a summary of no days", err, doorman.EINVALID)
	_, err = w.app.Audit.Stats(manager, b, 91, time.Now())
	wantCode(t, "a summary of too many days", err, doorman.EINVALID)
}

// TestAuditRecentAndVerify: the live view asks for what came after the
// last seq it has; a building's chain verifies, and an edited entry is
// named.
func TestAuditRecentAndVerify(t *testing.T) {
	w, manager, back := insightWorld(t)
	b := w.building.ID
	latest, err := w.app.Audit.Recent(manager, b, 0, 2)
	must(t, err)
	if len(latest.Entries) != 2 || latest.Entries[0].Seq <= latest.Entries[1].Seq {
		t.Fatalf("latest %v", latest.Entries)
	}
	last := latest.Entries[0].Seq
	// Far behind, a live view gets the next entries, not the newest: it
	// misses none.
	next, err := w.app.Audit.Recent(manager, b, 1, 3)
	must(t, err)
	if len(next.Entries) != 3 || next.Entries[0].Seq != 4 || next.Entries[2].Seq != 2 {
		t.Fatalf("after 1: %v", next.Entries)
	}
	none, err := w.app.Audit.Recent(manager, b, last, 50)
	must(t, err)
	if len(none.Entries) != 0 {
		t.Fatalf("%d entries after the last", len(none.Entries))
	}
	_, err = w.app.Buildings.SetLockdown(manager, b, back.ID, false)
	must(t, err)
	newer, err := w.app.Audit.Recent(manager, b, last, 50)
	must(t, err)
	if len(newer.Entries) != 1 || newer.Entries[0].Action != doorman.ActionDoorLockdownLift || newer.Entries[0].Seq != last+1 {
		t.Fatalf("after %d: %v", last, newer.Entries)
	}
	if newer.Names[back.ID] != "Back" {
		t.Errorf("names %v", newer.Names)
	}

	v, err := w.app.Audit.VerifyBuilding(manager, b)
	must(t, err)
	if v.Break != nil || v.Size != last+1 || v.Head != newer.Entries[0].Hash {
		t.Fatalf("verification %+v", v)
	}
	if _, err := w.store.DB().Exec(`UPDATE audit_entries SET detail = 'edited' WHERE chain = $1 AND seq = 2`, b); err != nil {
		t.Fatal(err)
	}
	v, err = w.app.Audit.VerifyBuilding(manager, b)
	must(t, err)
	if v.Break == nil || v.Break.Seq != 2 {
		t.Fatalf("an edited entry verified: %+v", v)
	}
}
