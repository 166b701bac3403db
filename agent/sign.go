package agent

import (
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman/wire"
)

// key returns the device's private NATS user key: the key it generated at
// enrollment, whose public half the control plane registered. It signs
// every ack and event the device sends (see wire.Ack.Sign).
func (id *Identity) key() (nkeys.KeyPair, error) { return nkeys.FromSeed([]byte(id.NKeySeed)) }

// encodeAck binds ack to the command it answers and signs it. A rejection
// of a command the verifier could not accept still names the command's
// token ID when it can be read, so the control plane can tell the answer
// to its command from any other; a rejection without one is believed by
// nobody and only stops the control plane from waiting in vain.
func (a *Agent) encodeAck(ack *wire.Ack, command []byte) ([]byte, error) {
	if ack.JTI == "" {
		if _, grant, jti, err := wire.PeekCommand(string(command)); err == nil && len(jti) <= 64 && len(grant) <= 64 {
			ack.GrantID, ack.JTI = grant, jti
		}
	}
	kp, err := a.id.key()
	if err != nil {
		return nil, err
	}
	if err := ack.Sign(a.id.DoorID, kp); err != nil {
		return nil, err
	}
	return wire.Encode(ack, wire.MaxMessageSize)
}

// signEvent signs a queued event with the device's key just before it is
// published, so that events queued before an upgrade are signed too.
func (a *Agent) signEvent(ev *wire.Event) error {
	kp, err := a.id.key()
	if err != nil {
		return err
	}
	return ev.Sign(a.id.DeviceID, kp)
}
