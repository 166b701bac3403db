package natsbus

import (
	"encoding/json"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// SendAuditCheckpoint (app.WitnessBus) publishes cp on the door's audit subject, under the
// door's inbox prefix: the device subscribes there already, and no device
// may publish there (only answer requests it received), so a device's
// credentials need nothing new. Core NATS: a device that is offline gets
// the next one after its next heartbeat. Returns EINVALID or
// EUNAVAILABLE.
func (b *Bus) SendAuditCheckpoint(doorID string, cp *wire.AuditCheckpoint) error {
	if !wire.ValidDoorID(doorID) {
		return doorman.Errorf(doorman.EINVALID, "Invalid door ID.")
	}
	if err := cp.Validate(); err != nil {
		return err
	}
	data, err := json.Marshal(cp)
	if err != nil {
		return doorman.Errorf(doorman.EINTERNAL, "Could not encode the checkpoint.")
	}
	if b.nc == nil {
		return doorman.Errorf(doorman.EUNAVAILABLE, "The bus is not connected.")
	}
	if err := b.nc.Publish(wire.AuditSubject(doorID), data); err != nil {
		return doorman.Errorf(doorman.EUNAVAILABLE, "Could not send the checkpoint: %v", err)
	}
	return nil
}
