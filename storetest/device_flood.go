package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// chained counts the entries of a chain with the action, straight from the
// database: a flood is more than a page of ListAudit.
func (f *fixture) chained(t *testing.T, chain, action string) int {
	t.Helper()
	var n int
	must(t, f.db.QueryRow(`SELECT COUNT(*) FROM audit_entries WHERE chain = $1 AND action = $2`, chain, action).Scan(&n))
	return n
}

// floodEvents records n events of one kind of a device, from several
// goroutines, as fast as the store takes them, and returns them. Each
// must be recorded.
func (f *fixture) floodEvents(t *testing.T, d *doorman.Device, kind string, n int) []*doorman.DeviceEvent {
	t.Helper()
	events := make([]*doorman.DeviceEvent, n)
	for i := range events {
		events[i] = &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: d.DoorID, Kind: kind, At: time.Now()}
	}
	var wg sync.WaitGroup
	const workers = 32
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				ok, err := f.s.RecordDeviceEvent(f.ctx, events[i])
				if err != nil || !ok {
					t.Errorf("event %d of the flood: recorded %v, error %v", i, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return events
}

// testDeviceEventFlood is the attack of one door's stolen credentials on
// its building's audit log: a flood of forged door_forced events must not
// become a flood of chained entries, yet every event is accounted for and
// a real one after the flood is chained at once.
func testDeviceEventFlood(t *testing.T, open Opener) {
	f := newFixture(t, open)
	d, _ := f.enroll(t, f.door.ID, time.Now().Add(-time.Hour))
	forced := doorman.DeviceEventAction(doorman.EventDoorForced)
	before := f.chained(t, f.building.ID, forced)

	// The attack found from outside was 5,000 events in 5 s; 2,000 keep
	// the flood inside one rate window (a minute) even under -race on a
	// loaded CI machine, where 5,000 took up to 64 s and crossed it.
	const flood = 2000
	start := time.Now()
	events := f.floodEvents(t, d, doorman.EventDoorForced, flood)
	t.Logf("%d door_forced events recorded in %v", flood, time.Since(start).Round(time.Millisecond))
	if n := f.chained(t, f.building.ID, forced) - before; n != doorman.DeviceEventBurst {
		t.Fatalf("%d door_forced events from one device became %d chained entries, want %d",
			flood, n, doorman.DeviceEventBurst)
	}
	// Redelivered, counted events are not counted again.
	for _, e := range []*doorman.DeviceEvent{events[0], events[flood/2], events[flood-1]} {
		ok, err := f.s.RecordDeviceEvent(f.ctx, e)
		must(t, err)
		equal(t, "a redelivered event of the flood recorded", ok, false)
	}

	// After the window, a real door_forced reaches the log at once, right
	// after the count of the flood, which it chains first.
	f.ageEventWindows(t, d.ID)
	real := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID,
		Kind: doorman.EventDoorForced, At: time.Now(), Detail: "real"}
	ok, err := f.s.RecordDeviceEvent(f.ctx, real)
	must(t, err)
	equal(t, "door_forced after the flood recorded", ok, true)
	newest := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
	if a := newest[0]; a.Action != forced || a.Detail != "real" || a.Count != 0 || !a.At.Equal(micro(real.At)) {
		t.Fatalf("newest entry after a real door_forced: %+v", a)
	}
	count := newest[1]
	if count.Action != forced || count.Actor != "device:"+d.ID || count.DoorID != f.door.ID ||
		count.Count != flood-doorman.DeviceEventBurst || count.At.Before(micro(start)) || count.At.After(micro(real.At)) ||
		!strings.Contains(count.Detail, fmt.Sprintf("%d more door_forced events", flood-doorman.DeviceEventBurst)) {
		t.Fatalf("the flood's count: %+v", count)
	}
	if one, counts, total := f.floodEntries(t, d.ID, forced); one != doorman.DeviceEventBurst+1 || counts != 1 || total != flood+1 {
		t.Fatalf("chained one by one %d, counts %d, events accounted for %d; want %d, 1, %d",
			one, counts, total, doorman.DeviceEventBurst+1, flood+1)
	}
	ok, err = f.s.RecordDeviceEvent(f.ctx, events[1])
	must(t, err)
	equal(t, "an event of the flood redelivered after its count was chained", ok, false)
	if _, _, total := f.floodEntries(t, d.ID, forced); total != flood+1 {
		t.Fatalf("events accounted for after a redelivery: %d, want %d", total, flood+1)
	}

	// A flood of another kind is limited on its own, and its count is
	// chained by the next event of the building after its window, here
	// a heartbeat, which itself is not chained.
	opened := doorman.DeviceEventAction(doorman.EventDoorOpened)
	f.floodEvents(t, d, doorman.EventDoorOpened, 50)
	equal(t, "door_opened chained one by one", f.chained(t, f.building.ID, opened), doorman.DeviceEventBurst)
	f.ageEventWindows(t, d.ID)
	beats := f.chained(t, f.building.ID, doorman.DeviceEventAction(doorman.EventHeartbeat))
	f.floodEvents(t, d, doorman.EventHeartbeat, 100)
	equal(t, "heartbeats chained", f.chained(t, f.building.ID, doorman.DeviceEventAction(doorman.EventHeartbeat)), beats)
	if one, counts, total := f.floodEntries(t, d.ID, opened); one != doorman.DeviceEventBurst || counts != 1 || total != 50 {
		t.Fatalf("door_opened: chained one by one %d, counts %d, events accounted for %d", one, counts, total)
	}

	// A building gone silent after a flood: the sweep chains the count
	// without waiting for its next event.
	closed := doorman.DeviceEventAction(doorman.EventDoorClosed)
	f.floodEvents(t, d, doorman.EventDoorClosed, 20)
	n, err := f.s.ChainEventCounts(f.ctx)
	must(t, err)
	equal(t, "counts chained while the window is open", n, 0)
	f.ageEventWindows(t, d.ID)
	n, err = f.s.ChainEventCounts(f.ctx)
	must(t, err)
	equal(t, "counts chained by the sweep", n, 1)
	if one, counts, total := f.floodEntries(t, d.ID, closed); one != doorman.DeviceEventBurst || counts != 1 || total != 20 {
		t.Fatalf("door_closed after the sweep: chained one by one %d, counts %d, events accounted for %d", one, counts, total)
	}
	n, err = f.s.ChainEventCounts(f.ctx)
	must(t, err)
	equal(t, "counts chained by a second sweep", n, 0)

	// Nothing is lost: every event kept names the entry that chained it,
	// alone or in a count.
	var unchained int
	must(t, f.db.QueryRow(`SELECT COUNT(*) FROM device_events WHERE device_id = $1 AND audit_id = ''`, d.ID).Scan(&unchained))
	equal(t, "events kept that no entry accounts for", unchained, 0)
	f.verifyClean(t)
}

// testSharedDeviceEventFlood floods one device's events through two
// stores on one database: the rate limit holds across nodes.
func testSharedDeviceEventFlood(t *testing.T, open SharedOpener) {
	a, b, db := open(t)
	f := newFixtureOn(t, a, db)
	d, _ := f.enroll(t, f.door.ID, time.Now().Add(-time.Hour))
	forced := doorman.DeviceEventAction(doorman.EventDoorForced)
	const n = 400
	var wg sync.WaitGroup
	for i, s := range []doorman.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / 4 {
				ok, err := s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
					DoorID: f.door.ID, Kind: doorman.EventDoorForced, At: time.Now()})
				if err != nil || !ok {
					t.Errorf("store %d: recorded %v, error %v", i%2, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	equal(t, "door_forced chained one by one through two stores", f.chained(t, f.building.ID, forced), doorman.DeviceEventBurst)
	f.ageEventWindows(t, d.ID)
	_, err := b.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
		DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: time.Now()})
	must(t, err)
	if one, counts, total := f.floodEntries(t, d.ID, forced); one != doorman.DeviceEventBurst || counts != 1 || total != n {
		t.Fatalf("through two stores: chained one by one %d, counts %d, events accounted for %d of %d", one, counts, total, n)
	}
	f.verifyClean(t)
}

// ageEventWindows moves the device's event windows an hour into the past,
// as if the store had not heard of it since. The suite reaches under the
// store for it, as it does to tamper with the audit log.
func (f *fixture) ageEventWindows(t *testing.T, deviceID string) {
	t.Helper()
	_, err := f.db.Exec(`UPDATE device_event_windows SET opened_at = opened_at - $1 WHERE device_id = $2`,
		time.Hour.Microseconds(), deviceID)
	must(t, err)
}

// floodEntries reads the device's chained entries of the action: how many
// stand for one event, how many are counts, and how many events they
// account for together.
func (f *fixture) floodEntries(t *testing.T, deviceID, action string) (one, counts, events int) {
	t.Helper()
	rows, err := f.db.Query(`SELECT event_count FROM audit_entries WHERE actor = $1 AND action = $2`,
		"device:"+deviceID, action)
	must(t, err)
	defer rows.Close()
	for rows.Next() {
		var n int
		must(t, rows.Scan(&n))
		if n == 0 {
			one++
			events++
		} else {
			counts++
			events += n
		}
	}
	must(t, rows.Err())
	return one, counts, events
}

// testDeviceEventTimes checks which device times the store believes: an
// event queued through an outage keeps its time; one dated years back or
// ahead of receipt is recorded at its receipt, with the device's claim
// kept beside it.
func testDeviceEventTimes(t *testing.T, open Opener) {
	f := newFixture(t, open)
	d, _ := f.enroll(t, f.door.ID, time.Now().Add(-90*24*time.Hour))
	record := func(name string, at time.Time) *doorman.AuditEntry {
		t.Helper()
		ok, err := f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
			DoorID: f.door.ID, Kind: doorman.EventTamper, At: at, Detail: name})
		must(t, err)
		equal(t, name+" recorded", ok, true)
		a := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]
		if a.Detail != name {
			t.Fatalf("%s: newest entry is %+v", name, a)
		}
		return a
	}
	// Each in a window of its own: the burst is not what is tested here.
	kinds := 0
	next := func() {
		if kinds++; kinds%doorman.DeviceEventBurst == 0 {
			f.ageEventWindows(t, d.ID)
		}
	}

	outage := time.Now().Add(-(doorman.DeviceEventMaxAge - time.Hour))
	a := record("queued through an outage", outage)
	if !a.At.Equal(micro(outage)) || a.ClaimedAt != nil {
		t.Fatalf("an event queued through an outage: %+v", a)
	}
	next()

	for _, c := range []struct {
		name  string
		claim time.Time
	}{
		{"dated 2020", time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"dated before any queue holds", time.Now().Add(-doorman.DeviceEventMaxAge - time.Hour)},
		{"dated tomorrow", time.Now().Add(24 * time.Hour)},
		{"dated beyond the skew", time.Now().Add(doorman.DeviceEventMaxSkew + time.Minute)},
	} {
		name, claim := c.name, c.claim
		received := micro(time.Now())
		a := record(name, claim)
		if a.At.Before(received) || a.At.After(time.Now()) || a.ClaimedAt == nil || !a.ClaimedAt.Equal(micro(claim)) {
			t.Fatalf("an event %s (received %v) audited as %+v", name, received, a)
		}
		next()
	}

	// A revoked device cannot date an event before its revocation with a
	// time beyond the bounds: it is taken at its receipt, after.
	_, err := f.s.RevokeDevice(f.ctx, f.building.ID, d.ID, time.Now())
	must(t, err)
	_, err = f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
		DoorID: f.door.ID, Kind: doorman.EventDoorForced, At: time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)})
	wantCode(t, err, doorman.EFORBIDDEN)
	f.verifyClean(t)
}
