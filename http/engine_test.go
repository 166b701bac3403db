package http

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/doorman-dev/doorman/internal/pgtest"
	"github.com/doorman-dev/doorman/postgres"
	"github.com/doorman-dev/doorman/sqlite"
	"github.com/doorman-dev/doorman/sqlstore"
)

// engine is the store engine under the servers of the current run.
var engine = "sqlite"

// TestMain runs the whole suite on SQLite and then, when
// DOORMAN_TEST_POSTGRES_DSN is set, once more on PostgreSQL, each test in
// a fresh schema: the API must answer alike on both engines. A header on
// standard output says which run the results that follow belong to, and
// every failure names its engine (see openStore).
func TestMain(m *testing.M) {
	code := m.Run()
	if pgtest.Configured() {
		engine = "postgres"
		fmt.Printf("=== the http tests again, on PostgreSQL (%s is set)\n", pgtest.EnvDSN)
		if c := m.Run(); c != 0 {
			code = c
		}
	}
	os.Exit(code)
}

// openStore opens an empty store of the current engine, closed (and, on
// PostgreSQL, its schema dropped) when the test ends.
func openStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	switch engine {
	case "postgres":
		dsn := pgtest.Schema(t)
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		logEngineOnFailure(t, "PostgreSQL")
		return st.Store
	default:
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "doorman.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		logEngineOnFailure(t, "SQLite")
		return st.Store
	}
}

// logEngineOnFailure makes a failing test say which engine it ran on, as
// the test names are the same in both runs.
func logEngineOnFailure(t testing.TB, name string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("store engine: " + name)
		}
	})
}
