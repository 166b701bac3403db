package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/sqlite"
	"github.com/doorman-dev/doorman/storetest"
)

// mustOpen opens a store on a new file in a temporary directory.
func mustOpen(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "doorman.db"))
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
type batching struct{ *sqlite.Store }

var _ storetest.Batching = batching{}

// BatchStats returns the store's group-commit counters.
func (s batching) BatchStats() storetest.BatchStats {
	st := s.Stats()
	return storetest.BatchStats{Writes: st.Writes, Commits: st.Commits}
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (doorman.Store, *sql.DB) {
		s := mustOpen(t)
		return batching{s}, s.DB()
	})
}

func BenchmarkRecordAccess(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) doorman.Store { return batching{mustOpen(b)} })
}

func BenchmarkAccessReads(b *testing.B) {
	storetest.BenchReads(b, func(b *testing.B) doorman.Store { return batching{mustOpen(b)} })
}

func TestSharedFile(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (doorman.Store, doorman.Store, *sql.DB) {
		path := filepath.Join(t.TempDir(), "doorman.db")
		var stores [2]*sqlite.Store
		for i := range stores {
			s, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		return stores[0], stores[1], stores[0].DB()
	})
}

// TestDurableSettings checks the writer runs with the settings that make a
// commit durable when it returns and keep references sound.
func TestDurableSettings(t *testing.T) {
	s := mustOpen(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"temp_store":   "2", // MEMORY
	} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x?mode=memory"} {
		if s, err := sqlite.Open(context.Background(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded; an in-memory database is not shared by writer and readers", path)
		}
	}
}

// TestOddPath opens a file whose path needs escaping in the driver's URI,
// and checks the file is where it was asked to be.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir#with?odd%20chars")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "door man.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCarrier(context.Background(), &doorman.Carrier{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %q: %v", path, err)
	}
}

// TestReopen checks committed data outlives the store, and that opening a
// migrated database applies no migration twice.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "doorman.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	c := &doorman.Carrier{Name: "Parcelfast"}
	if err := s.CreateCarrier(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Carrier(ctx, c.ID); err != nil || got.Name != c.Name {
		t.Fatalf("carrier after reopening: %+v, %v", got, err)
	}
	var applied, files int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("migration")
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".sql" {
			files++
		}
	}
	if files == 0 || applied != files {
		t.Fatalf("%d migrations recorded for %d files", applied, files)
	}
	if breaks, err := s.VerifyAudit(ctx); err != nil || len(breaks) != 0 {
		t.Fatalf("VerifyAudit after reopening: %+v, %v", breaks, err)
	}
}
