package app

import (
	"context"

	"github.com/doorman-dev/doorman"
)

// systemOnly admits Doorman acting on its own behalf: here the bus watching
// its connections.
var systemOnly = []string{doorman.RoleSystem}

// FlagDuplicateConnection records in the device's building's audit log that
// the device's bus credentials were in use on more than one connection at
// once (detail says which, for people): a copy of the credentials exists,
// or the device reconnected while the server still held its dead
// connection. The device's acknowledgements and events are signed, so the
// copy cannot speak for the door; the manager decides whether to revoke
// and re-enroll. publicKey must be the key the store registered for the
// device. Returns EFORBIDDEN (not the system), ENOTFOUND (device) or
// EINVALID (another key, or no detail).
func (s *Devices) FlagDuplicateConnection(ctx context.Context, deviceID, publicKey, detail string) error {
	if _, err := require(ctx, systemOnly); err != nil {
		return err
	}
	if detail == "" {
		return doorman.Errorf(doorman.EINVALID, "A flag needs a detail.")
	}
	d, err := s.store.Device(ctx, deviceID)
	if err != nil {
		return err
	}
	if d.PublicKey != publicKey {
		return doorman.Errorf(doorman.EINVALID, "The key is not the device's.")
	}
	if len(detail) > 1024 {
		detail = detail[:1024]
	}
	return s.store.AppendAudit(ctx, &doorman.AuditEntry{
		Action: doorman.ActionDeviceDuplicateConnection, BuildingID: d.BuildingID, DoorID: d.DoorID,
		Detail: detail, At: s.now(),
	})
}
