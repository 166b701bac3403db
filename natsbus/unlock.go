package natsbus

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// SendUnlock sends a signed unlock command to a door and waits up to
// timeout (0 means the configured CommandTimeout) for its acknowledgement.
// It returns the ack when the door pulsed its relay. Only an ack of this
// command signed by the door's active device counts (see send). Returns
// EINVALID for a bad door ID or a token not for that door; EUNAVAILABLE
// with reason door_offline when no device sends such an ack in time (or
// ctx ends); EFORBIDDEN with reason door_rejected, and the ack, when the
// device refused the command; EINTERNAL when the device's signed ack names
// another grant.
func (b *Bus) SendUnlock(ctx context.Context, doorID, token string, timeout time.Duration) (*wire.Ack, error) {
	if !wire.ValidDoorID(doorID) {
		return nil, doorman.Errorf(doorman.EINVALID, "Invalid door ID.")
	}
	aud, grantID, jti, err := wire.PeekCommand(token)
	if err != nil || aud != doorID {
		return nil, doorman.Errorf(doorman.EINVALID, "The token is not an unlock command for this door.")
	}
	return b.send(ctx, doorID, token, grantID, jti, timeout, false)
}

// send delivers a signed command whose grant and token IDs the caller
// knows and waits for the door's answer: the first acknowledgement signed
// by the door's active device as the answer to this very token (and
// naming its JTI). Anything else on the reply subject (an unsigned or
// badly signed ack, the answer to another command, a "no responders"
// status, which a rival subscriber can forge as easily as an ack) is no
// answer: it is logged, counted in UnverifiedAcks (but for the status),
// and the wait goes on. So a rival that answers first cannot speak for the
// door, and the real device's answer still counts when it comes. A door
// that sends no verified answer within the timeout is offline.
//
// fresh says the command was just signed and sent once: a signed
// "replayed" refusal of it can then only answer a copy a broker delivered
// again, while the device executed the first; it is not the answer, and
// the wait goes on.
func (b *Bus) send(ctx context.Context, doorID, token, grantID, jti string, timeout time.Duration, fresh bool) (*wire.Ack, error) {
	if timeout <= 0 {
		timeout = b.cfg.CommandTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	inbox, answers, done := b.replies.open()
	defer done()
	if err := b.nc.PublishRequest(wire.CommandSubject(doorID), inbox, []byte(token)); err != nil {
		b.log.Warn("send unlock", "door", doorID, "err", err)
		return nil, offline()
	}
	var devicePub string // looked up at the first answer
	for {
		var msg *nats.Msg
		select {
		case <-ctx.Done():
			return nil, offline()
		case msg = <-answers:
		}
		if len(msg.Data) == 0 && msg.Header.Get("Status") == noRespondersStatus {
			// The server's "no responders", or a rival's imitation of it:
			// not counted, since an offline door causes it too.
			b.log.Debug("no responders to an unlock command (or a forged status); waiting", "door", doorID, "jti", jti)
			continue
		}
		ack, why := b.verifyAck(ctx, doorID, token, jti, msg, &devicePub)
		if why != "" {
			b.unverifiedAcks.Add(1)
			b.log.Warn("unverified answer to an unlock command ignored", "door", doorID, "jti", jti, "why", why)
			continue
		}
		if fresh && ack.Rejected == wire.RejectReplayed {
			b.log.Warn("the door refused a copy of a command sent once (a broker delivered it again); waiting for its answer to the first", "door", doorID, "jti", jti)
			continue
		}
		if ack.Rejected != "" {
			e := doorman.Errorf(doorman.EFORBIDDEN, "The door refused the command (%s).", ack.Rejected)
			e.Reason = doorman.ReasonDoorRejected
			return ack, e
		}
		if ack.GrantID != grantID {
			// Signed by the door's device for this command, naming another
			// grant: a device bug, never a courier's OPEN.
			b.log.Error("the door acknowledged the command for another grant", "door", doorID, "jti", jti, "grant", grantID, "ack_grant", ack.GrantID)
			return nil, doorman.Errorf(doorman.EINTERNAL, "The door acknowledged another command.")
		}
		return ack, nil
	}
}

// verifyAck reads one answer to the command token (token ID jti) sent to
// door doorID and returns it if it is an ack of that very token signed by
// the door's active device (whose key it looks up once, into *devicePub);
// otherwise it says why not.
func (b *Bus) verifyAck(ctx context.Context, doorID, token, jti string, msg *nats.Msg, devicePub *string) (*wire.Ack, string) {
	if len(msg.Data) == 0 && msg.Header.Get("Status") != "" {
		return nil, "status " + msg.Header.Get("Status") + " (no responders?)"
	}
	var ack wire.Ack
	if err := wire.Decode(msg.Data, wire.MaxMessageSize, &ack); err != nil {
		return nil, "malformed: " + doorman.ErrorMessage(err)
	}
	if ack.JTI != jti {
		return nil, "names another command or none"
	}
	if ack.Sig == "" {
		return nil, "unsigned"
	}
	if *devicePub == "" {
		if b.cfg.Devices == nil {
			return nil, "the bus has no device lookup to verify acks with"
		}
		d, err := b.cfg.Devices.ActiveDevice(ctx, doorID)
		if err != nil {
			return nil, "no active device: " + err.Error()
		}
		*devicePub = d.PublicKey
	}
	if err := ack.Verify(doorID, []byte(token), *devicePub); err != nil {
		return nil, doorman.ErrorMessage(err)
	}
	return &ack, ""
}

// UnverifiedAcks returns how many answers to unlock commands were ignored
// because they were not acks of that command signed by the door's active
// device.
func (b *Bus) UnverifiedAcks() int64 { return b.unverifiedAcks.Load() }

// Unlock implements doorman.DoorLink: it signs a single-use command for the
// grant with the configured Signer, valid for the command timeout only, and
// sends it, returning when the device pulsed its relay. Once Unlock has
// reported the door offline, the command has expired: nothing can deliver
// it to the door in time. Returns EUNAVAILABLE (door_offline) or
// EFORBIDDEN (door_rejected) as SendUnlock does, EINVALID for a door or
// grant that cannot be signed, and EINTERNAL when the bus has no Signer.
func (b *Bus) Unlock(ctx context.Context, door *doorman.Door, grant *doorman.Grant) (*doorman.UnlockAck, error) {
	signer := b.signer()
	if signer == nil {
		return nil, doorman.Errorf(doorman.EINTERNAL, "The bus has no command signing key.")
	}
	pulse := time.Duration(door.PulseMillis) * time.Millisecond
	token, cmd, err := signer.SignUnlock(wire.Unlock{DoorID: door.ID, GrantID: grant.ID, Pulse: pulse, TTL: b.cfg.CommandTimeout})
	if err != nil {
		return nil, err
	}
	ack, err := b.send(ctx, door.ID, token, cmd.GrantID, cmd.JTI, 0, true)
	if err != nil {
		return nil, err
	}
	return &doorman.UnlockAck{ExecutedAt: ack.ExecutedAt}, nil
}

// noRespondersStatus is the status the NATS server answers a request with
// when nothing subscribes to its subject.
const noRespondersStatus = "503"

func offline() error {
	e := doorman.Errorf(doorman.EUNAVAILABLE, "The door did not answer; it is offline.")
	e.Reason = doorman.ReasonDoorOffline
	return e
}

// signer is the key the bus signs commands, offline grants and time
// replies with now: every signature goes through here, so that the key
// ring's current key is the one used after a rotation.
func (b *Bus) signer() *wire.Signer {
	if b.cfg.Keys != nil {
		return b.cfg.Keys.Signer()
	}
	return b.cfg.Signer
}
