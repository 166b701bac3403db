package wire

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
)

// A device signs every acknowledgement and event it sends with the key it
// generated at enrollment: its NATS user NKey, which is Ed25519. The bus
// authenticates connections, not messages, so anyone with a second
// connection under the door's credentials, a broker that injects
// messages, or a server-generated reply aimed at the control plane could
// otherwise answer for the door. The signature binds:
//
//   - an Ack to the door it answers for and to the exact command it answers
//     (the SHA-256 of the command's bytes as the device received them):
//     a token ID is not enough, since whoever can put a message on the
//     door's command subject could send the device a copy of a pending
//     command with a broken signature and get a signed refusal naming the
//     real command's token ID;
//   - an Event to the device that reports it (the subject names it) and to
//     its whole content, ID included.
//
// What is signed is a purpose string, the binding and the message's
// JSON with Sig empty. Sign first puts the message in the form a receiver
// decodes (invalid UTF-8 replaced, no monotonic clock reading); the JSON
// encoding of that form is deterministic and survives a decode and
// re-encode unchanged, so the control plane re-encodes what it decoded
// instead of keeping the bytes, and a field added to a message later is
// covered without touching this file.
var (
	purposeAck   = []byte("doorman:ack:v1")
	purposeEvent = []byte("doorman:event:v1")
)

// maxSigLength bounds the Sig field: an Ed25519 signature is 64 bytes, 86
// characters of unpadded base64url.
const maxSigLength = 86

// DeviceKey is a device's private signing key; nkeys.KeyPair made from the
// device's seed implements it.
type DeviceKey interface {
	Sign(input []byte) ([]byte, error)
}

// Sign signs a, the answer to command (the bytes received on the door's
// command subject), for the door doorID with the device's key.
func (a *Ack) Sign(doorID string, command []byte, key DeviceKey) error {
	if !ValidDoorID(doorID) {
		return doorman.Errorf(doorman.EINVALID, "An ack is signed for a valid door ID.")
	}
	a.Sig = ""
	if err := canonical(a); err != nil {
		return err
	}
	data, err := signedBytes(purposeAck, ackBinding(doorID, command), a)
	if err != nil {
		return err
	}
	sig, err := key.Sign(data)
	if err != nil {
		return doorman.Errorf(doorman.EINTERNAL, "Could not sign the acknowledgement.")
	}
	a.Sig = base64.RawURLEncoding.EncodeToString(sig)
	return nil
}

// Verify checks that a was signed, as the answer to command (the bytes
// sent) for the door doorID, by the device whose public NATS user key is
// devicePub. Returns EFORBIDDEN for a missing or bad signature and
// EINVALID for a malformed key.
func (a *Ack) Verify(doorID string, command []byte, devicePub string) error {
	if !ValidDoorID(doorID) {
		return doorman.Errorf(doorman.EINVALID, "An ack is verified for a valid door ID.")
	}
	c := *a
	c.Sig = ""
	return verifyDevice(purposeAck, ackBinding(doorID, command), &c, a.Sig, devicePub)
}

// ackBinding is what an ack is bound to: the door and the hex SHA-256 of
// the command answered.
func ackBinding(doorID string, command []byte) string {
	sum := sha256.Sum256(command)
	return doorID + " " + hex.EncodeToString(sum[:])
}

// Sign signs e, as reported by the device deviceID, with that device's key.
func (e *Event) Sign(deviceID string, key DeviceKey) error {
	if !ValidDeviceID(deviceID) {
		return doorman.Errorf(doorman.EINVALID, "An event is signed for a valid device ID.")
	}
	e.Sig = ""
	if err := canonical(e); err != nil {
		return err
	}
	data, err := signedBytes(purposeEvent, deviceID, e)
	if err != nil {
		return err
	}
	sig, err := key.Sign(data)
	if err != nil {
		return doorman.Errorf(doorman.EINTERNAL, "Could not sign the event.")
	}
	e.Sig = base64.RawURLEncoding.EncodeToString(sig)
	return nil
}

// Verify checks that e was signed by the device deviceID, whose public
// NATS user key is devicePub, and was not changed since. Returns
// EFORBIDDEN for a missing or bad signature and EINVALID for a malformed
// key.
func (e *Event) Verify(deviceID, devicePub string) error {
	if !ValidDeviceID(deviceID) {
		return doorman.Errorf(doorman.EINVALID, "An event is verified for a valid device ID.")
	}
	c := *e
	c.Sig = ""
	return verifyDevice(purposeEvent, deviceID, &c, e.Sig, devicePub)
}

// canonical replaces *m by what a receiver decodes from its JSON (invalid
// UTF-8 replaced, times without monotonic reading), so that what is signed
// is what the receiver re-encodes.
func canonical[T any](m *T) error {
	data, err := json.Marshal(m)
	if err != nil {
		return doorman.Errorf(doorman.EINTERNAL, "Could not encode the message to sign.")
	}
	var c T
	if err := json.Unmarshal(data, &c); err != nil {
		return doorman.Errorf(doorman.EINTERNAL, "Could not encode the message to sign.")
	}
	*m = c
	return nil
}

// signedBytes returns what a device signs: the purpose, a zero byte, the
// binding, a zero byte, and the message's JSON (with Sig empty). The
// binding is a device ID, or a door ID, a space and a hex digest, checked
// or built first, so it holds no zero byte.
func signedBytes(purpose []byte, bind string, m any) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, doorman.Errorf(doorman.EINTERNAL, "Could not encode the message to sign.")
	}
	out := make([]byte, 0, len(purpose)+len(bind)+len(body)+2)
	out = append(out, purpose...)
	out = append(out, 0)
	out = append(out, bind...)
	out = append(out, 0)
	return append(out, body...), nil
}

func verifyDevice(purpose []byte, bind string, m any, sig, devicePub string) error {
	pub, err := nkeys.FromPublicKey(devicePub)
	if err != nil || !nkeys.IsValidPublicUserKey(devicePub) {
		return doorman.Errorf(doorman.EINVALID, "The device key is not a public NATS user key.")
	}
	if sig == "" {
		return doorman.Errorf(doorman.EFORBIDDEN, "The message is not signed by the device.")
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return doorman.Errorf(doorman.EFORBIDDEN, "The device signature is malformed.")
	}
	data, err := signedBytes(purpose, bind, m)
	if err != nil {
		return err
	}
	if err := pub.Verify(data, raw); err != nil {
		return doorman.Errorf(doorman.EFORBIDDEN, "The device signature does not verify.")
	}
	return nil
}
