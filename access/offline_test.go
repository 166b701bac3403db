package access_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/wire"
)

// wireSigner signs offline grants as natsbus.Bus does, without a bus.
type wireSigner struct{ s *wire.Signer }

func (w wireSigner) SignOfflineGrant(door *doorman.Door, g *doorman.Grant) (*doorman.OfflineGrant, error) {
	token, og, err := w.s.SignOfflineGrant(wire.OfflineGrantRequest{DoorID: door.ID, GrantID: g.ID, CourierID: g.CourierID,
		ParcelIDs: g.ParcelIDs, ExpiresAt: g.ExpiresAt})
	if err != nil {
		return nil, err
	}
	return &doorman.OfflineGrant{Token: token, JTI: og.JTI, ExpiresAt: og.ExpiresAt}, nil
}

// TestOfflineGrantIssued: a door that does not answer in a building that
// allows offline delivery answers door_offline with an offline grant the
// door's reader accepts, bound to the door, the courier and the grant's
// parcels; the grant stays committed and the log says the door stayed
// shut and an offline grant was given. With offline delivery off, or a
// door that refused the command, there is none.
func TestOfflineGrantIssued(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := wire.NewSigner(priv)
	must(t, err)
	link := &recordingLink{t: t, store: f.store, offline: true}
	svc := access.NewService(f.store, access.WithDoorLink(link), access.WithOfflineSigner(wireSigner{signer}))

	// Off by default.
	res, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	if res.Decision.Reason != doorman.ReasonDoorOffline || res.OfflineGrant != nil {
		t.Fatalf("offline delivery off: %+v", res)
	}

	days := 2
	_, err = f.store.UpdateBuilding(ctx, f.door.BuildingID, doorman.BuildingUpdate{OfflineDeliveryDays: &days})
	must(t, err)
	res, err = svc.RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	og := res.OfflineGrant
	if res.Decision.Allowed || res.Decision.Reason != doorman.ReasonDoorOffline || res.Grant != nil || og == nil {
		t.Fatalf("want door_offline with an offline grant, got %+v", res)
	}
	if d := time.Until(og.ExpiresAt); d <= 0 || d > wire.MaxOfflineGrantTTL {
		t.Fatalf("offline grant expires in %s", d)
	}
	grantID := link.grants[len(link.grants)-1]
	g, err := f.store.Grant(ctx, grantID)
	must(t, err)
	if g.RevokedAt != nil || g.UsedAt != nil {
		t.Fatalf("the grant behind an offline grant must stay committed: %+v", g)
	}

	v, err := wire.NewVerifier(wire.VerifierConfig{DoorID: f.door.ID, Keys: []wire.VerifyKey{signer.VerifyKey()}, Replay: wire.NewMemoryReplay(nil)})
	must(t, err)
	got, err := v.VerifyOfflineGrant([]byte(og.Token), wire.OfflineCheck{Now: time.Now()})
	must(t, err)
	if got.GrantID != grantID || got.CourierID != f.courier.ID || got.ParcelsDigest != wire.ParcelsDigest(g.ParcelIDs) || got.JTI != og.JTI ||
		!strings.HasPrefix(got.JTI, wire.PrefixOfflineGrant+"_") {
		t.Fatalf("offline grant %+v does not match grant %+v", got, g)
	}
	other, _ := wire.NewVerifier(wire.VerifierConfig{DoorID: doorman.NewID(doorman.PrefixDoor), Keys: []wire.VerifyKey{signer.VerifyKey()}, Replay: wire.NewMemoryReplay(nil)})
	if _, err := other.VerifyOfflineGrant([]byte(og.Token), wire.OfflineCheck{Now: time.Now()}); err == nil {
		t.Fatal("another door accepted the offline grant")
	}

	all, _, err := f.store.ListAudit(ctx, doorman.AuditFilter{DoorID: f.door.ID}, doorman.Page{})
	must(t, err)
	if all[0].Action != doorman.ActionGrantOfflineIssued || all[0].GrantID != grantID || !strings.Contains(all[0].Detail, og.JTI) ||
		all[1].Action != doorman.ActionUnlockFailed || all[1].Reason != doorman.ReasonDoorOffline {
		t.Fatalf("audit: %s %s / %s", all[0].Action, all[0].Detail, all[1].Action)
	}

	// No answer is not a refusal: a door that refused gives none.
	rejecting := &rejectingLink{}
	svc = access.NewService(f.store, access.WithDoorLink(rejecting), access.WithOfflineSigner(wireSigner{signer}))
	res, err = svc.RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	if res.Decision.Reason != doorman.ReasonDoorRejected || res.OfflineGrant != nil {
		t.Fatalf("a refusing door: %+v", res)
	}
}

// rejectingLink is a door that answers and refuses.
type rejectingLink struct{}

func (rejectingLink) Unlock(ctx context.Context, door *doorman.Door, g *doorman.Grant) (*doorman.UnlockAck, error) {
	return nil, &doorman.Error{Code: doorman.EFORBIDDEN, Reason: doorman.ReasonDoorRejected, Message: "The door refused the command."}
}
