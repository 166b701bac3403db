package doorman

import "context"

// DoorLink delivers unlock commands to door devices. It is implemented by
// natsbus; without one, grants are committed but no door is driven.
type DoorLink interface {
	// Unlock sends the door a signed, single-use, expiring command for the
	// grant and waits for the device's acknowledgement. Returns EUNAVAILABLE
	// (reason door_offline) if the door does not answer within the command
	// timeout, and EFORBIDDEN if the device refused the command.
	Unlock(ctx context.Context, door *Door, grant *Grant) error
}
