package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
)

// newDeviceKey returns a fresh public NATS user key, as a device makes
// for itself at enrollment.
func newDeviceKey(t *testing.T) string {
	t.Helper()
	kp, err := nkeys.CreateUser()
	must(t, err)
	pub, err := kp.PublicKey()
	must(t, err)
	return pub
}

// newEnrollment creates an enrollment code for a door and returns the
// enrollment and the hash of its code.
func (f *fixture) newEnrollment(t *testing.T, doorID string, expires time.Time) (*doorman.Enrollment, string) {
	t.Helper()
	_, hash := doorman.NewToken("")
	e := &doorman.Enrollment{DoorID: doorID, CodeHash: hash, ExpiresAt: expires}
	must(t, f.s.CreateEnrollment(f.ctx, e))
	return e, hash
}

// enroll enrolls a new device for a door at now.
func (f *fixture) enroll(t *testing.T, doorID string, now time.Time) (*doorman.Device, []*doorman.Device) {
	t.Helper()
	_, hash := f.newEnrollment(t, doorID, time.Time{})
	d := &doorman.Device{PublicKey: newDeviceKey(t)}
	revoked, err := f.s.EnrollDevice(f.ctx, hash, d, now)
	must(t, err)
	return d, revoked
}

// countActions counts the entries of a building's chain with the action.
func (f *fixture) countActions(t *testing.T, buildingID, action string) int {
	t.Helper()
	n := 0
	for _, e := range f.audit(t, doorman.AuditFilter{Chain: buildingID}) {
		if e.Action == action {
			n++
		}
	}
	return n
}

// micro is t at the precision stores keep.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func testDevices(t *testing.T, open Opener) {
	t.Run("Enrollment", func(t *testing.T) {
		f := newFixture(t, open)
		other := f.newBuilding(t, "Oak Yard")
		otherDoor := f.newDoor(t, other.ID, "Back door")
		start := time.Now()

		e, hash := f.newEnrollment(t, f.door.ID, time.Time{})
		if !doorman.HasPrefix(e.ID, doorman.PrefixEnrollment) || e.BuildingID != f.building.ID ||
			e.CreatedAt.Before(micro(start)) || !e.ExpiresAt.Equal(e.CreatedAt.Add(doorman.EnrollmentTTL)) || e.UsedAt != nil {
			t.Fatalf("CreateEnrollment set %+v", e)
		}

		for name, bad := range map[string]struct {
			e    *doorman.Enrollment
			code string
		}{
			"plain code":       {&doorman.Enrollment{DoorID: f.door.ID, CodeHash: "12345678"}, doorman.EINVALID},
			"expired":          {&doorman.Enrollment{DoorID: f.door.ID, CodeHash: doorman.HashToken("a"), ExpiresAt: start.Add(-time.Second)}, doorman.EINVALID},
			"too long":         {&doorman.Enrollment{DoorID: f.door.ID, CodeHash: doorman.HashToken("b"), ExpiresAt: start.Add(2 * doorman.EnrollmentTTL)}, doorman.EINVALID},
			"unknown door":     {&doorman.Enrollment{DoorID: doorman.NewID(doorman.PrefixDoor), CodeHash: doorman.HashToken("c")}, doorman.ENOTFOUND},
			"another's door":   {&doorman.Enrollment{DoorID: otherDoor.ID, BuildingID: f.building.ID, CodeHash: doorman.HashToken("d")}, doorman.ENOTFOUND},
			"code hash in use": {&doorman.Enrollment{DoorID: otherDoor.ID, CodeHash: hash}, doorman.ECONFLICT},
			"no door":          {&doorman.Enrollment{CodeHash: doorman.HashToken("e")}, doorman.ENOTFOUND},
		} {
			t.Run(name, func(t *testing.T) { wantCode(t, f.s.CreateEnrollment(f.ctx, bad.e), bad.code) })
		}

		// Recorded in the door's building, without the code's hash.
		entries := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
		if entries[0].Action != doorman.ActionDeviceEnrollmentCreated || entries[0].DoorID != f.door.ID ||
			entries[0].Detail != e.ID || entries[0].Actor != doorman.RoleOperator {
			t.Fatalf("enrollment audit entry: %+v", entries[0])
		}
		for _, a := range f.audit(t, doorman.AuditFilter{}) {
			if strings.Contains(a.Detail, hash) {
				t.Fatalf("audit entry shows the code hash: %+v", a)
			}
		}
		equal(t, "enrollments recorded in the other building", f.countActions(t, other.ID, doorman.ActionDeviceEnrollmentCreated), 0)
		f.verifyClean(t)
	})

	t.Run("SingleUse", func(t *testing.T) {
		f := newFixture(t, open)
		now := time.Now()
		_, hash := f.newEnrollment(t, f.door.ID, time.Time{})
		d := &doorman.Device{PublicKey: newDeviceKey(t), DoorID: "dor_forged", BuildingID: "bld_forged"}
		revoked, err := f.s.EnrollDevice(operator(), hash, d, now)
		must(t, err)
		if !doorman.HasPrefix(d.ID, doorman.PrefixDevice) || d.DoorID != f.door.ID || d.BuildingID != f.building.ID ||
			!d.EnrolledAt.Equal(micro(now)) || d.RevokedAt != nil {
			t.Fatalf("EnrollDevice set %+v", d)
		}
		equal(t, "devices revoked by a first enrollment", len(revoked), 0)
		got, err := f.s.Device(f.ctx, d.ID)
		must(t, err)
		equal(t, "Device", got, d)

		// The code is spent: a second device cannot use it, and the answer
		// is the same as for a code that never existed or has expired.
		_, used := f.s.EnrollDevice(f.ctx, hash, &doorman.Device{PublicKey: newDeviceKey(t)}, now)
		wantCode(t, used, doorman.ENOTFOUND)
		_, unknown := f.s.EnrollDevice(f.ctx, doorman.HashToken("guess"), &doorman.Device{PublicKey: newDeviceKey(t)}, now)
		wantCode(t, unknown, doorman.ENOTFOUND)
		exp, expHash := f.newEnrollment(t, f.door.ID, now.Add(time.Minute))
		_, expired := f.s.EnrollDevice(f.ctx, expHash, &doorman.Device{PublicKey: newDeviceKey(t)}, exp.ExpiresAt)
		wantCode(t, expired, doorman.ENOTFOUND)
		equal(t, "message for a used code", doorman.ErrorMessage(used), doorman.ErrorMessage(unknown))
		equal(t, "message for an expired code", doorman.ErrorMessage(expired), doorman.ErrorMessage(unknown))
		// Just before expiry the same code works.
		late := &doorman.Device{PublicKey: newDeviceKey(t)}
		_, err = f.s.EnrollDevice(f.ctx, expHash, late, exp.ExpiresAt.Add(-time.Microsecond))
		must(t, err)

		list, next, err := f.s.ListDevices(f.ctx, f.building.ID, doorman.Page{})
		must(t, err)
		if len(list) != 2 || list[0].ID != d.ID || list[1].ID != late.ID || next != "" {
			t.Fatalf("ListDevices: %+v, next %q", list, next)
		}
		_, err = f.s.Device(f.ctx, doorman.NewID(doorman.PrefixDevice))
		wantCode(t, err, doorman.ENOTFOUND)

		// A malformed key is refused and leaves the code unused.
		_, hash = f.newEnrollment(t, f.door.ID, time.Time{})
		for _, key := range []string{"", "not-a-key", strings.ToLower(newDeviceKey(t)), "N" + newDeviceKey(t)[1:]} {
			_, err = f.s.EnrollDevice(f.ctx, hash, &doorman.Device{PublicKey: key}, now)
			wantCode(t, err, doorman.EINVALID)
		}
		_, err = f.s.EnrollDevice(f.ctx, hash, &doorman.Device{PublicKey: newDeviceKey(t)}, now)
		must(t, err)
		f.verifyClean(t)
	})

	t.Run("ConcurrentUse", func(t *testing.T) {
		f := newFixture(t, open)
		_, hash := f.newEnrollment(t, f.door.ID, time.Time{})
		const n = 8
		// Held back, all claims land in one batch; without the hooks they
		// race as they come.
		release := func() {}
		b, batched := f.s.(Batching)
		if batched {
			release = b.HoldWrites()
		}
		errs := make(chan error, n)
		for range n {
			key := newDeviceKey(t)
			go func() {
				_, err := f.s.EnrollDevice(f.ctx, hash, &doorman.Device{PublicKey: key}, time.Now())
				errs <- err
			}()
		}
		if batched {
			waitPending(t, b, n)
		}
		release()
		won := 0
		for range n {
			switch err := <-errs; doorman.ErrorCode(err) {
			case "":
				won++
			case doorman.ENOTFOUND:
			default:
				t.Fatalf("concurrent enrollment: %v", err)
			}
		}
		equal(t, "enrollments that won one code", won, 1)
		list, _, err := f.s.ListDevices(f.ctx, f.building.ID, doorman.Page{})
		must(t, err)
		equal(t, "devices enrolled with one code", len(list), 1)
		equal(t, "enrollment audit entries", f.countActions(t, f.building.ID, doorman.ActionDeviceEnrolled), 1)
		f.verifyClean(t)
	})

	t.Run("OfflineEventFields", func(t *testing.T) {
		// An offline event keeps what the token carried, once; an event
		// with fields too long is refused and nothing is kept.
		f := newFixture(t, open)
		d, _ := f.enroll(t, f.door.ID, time.Now().Add(-time.Hour))
		ev := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID, Kind: doorman.EventUnlockExecuted,
			At: time.Now(), GrantID: doorman.NewID(doorman.PrefixGrant), Offline: true, JTI: doorman.NewID("ogt"),
			CourierID: f.courier.ID, ParcelsDigest: "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"}
		ok, err := f.s.RecordDeviceEvent(f.ctx, ev)
		must(t, err)
		equal(t, "offline event recorded", ok, true)
		dup := *ev
		dup.CourierID = "cou_other"
		ok, err = f.s.RecordDeviceEvent(f.ctx, &dup)
		must(t, err)
		equal(t, "a repeated offline event recorded again", ok, false)
		var offline bool
		var jti, courier, digest string
		must(t, f.db.QueryRow(`SELECT offline, jti, courier_id, parcels_digest FROM device_events WHERE id = $1`, ev.ID).
			Scan(&offline, &jti, &courier, &digest))
		equal(t, "stored offline fields", []any{offline, jti, courier, digest}, []any{true, ev.JTI, ev.CourierID, ev.ParcelsDigest})
		online := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID, Kind: doorman.EventUnlockExecuted, At: time.Now()}
		_, err = f.s.RecordDeviceEvent(f.ctx, online)
		must(t, err)
		must(t, f.db.QueryRow(`SELECT offline, jti FROM device_events WHERE id = $1`, online.ID).Scan(&offline, &jti))
		equal(t, "an online event's offline fields", []any{offline, jti}, []any{false, ""})
		long := *ev
		long.ID, long.JTI = doorman.NewID("evt"), strings.Repeat("x", 65)
		_, err = f.s.RecordDeviceEvent(f.ctx, &long)
		wantCode(t, err, doorman.EINVALID)
		var n int
		must(t, f.db.QueryRow(`SELECT COUNT(*) FROM device_events WHERE id = $1`, long.ID).Scan(&n))
		equal(t, "refused event kept", n, 0)
	})

	t.Run("Replace", func(t *testing.T) {
		f := newFixture(t, open)
		side := f.newDoor(t, f.building.ID, "Side door")
		t0 := time.Now().Add(-time.Hour)
		first, _ := f.enroll(t, f.door.ID, t0)
		sideDevice, _ := f.enroll(t, side.ID, t0)
		second, revoked := f.enroll(t, f.door.ID, t0.Add(time.Minute))

		// The door's previous device is revoked at the new enrollment; the
		// other door's device is untouched.
		want := *first
		want.RevokedAt = ptr(micro(t0.Add(time.Minute)))
		equal(t, "revoked by re-enrollment", revoked, []*doorman.Device{&want})
		got, err := f.s.Device(f.ctx, first.ID)
		must(t, err)
		equal(t, "previous device", got, &want)
		got, err = f.s.Device(f.ctx, sideDevice.ID)
		must(t, err)
		equal(t, "device of another door", got, sideDevice)
		equal(t, "revocations recorded", f.countActions(t, f.building.ID, doorman.ActionDeviceRevoked), 1)

		// The replaced device's events are kept, as its own, when it dates
		// them before its replacement (queued through an outage, say), and
		// refused after; its successor's are its successor's.
		seenBefore := func() *time.Time {
			door, err := f.s.Door(f.ctx, f.door.ID)
			must(t, err)
			return door.LastSeenAt
		}()
		queued := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: first.ID,
			DoorID: f.door.ID, Kind: doorman.EventDoorForced, At: t0.Add(30 * time.Second)}
		ok, err := f.s.RecordDeviceEvent(f.ctx, queued)
		must(t, err)
		equal(t, "replaced device's earlier event recorded", ok, true)
		if a := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]; a.Actor != "device:"+first.ID ||
			a.Action != doorman.DeviceEventAction(doorman.EventDoorForced) || !a.At.Equal(micro(queued.At)) {
			t.Fatalf("replaced device's earlier event audited as %+v", a)
		}
		door, err := f.s.Door(f.ctx, f.door.ID)
		must(t, err)
		equal(t, "last seen after a replaced device's event", door.LastSeenAt, seenBefore)
		for _, at := range []time.Time{t0.Add(time.Minute), t0.Add(2 * time.Minute), time.Now()} {
			_, err = f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: first.ID,
				DoorID: f.door.ID, Kind: doorman.EventDoorOpened, At: at})
			wantCode(t, err, doorman.EFORBIDDEN)
		}
		ok, err = f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: second.ID,
			DoorID: f.door.ID, Kind: doorman.EventDoorOpened, At: time.Now()})
		must(t, err)
		equal(t, "successor's event recorded", ok, true)
		if a := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]; a.Actor != "device:"+second.ID {
			t.Fatalf("successor's event audited as %+v", a)
		}
		// The other door's device cannot speak for this door, even dated
		// long ago; an event must name its device.
		_, err = f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: sideDevice.ID,
			DoorID: f.door.ID, Kind: doorman.EventDoorOpened, At: t0})
		wantCode(t, err, doorman.EFORBIDDEN)
		_, err = f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"),
			DoorID: f.door.ID, Kind: doorman.EventDoorForced, At: time.Now()})
		wantCode(t, err, doorman.EINVALID)
		equal(t, "events audited", f.countActions(t, f.building.ID, doorman.DeviceEventAction(doorman.EventDoorForced))+
			f.countActions(t, f.building.ID, doorman.DeviceEventAction(doorman.EventDoorOpened)), 2)

		// All three are listed, revoked ones included, page by page.
		var ids []string
		for after := ""; ; {
			list, next, err := f.s.ListDevices(f.ctx, f.building.ID, doorman.Page{After: after, Limit: 1})
			must(t, err)
			for _, d := range list {
				ids = append(ids, d.ID)
			}
			if next == "" {
				break
			} else if len(ids) > 3 {
				t.Fatal("device pages do not end")
			}
			after = next
		}
		equal(t, "devices over all pages", ids, []string{first.ID, sideDevice.ID, second.ID})
		_, _, err = f.s.ListDevices(f.ctx, f.building.ID, doorman.Page{After: "bm90LWEtY3Vyc29y"})
		wantCode(t, err, doorman.EINVALID)
		f.verifyClean(t)
	})

	t.Run("KeyReuse", func(t *testing.T) {
		f := newFixture(t, open)
		now := time.Now()
		first, _ := f.enroll(t, f.door.ID, now)

		// A key registered before is refused, and the code survives the
		// refusal.
		_, hash := f.newEnrollment(t, f.door.ID, time.Time{})
		_, err := f.s.EnrollDevice(f.ctx, hash, &doorman.Device{PublicKey: first.PublicKey}, now)
		wantCode(t, err, doorman.ECONFLICT)
		got, err := f.s.Device(f.ctx, first.ID)
		must(t, err)
		equal(t, "device whose key was offered again", got, first)

		// Also once the key's device is revoked.
		_, err = f.s.RevokeDevice(f.ctx, f.building.ID, first.ID, now)
		must(t, err)
		_, err = f.s.EnrollDevice(f.ctx, hash, &doorman.Device{PublicKey: first.PublicKey}, now)
		wantCode(t, err, doorman.ECONFLICT)

		_, err = f.s.ActiveDevice(f.ctx, f.door.ID)
		wantCode(t, err, doorman.ENOTFOUND)
		fresh := &doorman.Device{PublicKey: newDeviceKey(t)}
		_, err = f.s.EnrollDevice(f.ctx, hash, fresh, now)
		must(t, err)
		active, err := f.s.ActiveDevice(f.ctx, f.door.ID)
		must(t, err)
		equal(t, "active device", active, fresh)
		list, _, err := f.s.ListDevices(f.ctx, f.building.ID, doorman.Page{})
		must(t, err)
		equal(t, "devices", len(list), 2)
		f.verifyClean(t)
	})

	t.Run("Revoke", func(t *testing.T) {
		f := newFixture(t, open)
		other := f.newBuilding(t, "Oak Yard")
		now := time.Now()
		d, _ := f.enroll(t, f.door.ID, now.Add(-time.Hour))

		// Revocation is scoped to the building: from another one, the device
		// does not exist, and stays active.
		_, err := f.s.RevokeDevice(f.ctx, other.ID, d.ID, now)
		wantCode(t, err, doorman.ENOTFOUND)
		_, err = f.s.RevokeDevice(f.ctx, f.building.ID, doorman.NewID(doorman.PrefixDevice), now)
		wantCode(t, err, doorman.ENOTFOUND)
		got, err := f.s.Device(f.ctx, d.ID)
		must(t, err)
		equal(t, "device after revocations elsewhere", got.RevokedAt, (*time.Time)(nil))

		ctx := as(doorman.RoleManager, "mgr_1")
		r, err := f.s.RevokeDevice(ctx, f.building.ID, d.ID, now)
		must(t, err)
		want := *d
		want.RevokedAt = ptr(micro(now))
		equal(t, "revoked device", r, &want)
		// Twice is fine: the first revocation stands, recorded once.
		r, err = f.s.RevokeDevice(ctx, f.building.ID, d.ID, now.Add(time.Hour))
		must(t, err)
		equal(t, "revoked twice", r, &want)
		entries := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
		if entries[0].Action != doorman.ActionDeviceRevoked || entries[0].Detail != d.ID ||
			entries[0].DoorID != f.door.ID || entries[0].Actor != "manager:mgr_1" {
			t.Fatalf("revocation entry: %+v", entries[0])
		}
		equal(t, "revocations recorded", f.countActions(t, f.building.ID, doorman.ActionDeviceRevoked), 1)
		equal(t, "revocations in the other building", f.countActions(t, other.ID, doorman.ActionDeviceRevoked), 0)
		f.verifyClean(t)
	})

	t.Run("Events", func(t *testing.T) { testDeviceEvents(t, open) })
	t.Run("EventFlood", func(t *testing.T) { testDeviceEventFlood(t, open) })
	t.Run("EventTimes", func(t *testing.T) { testDeviceEventTimes(t, open) })
	t.Run("PruneEvents", func(t *testing.T) { testPruneDeviceEvents(t, open) })
	t.Run("GrantUseOnce", func(t *testing.T) { testGrantUseOnce(t, open) })
}

func testDeviceEvents(t *testing.T, open Opener) {
	f := newFixture(t, open)
	other := f.newBuilding(t, "Oak Yard")
	otherDoor := f.newDoor(t, other.ID, "Back door")
	d, _ := f.enroll(t, f.door.ID, time.Now().Add(-time.Hour))
	intruder, _ := f.enroll(t, otherDoor.ID, time.Now().Add(-time.Hour))
	lastSeen := func() *time.Time {
		t.Helper()
		door, err := f.s.Door(f.ctx, f.door.ID)
		must(t, err)
		return door.LastSeenAt
	}
	chainLength := func(buildingID string) int {
		t.Helper()
		return len(f.audit(t, doorman.AuditFilter{Chain: buildingID}))
	}
	if lastSeen() != nil {
		t.Fatal("a door is seen before its device reported")
	}

	// An event is recorded once, however often it is delivered.
	opened := time.Now().Add(-10 * time.Minute)
	ev := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID, Kind: doorman.EventUnlockExecuted,
		At: opened, GrantID: doorman.NewID(doorman.PrefixGrant), Reason: "test_reason", Detail: "relay pulsed"}
	before := chainLength(f.building.ID)
	for i, want := range []bool{true, false, false} {
		ok, err := f.s.RecordDeviceEvent(f.ctx, ev)
		must(t, err)
		if ok != want {
			t.Fatalf("delivery %d recorded = %v, want %v", i+1, ok, want)
		}
	}
	equal(t, "audit entries of one event delivered thrice", chainLength(f.building.ID), before+1)
	a := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]
	if a.Action != doorman.DeviceEventAction(doorman.EventUnlockExecuted) || a.Actor != "device:"+d.ID ||
		a.DoorID != f.door.ID || a.GrantID != ev.GrantID || a.Reason != ev.Reason || a.Detail != ev.Detail ||
		!a.At.Equal(micro(opened)) {
		t.Fatalf("event audit entry: %+v", a)
	}
	equal(t, "last seen after an event", lastSeen(), ptr(micro(opened)))

	// Concurrent deliveries of one event: one records it.
	dup := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID, Kind: doorman.EventDoorOpened, At: opened}
	var wg sync.WaitGroup
	var mu sync.Mutex
	recorded := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := f.s.RecordDeviceEvent(f.ctx, dup)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("concurrent delivery: %v", err)
			} else if ok {
				recorded++
			}
		}()
	}
	wg.Wait()
	equal(t, "concurrent deliveries that recorded", recorded, 1)
	equal(t, "audit entries after concurrent deliveries", chainLength(f.building.ID), before+2)

	// A heartbeat moves the last-seen time on without touching the chain;
	// an older event does not move it back; a future time is not believed.
	before = chainLength(f.building.ID)
	beat := time.Now().Add(-time.Minute)
	for range 2 {
		ok, err := f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
			DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: beat})
		must(t, err)
		equal(t, "heartbeat recorded", ok, true)
	}
	equal(t, "last seen after a heartbeat", lastSeen(), ptr(micro(beat)))
	equal(t, "audit entries after heartbeats", chainLength(f.building.ID), before)
	_, err := f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
		DoorID: f.door.ID, Kind: doorman.EventDoorClosed, At: opened.Add(time.Second)})
	must(t, err)
	equal(t, "last seen after a late old event", lastSeen(), ptr(micro(beat)))
	future := time.Now().Add(24 * time.Hour)
	_, err = f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
		DoorID: f.door.ID, Kind: doorman.EventDoorClosed, At: future})
	must(t, err)
	if seen := lastSeen(); !seen.Before(micro(future)) || !seen.After(micro(beat)) {
		t.Fatalf("last seen after an event from the future: %v", seen)
	}
	if a := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]; a.At.After(time.Now()) {
		t.Fatalf("audit entry dated in the future: %+v", a)
	}
	// A heartbeat is not kept, so a broker can replay an old one: one
	// dated beyond what the store believes moves nothing.
	seenBefore := lastSeen()
	_, err = f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
		DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: time.Now().Add(-40 * 24 * time.Hour)})
	must(t, err)
	equal(t, "last seen after a replayed old heartbeat", lastSeen(), seenBefore)

	// Refused: what a device may not say, and who is not there.
	seen, now := lastSeen(), time.Now()
	before, beforeOther := chainLength(f.building.ID), chainLength(other.ID)
	refuse := func(name, code string, e *doorman.DeviceEvent) {
		t.Helper()
		if e.ID == "" {
			e.ID = doorman.NewID("evt")
		}
		ok, err := f.s.RecordDeviceEvent(f.ctx, e)
		if doorman.ErrorCode(err) != code || ok {
			t.Errorf("%s: recorded %v, error %v, want code %s", name, ok, err, code)
		}
	}
	refuse("device of another door", doorman.EFORBIDDEN,
		&doorman.DeviceEvent{DeviceID: intruder.ID, DoorID: f.door.ID, At: now, Kind: doorman.EventDoorForced})
	refuse("door of another building", doorman.EFORBIDDEN,
		&doorman.DeviceEvent{DeviceID: d.ID, DoorID: otherDoor.ID, At: now, Kind: doorman.EventDoorOpened})
	refuse("unknown device", doorman.ENOTFOUND,
		&doorman.DeviceEvent{DeviceID: doorman.NewID(doorman.PrefixDevice), DoorID: f.door.ID, At: now, Kind: doorman.EventDoorOpened})
	refuse("unknown door", doorman.ENOTFOUND,
		&doorman.DeviceEvent{DeviceID: d.ID, DoorID: doorman.NewID(doorman.PrefixDoor), At: now, Kind: doorman.EventDoorOpened})
	refuse("unknown kind", doorman.EINVALID,
		&doorman.DeviceEvent{DeviceID: d.ID, DoorID: f.door.ID, At: now, Kind: "enrolled"})
	refuse("no time", doorman.EINVALID,
		&doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID, Kind: doorman.EventDoorOpened})
	refuse("long detail", doorman.EINVALID,
		&doorman.DeviceEvent{DeviceID: d.ID, DoorID: f.door.ID, At: now, Kind: doorman.EventTamper, Detail: strings.Repeat("x", 4096)})
	refuse("long ID", doorman.EINVALID,
		&doorman.DeviceEvent{ID: strings.Repeat("e", 65), DeviceID: d.ID, DoorID: f.door.ID, At: now, Kind: doorman.EventTamper})

	// A revoked device is not heard about anything it dates at or after
	// its revocation.
	revokedAt := time.Now()
	_, err = f.s.RevokeDevice(f.ctx, f.building.ID, d.ID, revokedAt)
	must(t, err)
	before++ // the revocation
	refuse("revoked device, at its revocation", doorman.EFORBIDDEN,
		&doorman.DeviceEvent{DeviceID: d.ID, DoorID: f.door.ID, At: revokedAt, Kind: doorman.EventDoorForced})
	refuse("revoked device, after its revocation", doorman.EFORBIDDEN,
		&doorman.DeviceEvent{DeviceID: d.ID, DoorID: f.door.ID, At: revokedAt.Add(time.Second), Kind: doorman.EventDoorForced})
	refuse("revoked device's heartbeat", doorman.EFORBIDDEN,
		&doorman.DeviceEvent{DeviceID: d.ID, DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: revokedAt.Add(time.Second)})
	refuse("event naming no device", doorman.EINVALID,
		&doorman.DeviceEvent{DoorID: f.door.ID, At: now, Kind: doorman.EventDoorForced})
	refuse("unknown door, no device", doorman.EINVALID,
		&doorman.DeviceEvent{DoorID: doorman.NewID(doorman.PrefixDoor), At: now, Kind: doorman.EventDoorForced})
	// What it dates before, it may still deliver: a repeat changes
	// nothing, a heartbeat changes nothing either.
	ok, err := f.s.RecordDeviceEvent(f.ctx, ev)
	must(t, err)
	equal(t, "revoked device repeating itself recorded", ok, false)
	ok, err = f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID,
		DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: revokedAt.Add(-time.Second)})
	must(t, err)
	equal(t, "revoked device's earlier heartbeat recorded", ok, false)

	equal(t, "last seen after refused events", lastSeen(), seen)
	equal(t, "entries after refused events", chainLength(f.building.ID), before)
	equal(t, "other building's entries after refused events", chainLength(other.ID), beforeOther)

	// An event it queued before the revocation is kept as its own, and
	// says nothing of whether the door is heard now.
	late := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID,
		Kind: doorman.EventTamper, At: revokedAt.Add(-time.Second), Detail: "queued"}
	ok, err = f.s.RecordDeviceEvent(f.ctx, late)
	must(t, err)
	equal(t, "revoked device's earlier event recorded", ok, true)
	if a := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]; a.Actor != "device:"+d.ID ||
		a.Action != doorman.DeviceEventAction(doorman.EventTamper) || a.Detail != "queued" || !a.At.Equal(micro(late.At)) {
		t.Fatalf("revoked device's earlier event audited as %+v", a)
	}
	equal(t, "last seen after a revoked device's earlier event", lastSeen(), seen)
	equal(t, "entries after a revoked device's earlier event", chainLength(f.building.ID), before+1)
	f.verifyClean(t)
}
