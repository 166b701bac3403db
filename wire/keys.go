package wire

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"

	"golang.org/x/crypto/blake2b"

	"github.com/doorman-dev/doorman"
)

// PASERK prefixes of the keys Doorman exchanges: a v4 public key is written
// "k4.public.<base64url>" and its ID "k4.pid.<base64url>".
const (
	paserkPublic = "k4.public."
	paserkPID    = "k4.pid."
)

// VerifyKey is a public key that verifies unlock commands and time replies,
// as the control plane hands it to a device at enrollment.
type VerifyKey struct {
	// KeyID is the key's PASERK ID ("k4.pid.…"); tokens name it in their
	// footer.
	KeyID string `json:"kid"`
	// PublicKey is the Ed25519 public key in PASERK form ("k4.public.…").
	PublicKey string `json:"public_key"`
}

// Parse returns the Ed25519 key after checking that KeyID is the ID of
// PublicKey. Returns EINVALID otherwise.
func (k VerifyKey) Parse() (ed25519.PublicKey, error) {
	pub, err := ParsePublicKey(k.PublicKey)
	if err != nil {
		return nil, err
	} else if KeyID(pub) != k.KeyID {
		return nil, doorman.Errorf(doorman.EINVALID, "Command key ID does not match its public key.")
	}
	return pub, nil
}

// FormatPublicKey writes an Ed25519 public key as a PASERK k4.public string.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return paserkPublic + base64.RawURLEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a PASERK k4.public string. Returns EINVALID for
// anything else.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	enc, ok := strings.CutPrefix(s, paserkPublic)
	if !ok {
		return nil, doorman.Errorf(doorman.EINVALID, "Command key must be a k4.public PASERK.")
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, doorman.Errorf(doorman.EINVALID, "Command key is not a valid Ed25519 public key.")
	}
	return ed25519.PublicKey(b), nil
}

// KeyID returns the PASERK ID of an Ed25519 public key: "k4.pid." followed by
// the base64url BLAKE2b-264 of "k4.pid." and the key's PASERK string. It is
// stable, so both sides derive the same ID from the same key.
func KeyID(pub ed25519.PublicKey) string {
	h, err := blake2b.New(33, nil)
	if err != nil {
		panic("wire: blake2b: " + err.Error())
	}
	h.Write([]byte(paserkPID))
	h.Write([]byte(FormatPublicKey(pub)))
	return paserkPID + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
