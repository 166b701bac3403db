package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/doorman-dev/doorman/keyring"
)

// node returns a Main on dataDir with free ports, not yet opened.
func node(t *testing.T, dataDir, db string) *Main {
	t.Helper()
	m := NewMain()
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.Config.DataDir, m.Config.DB = dataDir, db
	m.Config.HTTPAddr, m.Config.NATSListen = "127.0.0.1:0", "127.0.0.1:"+freePort(t)
	return m
}

// mustStart opens m and closes it when the test ends.
func mustStart(t *testing.T, m *Main) {
	t.Helper()
	if err := m.Open(context.Background()); err != nil {
		m.Close(context.Background())
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
}

// wantRefused checks that m does not start, with an error that names the
// deployment's key ID and tells the operator to copy the key file.
func wantRefused(t *testing.T, m *Main, kid string) {
	t.Helper()
	err := m.Open(context.Background())
	m.Close(context.Background())
	if err == nil {
		t.Fatal("a node with another command key started")
	}
	if msg := err.Error(); !strings.Contains(msg, kid) || !strings.Contains(msg, "copy "+CommandKeyName) {
		t.Fatalf("error %q does not name key %s and say to copy %s", msg, kid, CommandKeyName)
	}
	if m.Bus != nil {
		t.Fatal("the refused node opened the bus")
	}
}

// keyID returns the ID of the key in file, creating the key if needed.
func keyID(t *testing.T, file string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := keyring.LoadOrCreateSigner(file)
	if err != nil {
		t.Fatal(err)
	}
	return s.KeyID()
}

// copyKey copies the key file from to to (mode 0600).
func copyKey(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCommandKeyPinnedInStore starts nodes one after another on one SQLite
// store, each with its own key file: the first registers its key, a node
// with no key file or another key refuses to start (creating no key
// file), and a node with a copy of the first key starts.
func TestCommandKeyPinnedInStore(t *testing.T) {
	dir := t.TempDir()
	first := node(t, filepath.Join(dir, "data"), "")
	if err := first.Open(context.Background()); err != nil {
		first.Close(context.Background())
		t.Fatal(err)
	}
	kid := keyID(t, first.Config.CommandKeyPath())
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	missing := node(t, first.Config.DataDir, "")
	missing.Config.CommandKeyFile = filepath.Join(dir, "missing", CommandKeyName)
	wantRefused(t, missing, kid)
	if _, err := os.Stat(missing.Config.CommandKeyFile); !os.IsNotExist(err) {
		t.Fatalf("the refused node created a key file: %v", err)
	}

	other := node(t, first.Config.DataDir, "")
	other.Config.CommandKeyFile = filepath.Join(dir, "other", CommandKeyName)
	otherKid := keyID(t, other.Config.CommandKeyFile)
	wantRefused(t, other, kid)

	copied := node(t, first.Config.DataDir, "")
	copied.Config.CommandKeyFile = other.Config.CommandKeyFile
	copyKey(t, first.Config.CommandKeyPath(), copied.Config.CommandKeyFile)
	mustStart(t, copied)
	keys, err := copied.Store.CommandKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != kid {
		t.Fatalf("registered keys %v, want only the first node's %s (the other was %s)", keys, kid, otherKid)
	}
}

// TestCommandKeySharedPostgres runs nodes on one PostgreSQL database with
// data dirs of their own, as a multi-machine deployment does: while the
// first runs, a second node with no key or another key refuses to start,
// and starts once the first node's keys (command and audit checkpoint) are
// copied into its data dir.
func TestCommandKeySharedPostgres(t *testing.T) {
	dsn := postgresSchema(t)
	dir := t.TempDir()
	first := node(t, filepath.Join(dir, "a"), dsn)
	mustStart(t, first)
	kid := keyID(t, first.Config.CommandKeyPath())

	second := node(t, filepath.Join(dir, "b"), dsn)
	wantRefused(t, second, kid)
	if _, err := os.Stat(second.Config.CommandKeyPath()); !os.IsNotExist(err) {
		t.Fatalf("the refused node created a key file: %v", err)
	}

	third := node(t, filepath.Join(dir, "c"), dsn)
	keyID(t, third.Config.CommandKeyPath()) // a key of its own
	wantRefused(t, third, kid)

	// The command key alone is not enough: the audit checkpoint key is
	// the deployment's too.
	second = node(t, second.Config.DataDir, dsn)
	copyKey(t, first.Config.CommandKeyPath(), second.Config.CommandKeyPath())
	err := second.Open(context.Background())
	second.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), AuditKeyName) {
		t.Fatalf("a node without the audit checkpoint key: %v", err)
	}
	second = node(t, second.Config.DataDir, dsn)
	copyKey(t, first.Config.AuditKeyPath(), second.Config.AuditKeyPath())
	mustStart(t, second)
}

// postgresSchema returns a DSN on a fresh schema of the test PostgreSQL,
// dropped when the test ends, or skips the test when none is configured.
func postgresSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("DOORMAN_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("DOORMAN_TEST_POSTGRES_DSN is not set; skipping the PostgreSQL deployment test")
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skip("DOORMAN_TEST_POSTGRES_DSN is not a postgres:// URL")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "doorman_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
