package http

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// TestDoorOfflineStatus: the API shows a manager which door is offline and
// since when, how old its last time sync is, whether it accepts offline
// grants, and, once its link returns, what it did meanwhile; another
// building's manager sees none of it.
func TestDoorOfflineStatus(t *testing.T) {
	f := newFixture(t)
	path := "/v1/buildings/" + f.buildingA.ID + "/doors/" + f.doorA.ID
	get := func() app.Door {
		t.Helper()
		var d app.Door
		f.must(200, request{Method: "GET", Path: path, Token: f.tokens[pManagerA]}).JSON(t, &d)
		return d
	}
	dev := f.freshDevice(f.doorA.ID)
	record := func(e *doorman.DeviceEvent) {
		t.Helper()
		e.DeviceID, e.DoorID = dev.ID, f.doorA.ID
		if _, err := f.store.RecordDeviceEvent(ctxBG, e); err != nil {
			t.Fatal(err)
		}
	}
	// The store dates receipt by the real clock, the server judges status
	// by the test clock: the story is told ten minutes in the past.
	now := f.clock.Now()
	start, synced := now.Add(-10*time.Minute), now.Add(-70*time.Minute)
	f.clock.Advance(-10 * time.Minute)
	record(&doorman.DeviceEvent{ID: doorman.NewID("evt"), Kind: doorman.EventHeartbeat, At: start, ClockSynced: true,
		ClockSyncedAt: synced, OfflineUntil: synced.Add(3 * 24 * time.Hour)})
	d := get()
	if !d.Online || d.OfflineSince != nil || d.ClockSyncAgeSeconds == nil || *d.ClockSyncAgeSeconds != 3600 ||
		!d.AcceptsOfflineGrants || d.ClockSyncedAt == nil || !d.ClockSyncedAt.Equal(synced) {
		t.Fatalf("an online door synced an hour ago: %+v", d)
	}

	// The link goes down for ten minutes: the door is offline since its
	// last report, its sync ages.
	f.clock.Advance(10 * time.Minute)
	d = get()
	if d.Online || d.OfflineSince == nil || !d.OfflineSince.Equal(start) || *d.ClockSyncAgeSeconds != 3600+600 || !d.AcceptsOfflineGrants {
		t.Fatalf("a door silent for ten minutes: %+v", d)
	}

	// The link returns: what the device queued meanwhile arrives late and
	// is its offline activity; what happens now is not.
	opened := &doorman.DeviceEvent{ID: doorman.NewID("evt"), Kind: doorman.EventUnlockExecuted, At: start.Add(3 * time.Minute),
		GrantID: doorman.NewID(doorman.PrefixGrant), Detail: "reader, offline grant"}
	time.Sleep(2 * time.Millisecond) // event IDs are in time order by the millisecond, as the device's are
	refused := &doorman.DeviceEvent{ID: doorman.NewID("evt"), Kind: doorman.EventCommandRejected, At: start.Add(4 * time.Minute),
		Reason: "replayed", Detail: "reader"}
	record(opened)
	record(refused)
	record(&doorman.DeviceEvent{ID: doorman.NewID("evt"), Kind: doorman.EventHeartbeat, At: now, ClockSynced: true,
		ClockSyncedAt: now, OfflineUntil: now.Add(3 * 24 * time.Hour)})
	record(&doorman.DeviceEvent{ID: doorman.NewID("evt"), Kind: doorman.EventDoorClosed, At: time.Now()})
	if d = get(); !d.Online || d.OfflineSince != nil || *d.ClockSyncAgeSeconds != 0 {
		t.Fatalf("a door back online, just synced: %+v", d)
	}
	var page Page[*app.OfflineEvent]
	f.must(200, request{Method: "GET", Path: path + "/offline-activity?limit=1", Token: f.tokens[pManagerA]}).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != refused.ID || page.Items[0].Reason != "replayed" || page.NextCursor == "" ||
		page.Items[0].RecordedAt.Sub(page.Items[0].At) < 6*time.Minute {
		t.Fatalf("first page of offline activity: %+v", page)
	}
	f.must(200, request{Method: "GET", Path: path + "/offline-activity?limit=1&cursor=" + page.NextCursor, Token: f.tokens[pManagerA]}).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != opened.ID || page.Items[0].GrantID != opened.GrantID || page.NextCursor != "" {
		t.Fatalf("second page of offline activity: %+v", page)
	}

	// Another building's manager, and a bad cursor.
	f.must(404, request{Method: "GET", Path: path + "/offline-activity", Token: f.tokens[pManagerB]})
	f.must(422, request{Method: "GET", Path: path + "/offline-activity?cursor=bm90LWFuLWV2ZW50", Token: f.tokens[pManagerA]})
}
