package storetest

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testPruneDeviceEvents: events chained long ago are forgotten, in
// batches; their audit entries stay and the chain still verifies; events
// recorded lately, and events still being counted (no entry yet), are
// kept, so a redelivery of them is still known.
func testPruneDeviceEvents(t *testing.T, open Opener) {
	f := newFixture(t, open)
	d, _ := f.enroll(t, f.door.ID, time.Now().Add(-time.Hour))
	// Five events of a kind, one after the other: the first three are
	// chained, the last two counted in the open window.
	var events []*doorman.DeviceEvent
	for range doorman.DeviceEventBurst + 2 {
		e := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: d.DoorID, Kind: doorman.EventDoorForced, At: time.Now()}
		ok, err := f.s.RecordDeviceEvent(f.ctx, e)
		must(t, err)
		equal(t, "door_forced recorded", ok, true)
		events = append(events, e)
	}
	recent := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: d.DoorID, Kind: doorman.EventDoorHeldOpen, At: time.Now()}
	ok, err := f.s.RecordDeviceEvent(f.ctx, recent)
	must(t, err)
	equal(t, "recent event recorded", ok, true)
	entries := len(f.audit(t, doorman.AuditFilter{Chain: f.building.ID}))

	// The door_forced events were recorded long ago (the held-open one
	// now).
	_, err = f.db.Exec(`UPDATE device_events SET recorded_at = recorded_at - $1 WHERE kind = $2`,
		(doorman.DeviceEventRetention + time.Hour).Microseconds(), doorman.EventDoorForced)
	must(t, err)
	before := time.Now().Add(-doorman.DeviceEventRetention)

	_, err = f.s.PruneDeviceEvents(f.ctx, before, 0)
	equal(t, "prune with no limit", doorman.ErrorCode(err), doorman.EINVALID)
	n, err := f.s.PruneDeviceEvents(f.ctx, before, 2)
	must(t, err)
	equal(t, "first batch", n, 2)
	n, err = f.s.PruneDeviceEvents(f.ctx, before, 100)
	must(t, err)
	equal(t, "second batch: the third chained event; the counted ones stay", n, 1)
	n, err = f.s.PruneDeviceEvents(f.ctx, before, 100)
	must(t, err)
	equal(t, "nothing left to prune", n, 0)

	var left int
	must(t, f.db.QueryRow(`SELECT COUNT(*) FROM device_events WHERE device_id = $1`, d.ID).Scan(&left))
	equal(t, "events kept (two counted, one recent)", left, 3)
	equal(t, "audit entries after pruning", len(f.audit(t, doorman.AuditFilter{Chain: f.building.ID})), entries)
	for _, e := range []*doorman.DeviceEvent{events[len(events)-2], events[len(events)-1], recent} {
		ok, err := f.s.RecordDeviceEvent(f.ctx, e)
		must(t, err)
		equal(t, "a kept event delivered again is known: "+e.Kind, ok, false)
	}
	f.verifyClean(t)
}
