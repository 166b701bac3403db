package natsbus

import (
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

var _ doorman.OfflineGrantSigner = (*Bus)(nil)

// SignOfflineGrant signs an offline grant for g, a committed grant of
// door, with the key that signs unlock commands: bound to the door, g's
// courier and g's parcels, valid until g expires and at most
// wire.MaxOfflineGrantTTL. Returns EINVALID (a grant without parcels, or
// one that has expired) or EINTERNAL (no signing key).
func (b *Bus) SignOfflineGrant(door *doorman.Door, g *doorman.Grant) (*doorman.OfflineGrant, error) {
	signer := b.signer()
	if signer == nil {
		return nil, doorman.Errorf(doorman.EINTERNAL, "The bus has no command signing key.")
	}
	exp := time.Now().Add(wire.MaxOfflineGrantTTL)
	if !g.ExpiresAt.IsZero() && g.ExpiresAt.Before(exp) {
		exp = g.ExpiresAt
	}
	token, og, err := signer.SignOfflineGrant(wire.OfflineGrantRequest{
		DoorID: door.ID, GrantID: g.ID, CourierID: g.CourierID, ParcelIDs: g.ParcelIDs,
		ExpiresAt: exp, Pulse: time.Duration(door.PulseMillis) * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	return &doorman.OfflineGrant{Token: token, JTI: og.JTI, ExpiresAt: og.ExpiresAt}, nil
}
