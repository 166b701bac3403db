package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvDSN names the variable that points the tests at a PostgreSQL server.
const EnvDSN = "DOORMAN_TEST_POSTGRES_DSN"

// Configured reports whether a test server is configured.
func Configured() bool { return os.Getenv(EnvDSN) != "" }

// DSN returns the test server's DSN, or skips the test when none is
// configured.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		tb.Skipf("%s is not set; skipping the PostgreSQL tests (e.g. %s=postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable)", EnvDSN, EnvDSN)
	}
	return dsn
}

// Schema creates a schema with a random name on the test server, dropped
// with everything in it when the test ends, and returns a DSN whose
// search_path is that schema. It skips the test when no server is
// configured. Stores opened on the DSN must be closed before the test
// ends, which t.Cleanup functions registered after this call are.
func Schema(tb testing.TB) string {
	tb.Helper()
	dsn := DSN(tb)
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
	return WithSearchPath(tb, dsn, schema)
}

// WithSearchPath returns dsn (a postgres:// URL or a key=value string)
// with its search_path set to schema.
func WithSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
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
