package keyring_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/keyring"
	"github.com/doorman-dev/doorman/sqlite"
)

func openStore(t *testing.T) doorman.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRing_Rotate: a rotated-in key gets a file next to the first one, is
// announced at once and signs after the overlap; a second node sharing
// the store picks it up once the file is copied; revocation stops it.
func TestRing_Rotate(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "command-key")
	r, err := keyring.Open(ctx, store, path, "command-key")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r.SetClock(func() time.Time { return now })
	first := r.KeyID()
	k, err := r.Rotate(ctx, time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(keyring.KeyFile(path, k.KeyID)); err != nil {
		t.Fatalf("no key file for the new key: %v", err)
	}
	if r.KeyID() != first {
		t.Fatal("the ring signs with the new key before the overlap ended")
	}
	if ws := r.WireSet(); ws.Seq != 2 || len(ws.Keys) != 2 || ws.Keys[1].Status != doorman.KeyNext {
		t.Fatalf("wire set %v", ws)
	}
	if len(r.VerifyKeys()) != 2 {
		t.Fatalf("enrolling devices get %v", r.VerifyKeys())
	}
	if _, err := r.Rotate(ctx, time.Hour, 0); doorman.ErrorCode(err) != doorman.ECONFLICT {
		t.Fatalf("second waiting key: %v", err)
	}
	now = now.Add(time.Hour)
	if r.KeyID() != k.KeyID {
		t.Fatal("the ring does not sign with the new key after the overlap")
	}

	// A second node: without the new key's file it signs with the old key
	// while devices accept it, and says which file is missing.
	dir2 := t.TempDir()
	path2 := filepath.Join(dir2, "command-key")
	data, _ := os.ReadFile(path)
	os.WriteFile(path2, data, 0o600)
	r2, err := keyring.Open(ctx, store, path2, "command-key")
	if err != nil {
		t.Fatal(err)
	}
	r2.SetClock(func() time.Time { return now })
	if r2.KeyID() != first || len(r2.Missing()) != 1 {
		t.Fatalf("node without the new file signs with %s, missing %v", r2.KeyID(), r2.Missing())
	}
	data, _ = os.ReadFile(keyring.KeyFile(path, k.KeyID))
	os.WriteFile(keyring.KeyFile(path2, k.KeyID), data, 0o600)
	if _, err := r2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if r2.KeyID() != k.KeyID {
		t.Fatal("the second node does not pick up the copied key")
	}
	u, err := r2.SignKeyUpdate(doorman.NewID(doorman.PrefixDoor))
	if err != nil || len(u.Tokens) != 2 {
		t.Fatalf("key update %v, %v: want one token per held key", u, err)
	}

	if err := r.Revoke(ctx, k.KeyID); err != nil {
		t.Fatal(err)
	}
	if changed, err := r2.Refresh(ctx); err != nil || !changed {
		t.Fatalf("refresh after revocation: %v, %v", changed, err)
	}
	if r2.KeyID() != first { // the old key is retiring still
		t.Fatalf("after revoking the new key the ring signs with %s", r2.KeyID())
	}
	now = now.Add(time.Minute)
	if s := r2.Signer(); s != nil {
		t.Fatalf("signs with %s when every key is retired or revoked", s.KeyID())
	}
}

// TestRing_RunAnnounces: a node's ring notices a rotation made elsewhere
// (another node, the CLI) at its next refresh and says so, once.
func TestRing_RunAnnounces(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store := openStore(t)
	path := filepath.Join(t.TempDir(), "command-key")
	r, err := keyring.Open(ctx, store, path, "command-key")
	if err != nil {
		t.Fatal(err)
	}
	other, err := keyring.Open(ctx, store, path, "command-key") // the CLI, on the same data dir
	if err != nil {
		t.Fatal(err)
	}
	changed := make(chan int64, 4)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		r.Run(ctx, 10*time.Millisecond, func(context.Context) { changed <- r.KeySet().Seq }, t.Logf)
	}()
	// Run stops before the store closes (at cleanup) and the test ends.
	defer func() { cancel(); <-ran }()
	k, err := other.Rotate(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case seq := <-changed:
		if seq != 2 || r.KeyID() != k.KeyID {
			t.Fatalf("announced set %d, signing with %s; want 2 and %s", seq, r.KeyID(), k.KeyID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the ring never noticed the rotation")
	}
	select {
	case seq := <-changed:
		t.Fatalf("announced again (set %d) without a change", seq)
	case <-time.After(100 * time.Millisecond):
	}
}
