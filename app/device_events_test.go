package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/wire"
)

// enrolledDevice registers a device with a fresh NATS user key for the
// world's door, as enrollment does, and returns it with its key pair.
func enrolledDevice(t *testing.T, w *world) (*doorman.Device, nkeys.KeyPair) {
	t.Helper()
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	sum := sha256.Sum256([]byte(doorman.NewID("code")))
	hash := hex.EncodeToString(sum[:])
	must(t, w.store.CreateEnrollment(ctx, &doorman.Enrollment{DoorID: w.door.ID, BuildingID: w.building.ID, CodeHash: hash}))
	d := &doorman.Device{PublicKey: pub}
	if _, err := w.store.EnrollDevice(ctx, hash, d, time.Now()); err != nil {
		t.Fatal(err)
	}
	return d, kp
}

// deviceEvents returns the device events in the door's audit log.
func deviceEvents(t *testing.T, w *world) []*doorman.AuditEntry {
	t.Helper()
	all, _, err := w.store.ListAudit(context.Background(), doorman.AuditFilter{DoorID: w.door.ID}, doorman.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []*doorman.AuditEntry
	for _, e := range all {
		for _, kind := range wire.EventKinds {
			if e.Action == doorman.DeviceEventAction(kind) {
				out = append(out, e)
			}
		}
	}
	return out
}

// TestAttack_ForgedEvents: whoever holds a door's bus credentials, or can
// otherwise get a message onto the device's event subject, cannot write an
// event into the building's log unless the device's own key signed it.
func TestAttack_ForgedEvents(t *testing.T) {
	w := newWorld(t)

	newEvent := func() *wire.Event {
		return &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorForced, DoorID: w.door.ID, At: time.Now().UTC()}
	}
	d, key := enrolledDevice(t, w)
	ctx := doorman.NewContextWithPrincipal(context.Background(), app.DevicePrincipal(w.door.ID, d.ID))
	// A rival key pair: another device's, or one the attacker made.
	rivalKey, _ := nkeys.CreateUser()

	forged := map[string]*wire.Event{"unsigned": newEvent()}
	ev := newEvent()
	must(t, ev.Sign(d.ID, rivalKey))
	forged["signed by another key"] = ev
	ev = newEvent()
	must(t, ev.Sign(doorman.NewID(doorman.PrefixDevice), key))
	forged["signed for another device ID"] = ev
	ev = newEvent()
	must(t, ev.Sign(d.ID, key))
	ev.Kind, ev.Detail = wire.EventDoorClosed, "nothing to see"
	forged["changed after signing"] = ev
	for name, ev := range forged {
		if err := w.app.Devices.RecordEvent(ctx, ev); doorman.ErrorCode(err) != doorman.EFORBIDDEN {
			t.Errorf("%s: err = %v, want EFORBIDDEN", name, err)
		}
	}
	if got := deviceEvents(t, w); len(got) != 0 {
		t.Fatalf("forged events reached the audit log: %d", len(got))
	}

	// The device's own signed event is recorded.
	ev = newEvent()
	must(t, ev.Sign(d.ID, key))
	must(t, w.app.Devices.RecordEvent(ctx, ev))
	if got := deviceEvents(t, w); len(got) != 1 {
		t.Fatalf("signed event: %d audit entries, want 1", len(got))
	}
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
// the bus: hundreds of forged door_forced events in a few seconds, and events
// dated 2020. The building's audit log gets a handful of entries, and the
// forged dates are not believed.
func TestDeviceEventFlood(t *testing.T) {
	w := newWorld(t)
	d, key := enrolledDevice(t, w)
	dev := doorman.NewContextWithPrincipal(context.Background(), app.DevicePrincipal(w.door.ID, d.ID))

	const flood = 800 // well within one rate window, even under -race on a slow box
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range flood / 16 {
				ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventDoorForced, DoorID: w.door.ID, At: time.Now()}
				if err := ev.Sign(d.ID, key); err != nil {
					t.Error(err)
					return
				}
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
	tamper := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper, DoorID: w.door.ID, At: dated}
	must(t, tamper.Sign(d.ID, key))
	must(t, w.app.Devices.RecordEvent(dev, tamper))
	a := w.deviceEntries(t, wire.EventTamper)[0]
	if a.At.Before(received) || a.At.After(time.Now()) || a.ClaimedAt == nil || !a.ClaimedAt.Equal(dated) {
		t.Fatalf("an event dated 2020, received at %v, audited as %+v", received, a)
	}
}
