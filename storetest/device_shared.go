package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testSharedDevices checks enrollment and event recording when two stores
// write one database at once: a code is still used once, a door still has
// one active device, and an event is still recorded once.
func testSharedDevices(t *testing.T, open SharedOpener) {
	a, b, db := open(t)
	f := newFixtureOn(t, a, db)
	stores := []doorman.Store{a, b}
	const n = 8

	// run calls fn from n goroutines, alternating between the stores, and
	// returns the error codes.
	run := func(fn func(i int, s doorman.Store) error) []string {
		var wg sync.WaitGroup
		codes := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = doorman.ErrorCode(fn(i, stores[i%2]))
			}()
		}
		wg.Wait()
		return codes
	}
	count := func(codes []string, code string) int {
		k := 0
		for _, c := range codes {
			if c == code {
				k++
			}
		}
		return k
	}

	// One code, claimed through both stores at once: one device.
	_, hash := f.newEnrollment(t, f.door.ID, time.Time{})
	keys := make([]string, n)
	for i := range keys {
		keys[i] = newDeviceKey(t)
	}
	codes := run(func(i int, s doorman.Store) error {
		_, err := s.EnrollDevice(f.ctx, hash, &doorman.Device{PublicKey: keys[i]}, time.Now())
		return err
	})
	if count(codes, "") != 1 || count(codes, doorman.ENOTFOUND) != n-1 {
		t.Fatalf("one code claimed %d times concurrently: %v", n, codes)
	}

	// Many codes for one door at once: every enrollment succeeds, one
	// after the other, and the door ends with exactly one active device.
	hashes := make([]string, n)
	for i := range hashes {
		_, hashes[i] = f.newEnrollment(t, f.door.ID, time.Time{})
		keys[i] = newDeviceKey(t)
	}
	codes = run(func(i int, s doorman.Store) error {
		_, err := s.EnrollDevice(f.ctx, hashes[i], &doorman.Device{PublicKey: keys[i]}, time.Now())
		return err
	})
	if count(codes, "") != n {
		t.Fatalf("concurrent enrollments of one door: %v", codes)
	}
	list, _, err := a.ListDevices(f.ctx, f.building.ID, doorman.Page{})
	must(t, err)
	var active []*doorman.Device
	for _, d := range list {
		if d.RevokedAt == nil {
			active = append(active, d)
		}
	}
	if len(active) != 1 || len(list) != 1+n {
		t.Fatalf("after concurrent enrollments %d of %d devices are active", len(active), len(list))
	}
	equal(t, "revocations recorded", f.countActions(t, f.building.ID, doorman.ActionDeviceRevoked), n)

	// One event delivered through both stores at once: recorded once.
	ev := &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: active[0].ID, DoorID: f.door.ID,
		Kind: doorman.EventDoorOpened, At: time.Now()}
	var mu sync.Mutex
	recorded := 0
	codes = run(func(i int, s doorman.Store) error {
		ok, err := s.RecordDeviceEvent(f.ctx, ev)
		if ok {
			mu.Lock()
			recorded++
			mu.Unlock()
		}
		return err
	})
	if count(codes, "") != n || recorded != 1 {
		t.Fatalf("one event delivered %d times concurrently was recorded %d times: %v", n, recorded, codes)
	}
	equal(t, "audit entries of the event", f.countActions(t, f.building.ID, doorman.DeviceEventAction(doorman.EventDoorOpened)), 1)
	for _, s := range stores {
		breaks, err := s.VerifyAudit(f.ctx)
		must(t, err)
		if len(breaks) != 0 {
			t.Fatalf("audit chains broken by concurrent device writes: %+v", breaks)
		}
	}
}
