package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// SharedOpener returns two stores over one new database, as two nodes or
// two processes would open it, and the database itself.
type SharedOpener func(t *testing.T) (a, b doorman.Store, db *sql.DB)

// RunShared checks what must hold when several stores write one database
// at once: audit chains stay whole under concurrent appends from both, a
// lockdown made through one store leaves no grant made through the other
// standing, however the two interleave, and failures counted through both
// are all counted.
func RunShared(t *testing.T, open SharedOpener) {
	t.Run("Device", func(t *testing.T) { testSharedDevices(t, open) })
	t.Run("CommandKey", func(t *testing.T) { testCommandKeysRace(t, open) })
	t.Run("CommandKeyRotation", func(t *testing.T) { testCommandKeyRotationRace(t, open) })
	t.Run("Throttle", func(t *testing.T) { testThrottleShared(t, open) })
	t.Run("OutboxClaim", func(t *testing.T) { testOutboxClaimShared(t, open) })
	t.Run("DeviceEventFlood", func(t *testing.T) { testSharedDeviceEventFlood(t, open) })
	t.Run("RateLimit", func(t *testing.T) { testRateLimitShared(t, open) })
	a, b, db := open(t)
	f := newFixtureOn(t, a, db)
	ps := f.newParcels(t, "TRK-1")
	stores := []doorman.Store{a, b}

	const workers, perWorker = 8, 25
	var granted, refused atomic.Int64
	lockdown := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers*perWorker+1)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for i := range perWorker {
				var err error
				if i%3 == 2 {
					err = s.AppendAudit(f.ctx, &doorman.AuditEntry{Action: "test.shared", Detail: fmt.Sprint(w, i)})
				} else {
					_, err = s.RecordAccess(f.ctx, f.grant(ps, time.Now()))
				}
				switch {
				case err == nil && i%3 != 2:
					if granted.Add(1) == workers*perWorker/4 {
						once.Do(func() { close(lockdown) })
					}
				case doorman.ErrorReason(err) == doorman.ReasonDoorLockedDown:
					refused.Add(1)
				case err != nil:
					errs <- err
					return
				}
			}
		}()
	}
	// The lockdown goes through the second store while the first keeps
	// granting.
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-lockdown
		if _, err := b.UpdateDoor(context.Background(), f.door.ID, doorman.DoorUpdate{LockedDown: ptr(true)}); err != nil {
			errs <- err
		}
	}()
	wg.Wait()
	once.Do(func() { close(lockdown) })
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write: %v", err)
	}

	var standing int
	must(t, db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM grants
		WHERE door_id = $1 AND revoked_at IS NULL AND used_at IS NULL`, f.door.ID).Scan(&standing))
	if standing != 0 {
		t.Fatalf("%d grants of a locked-down door still stand (%d granted, %d refused)", standing, granted.Load(), refused.Load())
	}
	t.Logf("%d grants made and revoked by the lockdown, %d refused after it", granted.Load(), refused.Load())
	for _, s := range stores {
		breaks, err := s.VerifyAudit(f.ctx)
		must(t, err)
		if len(breaks) != 0 {
			t.Fatalf("audit chains broken by concurrent writers: %+v", breaks)
		}
	}
}
