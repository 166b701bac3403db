package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/postgres"
	"github.com/doorman-dev/doorman/storetest"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// dsnEnv names the variable that points the tests at a PostgreSQL server.
const dsnEnv = "DOORMAN_TEST_POSTGRES_DSN"

// mustOpen opens a store in a fresh schema of the test server, dropped
// when the test ends. It skips the test when no server is configured.
func mustOpen(tb testing.TB) *postgres.Store {
	tb.Helper()
	return openDSN(tb, newSchema(tb))
}

// newSchema creates a schema for one test, to be dropped when it ends, and
// returns the DSN that uses it.
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "doorman_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
	})
	return withSearchPath(tb, dsn, schema)
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

// testDSN returns the test server's DSN, or skips the test.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skipf("%s is not set; skipping the PostgreSQL store tests (e.g. %s=postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable)", dsnEnv, dsnEnv)
	}
	return dsn
}

// withSearchPath returns dsn with search_path set to schema.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

func TestStore(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) (doorman.Store, *sql.DB) {
		s := mustOpen(t)
		return s, s.DB()
	})
}

func BenchmarkRecordAccess(b *testing.B) {
	testDSN(b)
	storetest.Bench(b, func(b *testing.B) doorman.Store { return mustOpen(b) })
}

func TestSharedDatabase(t *testing.T) {
	testDSN(t)
	storetest.RunShared(t, func(t *testing.T) (doorman.Store, doorman.Store, *sql.DB) {
		dsn := newSchema(t)
		a, b := openDSN(t, dsn), openDSN(t, dsn)
		return a, b, a.DB()
	})
}
