package storetest

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testOfflineStatus: a heartbeat's time-sync report reaches the door, a
// late heartbeat does not overwrite a newer one, and a door's offline
// activity lists exactly the events that arrived well after they happened,
// newest first, page by page.
func testOfflineStatus(t *testing.T, open Opener) {
	f := newFixture(t, open)
	now := time.Now()
	dev, _ := f.enroll(t, f.door.ID, now.Add(-time.Hour))
	other := f.newDoor(t, f.building.ID, "Side door")
	otherDev, _ := f.enroll(t, other.ID, now.Add(-time.Hour))

	synced, until := now.Add(-2*time.Hour), now.Add(7*24*time.Hour)
	record := func(e *doorman.DeviceEvent) {
		t.Helper()
		if e.ID == "" {
			e.ID = doorman.NewID("evt")
		}
		_, err := f.s.RecordDeviceEvent(f.ctx, e)
		must(t, err)
	}
	record(&doorman.DeviceEvent{DeviceID: dev.ID, DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: now,
		ClockSynced: true, ClockSyncedAt: synced, OfflineUntil: until})
	d, err := f.s.Door(f.ctx, f.door.ID)
	must(t, err)
	if d.ClockSyncedAt == nil || !d.ClockSyncedAt.Equal(micro(synced)) || d.OfflineGrantsUntil == nil || !d.OfflineGrantsUntil.Equal(micro(until)) {
		t.Fatalf("door after a heartbeat: clock_synced_at %v, offline_grants_until %v", d.ClockSyncedAt, d.OfflineGrantsUntil)
	}
	// An older heartbeat delivered late changes nothing; a newer one
	// without a sync (the device lost its state) clears both.
	record(&doorman.DeviceEvent{DeviceID: dev.ID, DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: now.Add(-30 * time.Second),
		ClockSynced: true, ClockSyncedAt: synced.Add(-time.Hour)})
	d, err = f.s.Door(f.ctx, f.door.ID)
	must(t, err)
	if !d.ClockSyncedAt.Equal(micro(synced)) || d.OfflineGrantsUntil == nil {
		t.Fatalf("a late heartbeat overwrote the door's sync: %v, %v", d.ClockSyncedAt, d.OfflineGrantsUntil)
	}
	record(&doorman.DeviceEvent{DeviceID: dev.ID, DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: now.Add(time.Second)})
	d, err = f.s.Door(f.ctx, f.door.ID)
	must(t, err)
	if d.ClockSyncedAt != nil || d.OfflineGrantsUntil != nil {
		t.Fatalf("a heartbeat without a sync left %v, %v", d.ClockSyncedAt, d.OfflineGrantsUntil)
	}

	// Offline activity: two events queued for minutes, one on time, one
	// of another door queued too.
	old1 := &doorman.DeviceEvent{DeviceID: dev.ID, DoorID: f.door.ID, Kind: doorman.EventDoorOpened, At: now.Add(-20 * time.Minute)}
	record(old1)
	time.Sleep(2 * time.Millisecond) // event IDs are in time order by the millisecond, as a device's are
	old2 := &doorman.DeviceEvent{DeviceID: dev.ID, DoorID: f.door.ID, Kind: doorman.EventUnlockExecuted, At: now.Add(-10 * time.Minute),
		Detail: "reader"}
	record(old2)
	record(&doorman.DeviceEvent{DeviceID: dev.ID, DoorID: f.door.ID, Kind: doorman.EventDoorClosed, At: time.Now()})
	record(&doorman.DeviceEvent{DeviceID: otherDev.ID, DoorID: other.ID, Kind: doorman.EventDoorOpened, At: now.Add(-15 * time.Minute)})

	got, next, err := f.s.OfflineActivity(f.ctx, f.door.ID, doorman.Page{Limit: 1})
	must(t, err)
	if len(got) != 1 || got[0].ID != old2.ID || got[0].Kind != doorman.EventUnlockExecuted || got[0].Detail != "reader" ||
		!got[0].At.Equal(micro(old2.At)) || got[0].RecordedAt.Sub(got[0].At) < doorman.OfflineActivityLag || next == "" {
		t.Fatalf("first page of offline activity: %+v, next %q", got, next)
	}
	got, next, err = f.s.OfflineActivity(f.ctx, f.door.ID, doorman.Page{Limit: 1, After: next})
	must(t, err)
	if len(got) != 1 || got[0].ID != old1.ID || next != "" {
		t.Fatalf("second page of offline activity: %+v, next %q", got, next)
	}
	got, _, err = f.s.OfflineActivity(f.ctx, other.ID, doorman.Page{})
	must(t, err)
	equal(t, "offline activity of the side door", len(got), 1)
	_, _, err = f.s.OfflineActivity(f.ctx, f.door.ID, doorman.Page{After: "bm90LWFuLWV2ZW50"})
	wantCode(t, err, doorman.EINVALID)
}
