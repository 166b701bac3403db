package natsbus

import (
	"encoding/json"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// SendKeyUpdate (app.KeyBus) publishes a key update on the door's keys
// subject, under the door's inbox prefix like audit checkpoints: the
// device subscribes there already and no device may publish there. Core
// NATS: a device that is offline gets the current set after its next
// heartbeat (which reports the sequence it holds). Returns EINVALID or
// EUNAVAILABLE.
func (b *Bus) SendKeyUpdate(doorID string, u *wire.KeyUpdate) error {
	if !wire.ValidDoorID(doorID) {
		return doorman.Errorf(doorman.EINVALID, "Invalid door ID.")
	}
	if err := u.Validate(); err != nil {
		return err
	}
	data, err := json.Marshal(u)
	if err != nil {
		return doorman.Errorf(doorman.EINTERNAL, "Could not encode the key update.")
	} else if len(data) > wire.MaxKeyUpdateSize {
		return doorman.Errorf(doorman.ETOOLARGE, "The key update is over %d bytes.", wire.MaxKeyUpdateSize)
	}
	if b.nc == nil {
		return doorman.Errorf(doorman.EUNAVAILABLE, "The bus is not connected.")
	}
	if err := b.nc.Publish(wire.KeysSubject(doorID), data); err != nil {
		return doorman.Errorf(doorman.EUNAVAILABLE, "Could not send the key update: %v", err)
	}
	return nil
}
