package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/internal/pgtest"
	"github.com/doorman-dev/doorman/postgres"
	"github.com/doorman-dev/doorman/storetest"
)

// mustOpen opens a store in a fresh schema of the test server, dropped
// when the test ends. It skips the test when no server is configured.
func mustOpen(tb testing.TB) *postgres.Store {
	tb.Helper()
	return openDSN(tb, pgtest.Schema(tb))
}

// openDSN opens a store, closed when the test ends.
func openDSN(tb testing.TB, dsn string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// batching is the store as the conformance suite sees it: its own methods
// and sqlstore's batching hooks, with the group-commit counters in
// storetest's terms (storetest does not know sqlstore).
type batching struct{ *postgres.Store }

var _ storetest.Batching = batching{}

// BatchStats returns the store's group-commit counters.
func (s batching) BatchStats() storetest.BatchStats {
	st := s.Stats()
	return storetest.BatchStats{Writes: st.Writes, Commits: st.Commits}
}

func TestStore(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, func(t *testing.T) (doorman.Store, *sql.DB) {
		s := mustOpen(t)
		return batching{s}, s.DB()
	})
}

func BenchmarkRecordAccess(b *testing.B) {
	pgtest.DSN(b)
	storetest.Bench(b, func(b *testing.B) doorman.Store { return batching{mustOpen(b)} })
}

func BenchmarkAccessReads(b *testing.B) {
	pgtest.DSN(b)
	storetest.BenchReads(b, func(b *testing.B) doorman.Store { return batching{mustOpen(b)} })
}

func TestSharedDatabase(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunShared(t, func(t *testing.T) (doorman.Store, doorman.Store, *sql.DB) {
		dsn := pgtest.Schema(t)
		a, b := openDSN(t, dsn), openDSN(t, dsn)
		return a, b, a.DB()
	})
}

// TestDeadlockRetried makes the batcher's transaction the victim of a real
// deadlock and checks the batch is retried and the write lands: another
// session holds the building's audit head and then wants the door that
// the lockdown has just updated. The other session waits far longer
// before checking for deadlocks, so the store's transaction is the one
// PostgreSQL aborts (SQLSTATE 40P01).
func TestDeadlockRetried(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	b := &doorman.Building{Name: "Elm Court", Address: "1 Elm St", Timezone: "UTC"}
	if err := s.CreateBuilding(ctx, b); err != nil {
		t.Fatal(err)
	}
	d := &doorman.Door{BuildingID: b.ID, Name: "Front"}
	if err := s.CreateDoor(ctx, d); err != nil {
		t.Fatal(err)
	}

	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	other, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	var otherPID int
	if err := other.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&otherPID); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SET LOCAL deadlock_timeout = '60s'`,
		`UPDATE audit_heads SET seq = seq WHERE chain = '` + b.ID + `'`,
	} {
		if _, err := other.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	before := s.Stats()
	done := make(chan error, 1)
	go func() {
		_, err := s.UpdateDoor(ctx, d.ID, doorman.DoorUpdate{LockedDown: ptr(true)})
		done <- err
	}()
	// Wait until the store's transaction waits for the head's lock.
	deadline := time.Now().Add(time.Minute)
	for waiting := 0; waiting == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the store's transaction never waited for the audit head")
		}
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE $1 = ANY (pg_blocking_pids(pid))`, otherPID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Closing the cycle returns once PostgreSQL has aborted the store's
	// transaction, which released the door.
	if _, err := other.ExecContext(ctx, `UPDATE doors SET name = name WHERE id = $1`, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("UpdateDoor after a deadlock: %v", err)
	}
	if got := s.Stats().Retries - before.Retries; got < 1 {
		t.Fatalf("%d retries, want at least 1", got)
	}
	got, err := s.Door(ctx, d.ID)
	if err != nil || !got.LockedDown {
		t.Fatalf("door after retried lockdown: %+v, %v", got, err)
	}
	if breaks, err := s.VerifyAudit(ctx); err != nil || len(breaks) != 0 {
		t.Fatalf("VerifyAudit: %+v, %v", breaks, err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestDiskFullIsStorageFull: a write PostgreSQL refuses for want of disk
// space (SQLSTATE 53100, raised here by a trigger as the server raises it
// when a file cannot grow) reaches callers as EUNAVAILABLE with the
// reason storage_full, and nothing of it is kept.
func TestDiskFullIsStorageFull(t *testing.T) {
	s := mustOpen(t)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`,
		`CREATE TRIGGER disk_full BEFORE INSERT ON buildings FOR EACH ROW EXECUTE FUNCTION disk_full()`,
	} {
		if _, err := s.DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	err := s.CreateBuilding(ctx, &doorman.Building{Name: "Elm Court", Address: "1 Elm St", Timezone: "UTC"})
	if doorman.ErrorCode(err) != doorman.EUNAVAILABLE || doorman.ErrorReason(err) != doorman.ReasonStorageFull {
		t.Fatalf("CreateBuilding on a full disk: %v (code %s, reason %q)", err, doorman.ErrorCode(err), doorman.ErrorReason(err))
	}
	if list, _, err := s.ListBuildings(ctx, nil, doorman.Page{}); err != nil || len(list) != 0 {
		t.Fatalf("buildings after the refused write: %v, %v", list, err)
	}
}
