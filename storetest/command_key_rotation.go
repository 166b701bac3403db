package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// keyC and keyD are further key IDs; pubX stands for public keys.
const (
	keyC = "k4.pid.CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
	keyD = "k4.pid.DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
	pubA = "k4.public.AAAA"
	pubB = "k4.public.BBBB"
	pubC = "k4.public.CCCC"
)

// testCommandKeyRotation walks a ring through its states: the first key
// is active, a rotated-in key is next until its activation, the old key
// retires at the time given, a second waiting key is refused, activation
// and revocation move the sequence on, and malformed requests write
// nothing.
func testCommandKeyRotation(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	_, err := s.InitCommandKey(ctx, keyA)
	must(t, err)
	set, err := s.CommandKeySet(ctx)
	must(t, err)
	equal(t, "sequence of a new ring", set.Seq, int64(1))
	equal(t, "keys of a new ring", len(set.Keys), 1)
	now := time.Now().UTC().Truncate(time.Microsecond)
	equal(t, "first key status", set.Status(set.Keys[0], now), doorman.KeyActive)
	equal(t, "public key before it is recorded", set.Keys[0].PublicKey, "")

	must(t, s.SetCommandKeyPublic(ctx, keyA, pubA))
	must(t, s.SetCommandKeyPublic(ctx, keyA, pubB)) // recorded already: no change
	wantCode(t, s.SetCommandKeyPublic(ctx, keyD, pubA), doorman.ENOTFOUND)
	wantCode(t, s.SetCommandKeyPublic(ctx, keyA, ""), doorman.EINVALID)
	set, err = s.CommandKeySet(ctx)
	must(t, err)
	equal(t, "recorded public key", set.Keys[0].PublicKey, pubA)
	equal(t, "sequence after recording a public key", set.Seq, int64(1))

	day := 24 * time.Hour
	_, err = s.AddCommandKey(ctx, &doorman.CommandKey{KeyID: keyB, PublicKey: pubB, ActivatesAt: now.Add(-time.Hour)}, now, now.Add(day))
	wantCode(t, err, doorman.EINVALID)
	_, err = s.AddCommandKey(ctx, &doorman.CommandKey{KeyID: keyB, ActivatesAt: now.Add(day)}, now, now.Add(day))
	wantCode(t, err, doorman.EINVALID)
	set, err = s.AddCommandKey(ctx, &doorman.CommandKey{KeyID: keyB, PublicKey: pubB, ActivatesAt: now.Add(day)}, now, now.Add(day+time.Minute))
	must(t, err)
	equal(t, "sequence after a rotation", set.Seq, int64(2))
	b := set.Key(keyB)
	equal(t, "new key status", set.Status(b, now), doorman.KeyNext)
	equal(t, "old key status during the overlap", set.Status(set.Key(keyA), now), doorman.KeyActive)
	equal(t, "old key retires", set.Key(keyA).RetiresAt, now.Add(day+time.Minute))
	equal(t, "active after the overlap", set.Active(now.Add(day)).KeyID, keyB)
	equal(t, "old key just after the overlap", set.Status(set.Key(keyA), now.Add(day)), doorman.KeyRetiring)
	equal(t, "old key after its grace", set.Status(set.Key(keyA), now.Add(day+time.Minute)), doorman.KeyRetired)

	_, err = s.AddCommandKey(ctx, &doorman.CommandKey{KeyID: keyC, PublicKey: pubC, ActivatesAt: now.Add(day)}, now, now.Add(day))
	wantCode(t, err, doorman.ECONFLICT)
	_, err = s.AddCommandKey(ctx, &doorman.CommandKey{KeyID: keyB, PublicKey: pubB, ActivatesAt: now.Add(3 * day)}, now.Add(2*day), now.Add(3*day))
	wantCode(t, err, doorman.ECONFLICT)

	later := now.Add(time.Hour)
	set, err = s.ActivateCommandKey(ctx, keyB, later, later.Add(time.Minute))
	must(t, err)
	equal(t, "sequence after activation", set.Seq, int64(3))
	equal(t, "activated key", set.Active(later).KeyID, keyB)
	equal(t, "old key retires at the new time", set.Key(keyA).RetiresAt, later.Add(time.Minute))
	_, err = s.ActivateCommandKey(ctx, keyB, later, later)
	wantCode(t, err, doorman.ECONFLICT)
	_, err = s.ActivateCommandKey(ctx, keyD, later, later)
	wantCode(t, err, doorman.ENOTFOUND)

	set, err = s.RevokeCommandKey(ctx, keyA, later)
	must(t, err)
	equal(t, "sequence after revocation", set.Seq, int64(4))
	equal(t, "revoked key", set.Status(set.Key(keyA), later), doorman.KeyRevoked)
	set, err = s.RevokeCommandKey(ctx, keyA, later.Add(time.Hour))
	must(t, err)
	equal(t, "revoking twice", set.Seq, int64(4))
	equal(t, "revocation time kept", set.Key(keyA).RevokedAt, later)
	_, err = s.RevokeCommandKey(ctx, keyD, later)
	wantCode(t, err, doorman.ENOTFOUND)

	keys, err := s.CommandKeys(ctx)
	must(t, err)
	equal(t, "registered keys", keys, []string{keyA, keyB})
}

// testCommandKeyRotationRace rotates on two stores over one database at
// once: exactly one new key waits, and the sequence counts every change.
func testCommandKeyRotationRace(t *testing.T, open SharedOpener) {
	a, b, _ := open(t)
	ctx := context.Background()
	_, err := a.InitCommandKey(ctx, keyA)
	must(t, err)
	now := time.Now()
	stores := []doorman.Store{a, b}
	kids := []string{keyB, keyC}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := &doorman.CommandKey{KeyID: kids[i], PublicKey: pubB, ActivatesAt: now.Add(time.Hour)}
			_, errs[i] = stores[i].AddCommandKey(ctx, k, now, now.Add(2*time.Hour))
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two rotations at once: %v, %v; want exactly one to pass", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil {
			wantCode(t, err, doorman.ECONFLICT)
		}
	}
	set, err := b.CommandKeySet(ctx)
	must(t, err)
	equal(t, "keys after the race", len(set.Keys), 2)
	if set.Seq != 2 && set.Seq != 3 { // the loser's bump rolls back with it
		t.Fatalf("sequence %d", set.Seq)
	}
}
