package app_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/keyring"
	"github.com/doorman-dev/doorman/wire"
)

// keyBus records the key updates sent.
type keyBus struct {
	mu   sync.Mutex
	sent map[string]int
}

func (b *keyBus) SendKeyUpdate(doorID string, u *wire.KeyUpdate) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent[doorID]++
	return u.Validate()
}

// TestCommandKeysAuthorise: only operators (and Doorman itself) list,
// rotate, activate and revoke command keys; every other caller is refused
// and changes nothing.
func TestCommandKeysAuthorise(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ring, err := keyring.Open(ctx, w.store, filepath.Join(t.TempDir(), "command-key"), "command-key")
	must(t, err)
	svc := app.NewCommandKeys(ring, w.store, &keyBus{sent: map[string]int{}}, nil)
	kid := ring.KeyID()
	for _, c := range []struct {
		name string
		ctx  context.Context
		code string
	}{
		{"anonymous", ctx, doorman.EUNAUTHORIZED},
		{"manager", as(doorman.RoleManager, "mgr_1", ""), doorman.EFORBIDDEN},
		{"carrier", as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID), doorman.EFORBIDDEN},
		{"courier", as(doorman.RoleCourier, "cou_1", w.allowed.ID), doorman.EFORBIDDEN},
		{"device", as(doorman.RoleDevice, "dev_1", ""), doorman.EFORBIDDEN},
	} {
		_, _, err := svc.List(c.ctx)
		wantCode(t, c.name+" list", err, c.code)
		_, err = svc.Rotate(c.ctx, 0, 0)
		wantCode(t, c.name+" rotate", err, c.code)
		_, err = svc.Activate(c.ctx, kid, 0)
		wantCode(t, c.name+" activate", err, c.code)
		_, err = svc.Revoke(c.ctx, kid)
		wantCode(t, c.name+" revoke", err, c.code)
	}
	if ring.KeySet().Seq != 1 || ring.KeyID() != kid {
		t.Fatalf("refused callers changed the ring: set %d, key %s", ring.KeySet().Seq, ring.KeyID())
	}

	op := as(doorman.RoleOperator, "opr_1", "")
	_, err = svc.Revoke(op, kid)
	wantCode(t, "revoking the only signing key", err, doorman.ECONFLICT)
	next, err := svc.Rotate(op, time.Hour, time.Minute)
	must(t, err)
	if next.Status != doorman.KeyNext || !next.Held {
		t.Fatalf("rotated-in key %+v", next)
	}
	// Revoking the active key on compromise activates the waiting one.
	old, err := svc.Revoke(op, kid)
	must(t, err)
	if old.Status != doorman.KeyRevoked || ring.KeyID() != next.KeyID {
		t.Fatalf("after revoking the active key: %s is %s, the ring signs with %s", kid, old.Status, ring.KeyID())
	}
	seq, keys, err := svc.List(doorman.NewContextWithPrincipal(ctx, doorman.System()))
	must(t, err)
	if seq != 4 || len(keys) != 2 || keys[1].Status != doorman.KeyActive {
		t.Fatalf("list: %d %+v", seq, keys)
	}
}

// TestCommandKeysCatchUp: a heartbeat reporting an old key set gets the
// current one; an up-to-date one gets nothing.
func TestCommandKeysCatchUp(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ring, err := keyring.Open(ctx, w.store, filepath.Join(t.TempDir(), "command-key"), "command-key")
	must(t, err)
	bus := &keyBus{sent: map[string]int{}}
	svc := app.NewCommandKeys(ring, w.store, bus, nil)
	svc.CatchUp(w.door.ID, 1)
	svc.CatchUp(w.door.ID, 0)
	if bus.sent[w.door.ID] != 1 {
		t.Fatalf("sent %d key updates, want 1", bus.sent[w.door.ID])
	}
}
