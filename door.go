package doorman

import (
	"context"
	"time"
)

// DoorLink delivers unlock commands to door devices. It is implemented by
// natsbus; without one, grants are committed but no door is driven.
type DoorLink interface {
	// Unlock sends the door a signed, single-use, expiring command for the
	// grant and waits for the device's acknowledgement, which says when the
	// device pulsed its relay. Returns EUNAVAILABLE (reason door_offline)
	// if the door does not answer within the command timeout, and
	// EFORBIDDEN (reason door_rejected) if the device refused the command.
	Unlock(ctx context.Context, door *Door, grant *Grant) (*UnlockAck, error)
}

// UnlockAck is a door device's acknowledgement of an executed unlock.
type UnlockAck struct {
	// ExecutedAt is when the device pulsed the relay, by its clock.
	ExecutedAt time.Time
}
