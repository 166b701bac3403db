package natsbus

import (
	"context"
	"maps"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// IssueDeviceCredentials returns a NATS user JWT for the device deviceID
// of door doorID, whose public user NKey is devicePub, allowing only its
// door's command, time and inbox subjects and its own event subjects (see
// deviceClaims). The device proves it holds the private key at every
// connect, so the JWT alone is useless to a thief. Returns EINVALID for a
// bad door ID, device ID or key, ECONFLICT for a revoked key and
// EUNAVAILABLE when the bus has no signing key (external mode without one).
func (b *Bus) IssueDeviceCredentials(doorID, deviceID, devicePub string) (string, error) {
	if !wire.ValidDoorID(doorID) {
		return "", doorman.Errorf(doorman.EINVALID, "Invalid door ID.")
	} else if !wire.ValidDeviceID(deviceID) {
		return "", doorman.Errorf(doorman.EINVALID, "Invalid device ID.")
	} else if !validUserKey(devicePub) {
		return "", doorman.Errorf(doorman.EINVALID, "Device key must be a public NATS user key.")
	} else if b.signing == nil {
		return "", doorman.Errorf(doorman.EUNAVAILABLE, "This bus has no account signing key to issue device credentials with.")
	}
	b.mu.Lock()
	_, revoked := b.revocations[devicePub]
	b.mu.Unlock()
	if revoked {
		return "", doorman.Errorf(doorman.ECONFLICT, "This device key was revoked; the device must generate a new one.")
	}
	token, err := deviceClaims(b.accPub, doorID, deviceID, devicePub).Encode(b.signing)
	if err != nil {
		b.log.Error("issue device credentials", "err", err)
		return "", doorman.Errorf(doorman.EINTERNAL, "Could not issue device credentials.")
	}
	return token, nil
}

// RevokeDevice revokes every JWT issued for the device key devicePub: the
// revocation is written durably to the data dir, then the running server's
// account is updated, which disconnects the device and refuses it from
// then on (also after a restart). Revoking twice is not an error. Returns
// EINVALID for a bad key and EUNAVAILABLE in external mode, where the
// account is managed outside Doorman (revoke with nsc and push the
// account).
func (b *Bus) RevokeDevice(ctx context.Context, devicePub string) error {
	if !validUserKey(devicePub) {
		return doorman.Errorf(doorman.EINVALID, "Device key must be a public NATS user key.")
	} else if b.srv == nil {
		return doorman.Errorf(doorman.EUNAVAILABLE, "Revoke devices of an external NATS account with its operator tools.")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	revs := maps.Clone(b.revocations)
	if _, ok := revs[devicePub]; !ok {
		// One second ahead: JWT issue times are whole seconds, so a JWT
		// issued in this very second is covered too.
		revs[devicePub] = time.Now().Add(time.Second).Unix()
	}
	if err := saveRevocations(b.cfg.DataDir, revs); err != nil {
		b.log.Error("save revocations", "err", err)
		return doorman.Errorf(doorman.EINTERNAL, "Could not record the revocation.")
	}
	b.revocations = revs
	claims := accountClaims(b.keys, revs, b.accountDiskLimit())
	token, err := claims.Encode(b.keys.operator)
	if err != nil {
		b.log.Error("encode account", "err", err)
		return doorman.Errorf(doorman.EINTERNAL, "Could not update the bus account.")
	}
	if err := b.resolver.Store(b.accPub, token); err != nil {
		return doorman.Errorf(doorman.EINTERNAL, "Could not update the bus account.")
	}
	acc, err := b.srv.LookupAccount(b.accPub)
	if err != nil {
		b.log.Error("lookup account", "err", err)
		return doorman.Errorf(doorman.EINTERNAL, "Could not update the bus account.")
	}
	b.srv.UpdateAccountClaims(acc, claims)
	return nil
}
