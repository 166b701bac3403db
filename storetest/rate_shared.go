package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testRateLimitShared: two stores on one database (two nodes) recording at
// once cannot together pass a limit: of 24 grants at one door with a door
// limit of 5, 5 go through; of 24 denials of one courier at doors of two
// buildings with a courier limit of 5, 5 are recorded. The records share
// one time, so they fall in one bucket of the count.
func testRateLimitShared(t *testing.T, open SharedOpener) {
	a, b, db := open(t)
	f := newFixtureOn(t, a, db)
	ps := f.newParcels(t, "TRK-1")
	other := f.newBuilding(t, "Oak Yard")
	otherDoor := f.newDoor(t, other.ID, "Gate")
	stores := []doorman.Store{a, b}
	at := time.Now()

	// run records 24 records from 8 workers, alternating stores, and
	// returns how many were written.
	run := func(rec func(i int) *doorman.AccessRecord) int {
		t.Helper()
		var mu sync.Mutex
		written := 0
		var wg sync.WaitGroup
		errs := make(chan error, 24)
		for w := range 8 {
			wg.Go(func() {
				for i := w * 3; i < w*3+3; i++ {
					_, err := stores[w%2].RecordAccess(f.ctx, rec(i))
					switch {
					case err == nil:
						mu.Lock()
						written++
						mu.Unlock()
					case doorman.ErrorReason(err) != doorman.ReasonRateLimited:
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent record: %v", err)
		}
		return written
	}

	granted := run(func(int) *doorman.AccessRecord {
		rec := f.grant(ps, at)
		rec.DoorLimit = 5
		return rec
	})
	if granted != 5 {
		t.Fatalf("%d grants went through at a door with a limit of 5", granted)
	}
	courier := f.newCourier(t, f.carrier.ID, "driver-2")
	denied := run(func(i int) *doorman.AccessRecord {
		rec := f.deny(doorman.ReasonUnknownParcel, at)
		rec.CourierID, rec.CourierLimit = courier.ID, 5
		if i%2 == 1 {
			rec.BuildingID, rec.DoorID = other.ID, otherDoor.ID
		}
		return rec
	})
	if denied != 5 {
		t.Fatalf("%d requests of a courier with a limit of 5 were recorded", denied)
	}
	for _, s := range stores {
		breaks, err := s.VerifyAudit(f.ctx)
		must(t, err)
		if len(breaks) != 0 {
			t.Fatalf("audit chains broken: %+v", breaks)
		}
	}
}
