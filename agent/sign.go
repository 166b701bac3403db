package agent

import (
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman/wire"
)

// key returns the device's private NATS user key: the key it generated at
// enrollment, whose public half the control plane registered. It signs
// every ack and event the device sends (see wire.Ack.Sign).
func (id *Identity) key() (nkeys.KeyPair, error) { return nkeys.FromSeed([]byte(id.NKeySeed)) }

// encodeAck names the command's token ID in ack when it can be read (a
// rejection of a command the verifier could not accept, for the log and
// the control plane's matching) and signs ack as the answer to exactly
// these command bytes, so it cannot pass for the answer to another command,
// even one with the same token ID.
func (a *Agent) encodeAck(ack *wire.Ack, command []byte) ([]byte, error) {
	if ack.JTI == "" {
		if _, grant, jti, err := wire.PeekCommand(string(command)); err == nil && len(jti) <= 64 && len(grant) <= 64 {
			ack.GrantID, ack.JTI = grant, jti
		}
	}
	if err := ack.Sign(a.id.DoorID, command, a.key); err != nil {
		return nil, err
	}
	return wire.Encode(ack, wire.MaxMessageSize)
}

// signEvent signs an event with the device's key. Events are signed as
// they are queued, and once more before they are published if they carry
// no signature (events queued before an upgrade).
func (a *Agent) signEvent(ev *wire.Event) error {
	return ev.Sign(a.id.DeviceID, a.key)
}
