package wire

import (
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
)

// EnrollPath is the control plane's device enrollment endpoint; the device
// POSTs an EnrollRequest there and gets an EnrollResponse.
const EnrollPath = "/v1/device/enroll"

// EnrollRequest is what a new device sends to claim its door: the one-time
// enrollment code a building manager created for the door, and the public
// half of the NATS user key the device generated for itself. The private
// half never leaves the device.
type EnrollRequest struct {
	Code string `json:"code"`
	// NKey is the device's public NATS user key ("U…").
	NKey string `json:"nkey"`
	// AgentVersion is informational.
	AgentVersion string `json:"agent_version,omitempty"`
}

// Validate returns EINVALID if the request breaks a rule.
func (r *EnrollRequest) Validate() error {
	switch {
	case len(r.Code) < 8 || len(r.Code) > 128:
		return doorman.Errorf(doorman.EINVALID, "Enrollment code must be 8 to 128 characters.")
	case !nkeys.IsValidPublicUserKey(r.NKey):
		return doorman.Errorf(doorman.EINVALID, "nkey must be a public NATS user key.")
	case len(r.AgentVersion) > 64:
		return doorman.Errorf(doorman.EINVALID, "agent_version must be at most 64 characters.")
	}
	return nil
}

// DoorConfig is the door's behaviour as the control plane configures it.
type DoorConfig struct {
	// PulseMillis is the default relay pulse; each command carries its own.
	PulseMillis int `json:"pulse_millis"`
	// HeldOpenSeconds is how long the door may stay open before the device
	// reports door_held_open (0 means the device default).
	HeldOpenSeconds int `json:"held_open_seconds,omitempty"`
}

// EnrollResponse is what the control plane returns to an enrolled device:
// everything the device needs to reach the bus and judge commands.
type EnrollResponse struct {
	DeviceID string `json:"device_id"`
	DoorID   string `json:"door_id"`
	// NATSURLs are the bus addresses (tls:// or nats:// with TLS required).
	NATSURLs []string `json:"nats_urls"`
	// UserJWT is the device's NATS user JWT, issued for NKey and allowing
	// only this door's subjects.
	UserJWT string `json:"user_jwt"`
	// CACertPEM is the CA that signs the bus's TLS certificate; the device
	// pins it.
	CACertPEM string `json:"ca_cert_pem"`
	// CommandKeys verify unlock commands and time replies.
	CommandKeys []VerifyKey `json:"command_keys"`
	Door        DoorConfig  `json:"door"`
	// TLSFirst says the bus expects the TLS handshake before it sends its
	// INFO line (which names server and Go versions): the device must
	// connect TLS-first.
	TLSFirst bool `json:"tls_first,omitempty"`
	// AuditKey is the signed-note verifier key of the deployment's audit
	// checkpoints, and AuditChain the chain of the door's building: with
	// them the device witnesses that chain (see AuditSubject). Empty from
	// a control plane that has no checkpoint key.
	AuditKey   string `json:"audit_key,omitempty"`
	AuditChain string `json:"audit_chain,omitempty"`
}

// Validate returns EINVALID if the response breaks a rule.
func (r *EnrollResponse) Validate() error {
	switch {
	case !doorman.HasPrefix(r.DeviceID, doorman.PrefixDevice):
		return doorman.Errorf(doorman.EINVALID, "device_id must be a dev_ ID.")
	case !ValidDoorID(r.DoorID):
		return doorman.Errorf(doorman.EINVALID, "door_id must be a door ID.")
	case len(r.NATSURLs) == 0 || len(r.NATSURLs) > 16:
		return doorman.Errorf(doorman.EINVALID, "nats_urls must list 1 to 16 URLs.")
	case r.UserJWT == "" || len(r.UserJWT) > 8192:
		return doorman.Errorf(doorman.EINVALID, "user_jwt required.")
	case len(r.CommandKeys) == 0 || len(r.CommandKeys) > 8:
		return doorman.Errorf(doorman.EINVALID, "command_keys must list 1 to 8 keys.")
	case r.Door.PulseMillis < doorman.MinPulseMillis || r.Door.PulseMillis > doorman.MaxPulseMillis:
		return doorman.Errorf(doorman.EINVALID, "door.pulse_millis out of range.")
	case r.Door.HeldOpenSeconds < 0 || r.Door.HeldOpenSeconds > 3600:
		return doorman.Errorf(doorman.EINVALID, "door.held_open_seconds must be 0 to 3600.")
	case (r.AuditKey == "") != (r.AuditChain == "") || len(r.AuditKey) > 512 || len(r.AuditChain) > 128:
		return doorman.Errorf(doorman.EINVALID, "audit_key and audit_chain go together.")
	}
	for _, u := range r.NATSURLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "tls" && p.Scheme != "nats") || p.Host == "" {
			return doorman.Errorf(doorman.EINVALID, "nats_urls must be tls:// or nats:// URLs.")
		}
	}
	for _, k := range r.CommandKeys {
		if _, err := k.Parse(); err != nil {
			return err
		}
	}
	if _, err := ParseCAPEM([]byte(r.CACertPEM)); err != nil {
		return err
	}
	return nil
}

// ParseCAPEM reads one or more PEM CA certificates. Returns EINVALID if
// there is none or one is malformed or not a CA.
func ParseCAPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; len(strings.TrimSpace(string(rest))) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, doorman.Errorf(doorman.EINVALID, "ca_cert_pem must hold PEM certificates only.")
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil || !c.IsCA {
			return nil, doorman.Errorf(doorman.EINVALID, "ca_cert_pem holds a malformed or non-CA certificate.")
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, doorman.Errorf(doorman.EINVALID, "ca_cert_pem required.")
	}
	return certs, nil
}
