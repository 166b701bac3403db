package natsbus_test

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// TestSignOfflineGrant: the bus signs offline grants with its command key,
// bound to the door, the courier and the grant's parcels, expiring with
// the grant and never later than wire.MaxOfflineGrantTTL; a grant without
// parcels gets none, and a bus without a key signs nothing.
func TestSignOfflineGrant(t *testing.T) {
	signer := MustSigner(t)
	b := MustOpenBus(t, t.TempDir(), signer)
	door := &doorman.Door{ID: doorman.NewID(doorman.PrefixDoor), PulseMillis: 1500}
	g := &doorman.Grant{ID: doorman.NewID(doorman.PrefixGrant), DoorID: door.ID, CourierID: doorman.NewID(doorman.PrefixCourier),
		ParcelIDs: []string{"par_b", "par_a"}, ExpiresAt: time.Now().Add(40 * time.Second)}
	og, err := b.SignOfflineGrant(door, g)
	if err != nil {
		t.Fatal(err)
	}
	if !og.ExpiresAt.Equal(g.ExpiresAt.UTC().Truncate(time.Millisecond)) {
		t.Fatalf("expires %v, want the grant's %v", og.ExpiresAt, g.ExpiresAt)
	}
	v, _ := wire.NewVerifier(wire.VerifierConfig{DoorID: door.ID, Keys: []wire.VerifyKey{signer.VerifyKey()}, Replay: wire.NewMemoryReplay(nil)})
	got, err := v.VerifyOfflineGrant([]byte(og.Token), wire.OfflineCheck{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if got.GrantID != g.ID || got.CourierID != g.CourierID || got.ParcelsDigest != wire.ParcelsDigest([]string{"par_a", "par_b"}) ||
		got.JTI != og.JTI || got.Pulse != 1500*time.Millisecond {
		t.Fatalf("signed %+v for grant %+v", got, g)
	}

	g.ExpiresAt = time.Now().Add(time.Hour)
	if og, err := b.SignOfflineGrant(door, g); err != nil || time.Until(og.ExpiresAt) > wire.MaxOfflineGrantTTL {
		t.Fatalf("a long grant: %+v, %v; want at most %s", og, err, wire.MaxOfflineGrantTTL)
	}
	g.ParcelIDs = nil
	if _, err := b.SignOfflineGrant(door, g); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("no parcels: %v", err)
	}
	keyless := MustOpenBus(t, t.TempDir(), nil)
	if _, err := keyless.SignOfflineGrant(door, g); doorman.ErrorCode(err) != doorman.EINTERNAL {
		t.Fatalf("no key: %v", err)
	}
}
