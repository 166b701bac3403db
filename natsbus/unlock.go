package natsbus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// SendUnlock sends a signed unlock command to a door and waits up to
// timeout (0 means the configured CommandTimeout) for its acknowledgement.
// It returns the ack when the door pulsed its relay. Returns EINVALID for a
// bad door ID or a token not for that door; EUNAVAILABLE with reason
// door_offline when no device listens or none answers in time (or ctx
// ends); EFORBIDDEN with reason door_rejected, and the ack, when the device
// refused the command; EINTERNAL for a malformed or mismatched answer.
func (b *Bus) SendUnlock(ctx context.Context, doorID, token string, timeout time.Duration) (*wire.Ack, error) {
	if !wire.ValidDoorID(doorID) {
		return nil, doorman.Errorf(doorman.EINVALID, "Invalid door ID.")
	}
	aud, grantID, jti, err := wire.PeekCommand(token)
	if err != nil || aud != doorID {
		return nil, doorman.Errorf(doorman.EINVALID, "The token is not an unlock command for this door.")
	}
	return b.send(ctx, doorID, token, grantID, jti, timeout)
}

// send delivers a signed command whose grant and token IDs the caller
// knows, and checks the answer names them.
func (b *Bus) send(ctx context.Context, doorID, token, grantID, jti string, timeout time.Duration) (*wire.Ack, error) {
	if timeout <= 0 {
		timeout = b.cfg.CommandTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg, err := b.nc.RequestWithContext(ctx, wire.CommandSubject(doorID), []byte(token))
	if err != nil {
		if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, context.DeadlineExceeded) &&
			!errors.Is(err, context.Canceled) && !errors.Is(err, nats.ErrTimeout) {
			b.log.Warn("send unlock", "door", doorID, "err", err)
		}
		return nil, offline()
	}
	var ack wire.Ack
	if err := wire.Decode(msg.Data, wire.MaxMessageSize, &ack); err != nil {
		b.log.Warn("malformed ack", "door", doorID, "err", err)
		return nil, doorman.Errorf(doorman.EINTERNAL, "The door answered with a malformed acknowledgement.")
	}
	if ack.Rejected != "" {
		e := doorman.Errorf(doorman.EFORBIDDEN, "The door refused the command (%s).", ack.Rejected)
		e.Reason = doorman.ReasonDoorRejected
		return &ack, e
	}
	if ack.JTI != jti || ack.GrantID != grantID {
		b.log.Warn("mismatched ack", "door", doorID, "jti", jti, "ack_jti", ack.JTI)
		return nil, doorman.Errorf(doorman.EINTERNAL, "The door acknowledged another command.")
	}
	return &ack, nil
}

// Unlock implements doorman.DoorLink: it signs a single-use command for the
// grant with the configured Signer, valid for the command timeout only, and
// sends it, returning when the device pulsed its relay. Once Unlock has
// reported the door offline, the command has expired: nothing can deliver
// it to the door in time. Returns EUNAVAILABLE (door_offline) or
// EFORBIDDEN (door_rejected) as SendUnlock does, EINVALID for a door or
// grant that cannot be signed, and EINTERNAL when the bus has no Signer.
func (b *Bus) Unlock(ctx context.Context, door *doorman.Door, grant *doorman.Grant) (*doorman.UnlockAck, error) {
	if b.cfg.Signer == nil {
		return nil, doorman.Errorf(doorman.EINTERNAL, "The bus has no command signing key.")
	}
	pulse := time.Duration(door.PulseMillis) * time.Millisecond
	token, cmd, err := b.cfg.Signer.SignUnlock(wire.Unlock{DoorID: door.ID, GrantID: grant.ID, Pulse: pulse, TTL: b.cfg.CommandTimeout})
	if err != nil {
		return nil, err
	}
	ack, err := b.send(ctx, door.ID, token, cmd.GrantID, cmd.JTI, 0)
	if err != nil {
		return nil, err
	}
	return &doorman.UnlockAck{ExecutedAt: ack.ExecutedAt}, nil
}

func offline() error {
	e := doorman.Errorf(doorman.EUNAVAILABLE, "The door did not answer; it is offline.")
	e.Reason = doorman.ReasonDoorOffline
	return e
}
