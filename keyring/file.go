package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/doorman-dev/doorman/internal/durable"
	"github.com/doorman-dev/doorman/wire"
)

// paserkSecret prefixes a stored v4 secret key.
const paserkSecret = "k4.secret."

// LoadOrCreateSigner returns the command signer whose Ed25519 key is stored
// at path as a PASERK k4.secret string, creating the key (mode 0600) if the
// file does not exist. Every control-plane node must use the same key, or
// publish all keys to devices at enrollment. It refuses a key file others
// can read.
func LoadOrCreateSigner(path string) (*wire.Signer, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		s, err := generate()
		if err != nil {
			return nil, err
		}
		return s, writeSigner(path, s)
	} else if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	enc, ok := strings.CutPrefix(strings.TrimSpace(string(data)), paserkSecret)
	if !ok {
		return nil, fmt.Errorf("keyring: %s is not a k4.secret PASERK", path)
	}
	priv, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("keyring: %s is not a valid Ed25519 key", path)
	}
	return wire.NewSigner(ed25519.PrivateKey(priv))
}

// checkPrivate refuses a key file that group or others can read.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	} else if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("keyring: %s is accessible by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	return nil
}

// generate returns a signer of a new random key.
func generate() (*wire.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return wire.NewSigner(priv)
}

// writeSigner writes the signer's private key to path (mode 0600,
// durably) as a PASERK k4.secret string, refusing to overwrite a file.
func writeSigner(path string, s *wire.Signer) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("keyring: %s exists already", path)
	}
	enc := paserkSecret + base64.RawURLEncoding.EncodeToString(s.PrivateKey()) + "\n"
	if err := durable.WriteFile(path, []byte(enc), 0o600); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	return nil
}
