package sqlite_test

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/sqlite"
)

// TestOutboxMigration: migration 014 moves the mail of 011's mail_outbox
// into the outbox as sign-in links (queued ones keep their body, sent
// ones lose it, failed ones are dead) and starts existing chains' cursors
// at their end.
func TestOutboxMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doorman.db")
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(os.DirFS("migration"), "*.sql")
	sort.Strings(names)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%v: %s", err, q)
		}
	}
	exec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`)
	for _, n := range names {
		if n >= "014" {
			break
		}
		body, err := os.ReadFile(filepath.Join("migration", n))
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(`INSERT INTO schema_migrations (name, applied_at) VALUES ($1, 1)`, n)
	}
	b := doorman.NewID(doorman.PrefixBuilding)
	exec(`INSERT INTO buildings (id, name, address, timezone, created_at, updated_at) VALUES ($1, 'B', 'A', 'UTC', 1, 1)`, b)
	exec(`INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 7, 'h')`, b)
	queued, sent, failed := doorman.NewID("mal"), doorman.NewID("mal"), doorman.NewID("mal")
	for _, m := range [][2]string{{queued, "queued"}, {sent, "sent"}, {failed, "failed"}} {
		exec(`INSERT INTO mail_outbox (id, building_id, to_addr, subject, body, status, created_at, attempts, last_error)
			VALUES ($1, $2, 'a@example.org', 'Sign in', 'link dml_secret', $3, 5, 2, 'e')`, m[0], b, m[1])
	}
	db.Close()

	store, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	want := map[string][2]string{queued: {doorman.MessageQueued, "link dml_secret"}, sent: {doorman.MessageSent, ""}, failed: {doorman.MessageDead, ""}}
	for old, w := range want {
		m, err := store.Message(ctx, doorman.PrefixMessage+strings.TrimPrefix(old, "mal"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != w[0] || m.Text != w[1] || m.Kind != doorman.KindResidentSignInLink || m.Channel != doorman.ChannelEmail ||
			m.Target != "a@example.org" || m.BuildingID != b || m.Attempts != 2 {
			t.Errorf("%s became %+v", old, m)
		}
	}
	chains, err := store.OutboxChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(chains) != 0 {
		t.Errorf("history before the migration is to be produced: %+v", chains)
	}
}
