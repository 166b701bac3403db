package app_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/wire"
)

// enrollDevice registers a device for the world's door, through the store
// (enrollment over the API needs a bus).
func (w *world) enrollDevice(t *testing.T) *doorman.Device {
	t.Helper()
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	_, hash := doorman.NewToken("")
	must(t, w.store.CreateEnrollment(ctx, &doorman.Enrollment{DoorID: w.door.ID, CodeHash: hash}))
	kp, err := nkeys.CreateUser()
	must(t, err)
	pub, err := kp.PublicKey()
	must(t, err)
	d := &doorman.Device{PublicKey: pub}
	_, err = w.store.EnrollDevice(ctx, hash, d, time.Now())
	must(t, err)
	return d
}

// deviceEntries returns the building's entries of a device event kind,
// newest first.
func (w *world) deviceEntries(t *testing.T, kind string) []*doorman.AuditEntry {
	t.Helper()
	entries, _, err := w.store.ListAudit(context.Background(), doorman.AuditFilter{Chain: w.building.ID},
		doorman.Page{Limit: doorman.MaxPageLimit})
	must(t, err)
	var out []*doorman.AuditEntry
	for _, e := range entries {
		if e.Action == doorman.DeviceEventAction(kind) {
			out = append(out, e)
		}
	}
	return out
}

// TestDeviceEventFlood is the attack of one door's stolen credentials on
// the bus: 5,000 forged door_forced events in a few seconds, and events
// dated 2020. The building's audit log gets a handful of entries, and the
// forged dates are not believed.
func TestDeviceEventFlood(t *testing.T) {
	w := newWorld(t)
	d := w.enrollDevice(t)
	dev := doorman.NewContextWithPrincipal(context.Background(), app.DevicePrincipal(w.door.ID, d.ID))

	const flood = 5000
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range flood / 16 {
				ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorForced, DoorID: w.door.ID, At: time.Now()}
				if err := w.app.Devices.RecordEvent(dev, ev); err != nil {
					t.Errorf("RecordEvent: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var n int
	must(t, w.store.DB().QueryRow(`SELECT COUNT(*) FROM audit_entries WHERE chain = $1 AND action = $2`,
		w.building.ID, doorman.DeviceEventAction(wire.EventDoorForced)).Scan(&n))
	if n > doorman.DeviceEventBurst {
		t.Fatalf("%d forged door_forced events became %d audit entries, want at most %d", flood, n, doorman.DeviceEventBurst)
	}

	dated := time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)
	received := time.Now().UTC().Truncate(time.Microsecond)
	must(t, w.app.Devices.RecordEvent(dev, &wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper,
		DoorID: w.door.ID, At: dated}))
	a := w.deviceEntries(t, wire.EventTamper)[0]
	if a.At.Before(received) || a.At.After(time.Now()) || a.ClaimedAt == nil || !a.ClaimedAt.Equal(dated) {
		t.Fatalf("an event dated 2020, received at %v, audited as %+v", received, a)
	}
}
