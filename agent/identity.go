package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/internal/durable"
	"github.com/doorman-dev/doorman/wire"
)

// File names in the agent's data dir. All are written 0600.
const (
	IdentityFile = "device.json"   // Identity
	CAFile       = "ca.pem"        // the bus CA pinned at enrollment
	HardwareFile = "hardware.json" // hardware.Config (optional; sim when absent)
	replayFile   = "replay.log"    // used command token IDs
	queueDir     = "queue"         // events not yet recorded by the control plane
)

// Identity is what enrollment gave the device, plus its private NATS key.
type Identity struct {
	DeviceID    string           `json:"device_id"`
	DoorID      string           `json:"door_id"`
	NATSURLs    []string         `json:"nats_urls"`
	UserJWT     string           `json:"user_jwt"`
	NKeySeed    string           `json:"nkey_seed"`
	CommandKeys []wire.VerifyKey `json:"command_keys"`
	Door        wire.DoorConfig  `json:"door"`
	// TLSFirst makes the agent start TLS before the bus's INFO line
	// (wire.EnrollResponse.TLSFirst).
	TLSFirst bool `json:"tls_first,omitempty"`
	// AuditKey and AuditChain let the device witness its building's audit
	// log (see wire.EnrollResponse); empty for a device enrolled before
	// witnesses existed, which witnesses nothing.
	AuditKey   string `json:"audit_key,omitempty"`
	AuditChain string `json:"audit_chain,omitempty"`
	// CACertPEM is kept in CAFile, not in device.json.
	CACertPEM string `json:"-"`
}

// Validate returns EINVALID if the identity is incomplete or inconsistent:
// the seed must be a user key and the JWT must be issued to it.
func (id *Identity) Validate() error {
	resp := wire.EnrollResponse{
		DeviceID: id.DeviceID, DoorID: id.DoorID, NATSURLs: id.NATSURLs, UserJWT: id.UserJWT,
		CACertPEM: id.CACertPEM, CommandKeys: id.CommandKeys, Door: id.Door,
		AuditKey: id.AuditKey, AuditChain: id.AuditChain,
	}
	if err := resp.Validate(); err != nil {
		return err
	}
	kp, err := nkeys.FromSeed([]byte(id.NKeySeed))
	if err != nil {
		return doorman.Errorf(doorman.EINVALID, "The device's NATS seed is malformed.")
	}
	pub, _ := kp.PublicKey()
	if !nkeys.IsValidPublicUserKey(pub) {
		return doorman.Errorf(doorman.EINVALID, "The device's NATS seed is not a user key.")
	}
	uc, err := jwt.DecodeUserClaims(id.UserJWT)
	if err != nil || uc.Subject != pub {
		return doorman.Errorf(doorman.EINVALID, "The device's user JWT was not issued for its key.")
	}
	return nil
}

// LoadIdentity reads and validates the identity in dir. It refuses files
// readable by others.
func LoadIdentity(dir string) (*Identity, error) {
	data, err := ReadPrivateFile(filepath.Join(dir, IdentityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("agent: %s has no %s: enroll the device first", dir, IdentityFile)
	} else if err != nil {
		return nil, err
	}
	var id Identity
	if err := json.Unmarshal(data, &id); err != nil {
		return nil, fmt.Errorf("agent: %s: %w", IdentityFile, err)
	}
	ca, err := ReadPrivateFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	id.CACertPEM = string(ca)
	if err := id.Validate(); err != nil {
		return nil, fmt.Errorf("agent: %s: %s", IdentityFile, doorman.ErrorMessage(err))
	}
	return &id, nil
}

// SaveIdentity validates id and writes it (and its CA) into dir durably.
func SaveIdentity(dir string, id *Identity) error {
	if err := id.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(dir, CAFile), []byte(id.CACertPEM), 0o600); err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(dir, IdentityFile), data, 0o600)
}
