package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/keyring"
	"github.com/doorman-dev/doorman/sqlite"
)

// TestAdminKeysCommand: `doorman admin keys` lists the ring, rotates a key
// into a file next to the command key file, activates and revokes it, and
// refuses a deployment that has no key yet.
func TestAdminKeysCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(ctx, []string{"admin", "keys", "list", "--data-dir", dir}, &out, &out); err == nil || !strings.Contains(err.Error(), "no command key yet") {
		t.Fatalf("list before any key: %v", err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, CommandKeyName)
	ring, err := keyring.Open(ctx, store, keyPath, CommandKeyName)
	if err != nil {
		t.Fatal(err)
	}
	first := ring.KeyID()
	store.Close()

	keys := func(args ...string) string {
		t.Helper()
		out.Reset()
		if err := run(ctx, append(append([]string{"admin", "keys"}, args...), "--data-dir", dir), &out, &out); err != nil {
			t.Fatalf("keys %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	if got := keys("list"); !strings.Contains(got, first) || !strings.Contains(got, "active") {
		t.Fatalf("list:\n%s", got)
	}
	got := keys("rotate", "--overlap", "1h")
	fields := strings.Fields(got)
	if len(fields) < 3 || fields[0] != "rotate" || !strings.HasPrefix(fields[1], "k4.pid.") {
		t.Fatalf("rotate:\n%s", got)
	}
	kid := strings.TrimSuffix(fields[1], ":")
	if _, err := os.Stat(keyring.KeyFile(keyPath, kid)); err != nil {
		t.Fatalf("no key file for %s: %v", kid, err)
	}
	if got := keys("list"); !strings.Contains(got, kid) || !strings.Contains(got, "next") {
		t.Fatalf("list after rotate:\n%s", got)
	}
	if got := keys("activate", kid); !strings.Contains(got, "active") {
		t.Fatalf("activate:\n%s", got)
	}
	if got := keys("revoke", first); !strings.Contains(got, "revoked") {
		t.Fatalf("revoke:\n%s", got)
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "keys", "revoke", kid, "--data-dir", dir}, &out, &out); err == nil || !strings.Contains(err.Error(), "rotate with no overlap first") {
		t.Fatalf("revoking the only signing key: %v", err)
	}
}
