package natsbus

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// Defaults.
const (
	// DefaultListen is where the embedded server accepts devices.
	DefaultListen = "0.0.0.0:4222"
	// DefaultCommandTimeout is how long SendUnlock waits for a door's
	// acknowledgement before reporting it offline.
	DefaultCommandTimeout = 3 * time.Second
	// DefaultStoreMax is the embedded JetStream's file storage, in a data
	// dir an earlier version kept device events in (see StoreMax).
	DefaultStoreMax = 1 << 30
)

// Config configures a Bus. Leave URL empty for the embedded server (the
// default); set it to connect to an external NATS deployment instead.
type Config struct {
	// DataDir holds the embedded server's keys, revocations and TLS
	// material. Required in embedded mode.
	DataDir string
	// Listen is the embedded server's host:port for devices; port 0 (or
	// -1) picks a free one (tests). Default DefaultListen.
	Listen string
	// Hosts are the DNS names and IPs devices reach the server by; they go
	// into the server certificate. localhost, 127.0.0.1 and ::1 are always
	// added. The first one (or 127.0.0.1) builds DeviceURLs when
	// AdvertiseURLs is empty.
	Hosts []string
	// AdvertiseURLs are the bus URLs handed to devices at enrollment.
	AdvertiseURLs []string

	// StoreMax is the embedded JetStream's file storage limit (NATS's
	// max_file_store) and the Doorman account's disk limit. The embedded
	// server runs JetStream only for a data dir where an earlier version
	// kept device events in it (a jetstream directory), so that
	// ConsumeEvents can record and delete them; Open then refuses to start
	// when the disk holding DataDir has less free than StoreMax minus what
	// the store already holds. Default DefaultStoreMax.
	StoreMax int64

	// TLSFirstFallback is how long the embedded server waits for a client
	// to start TLS before sending it the INFO line in clear anyway. NATS
	// cannot leave its version and Go's out of INFO, so the server expects
	// TLS first: the control plane's connection and devices enrolled here
	// start TLS at once (the NATS tools do with --tlsfirst). Zero, the
	// default: never send INFO in clear. A positive delay lets clients
	// that wait for INFO connect, and shows them the versions.
	TLSFirstFallback time.Duration
	// ExternalTLSFirst, in external mode, says the servers expect the TLS
	// handshake first (handshake_first in their TLS block), so devices
	// are told to start TLS at once.
	ExternalTLSFirst bool

	// URL selects external mode: comma-separated NATS URLs.
	URL string
	// CredsFile is the control plane's NATS user credentials (external mode).
	CredsFile string
	// CAFile is the PEM CA of the external servers' TLS certificates; it is
	// also handed to devices. Empty uses the system roots and hands devices
	// nothing (they then need their own CA).
	CAFile string
	// AccountSigningSeedFile holds the seed of a signing key of the account
	// the credentials belong to; without it IssueDeviceCredentials fails in
	// external mode.
	AccountSigningSeedFile string

	// Devices names the device whose key must sign a door's
	// acknowledgements: the door's active device, from the store. The bus
	// believes no ack without it, so every door answers door_offline.
	Devices Devices

	// Keys is the command key ring (keyring.Ring): its current signer
	// signs unlock commands (Unlock) and time replies (the time service),
	// so that a rotation takes effect without a restart. Without it (or
	// Signer) only SendUnlock of ready-made tokens works and devices get
	// no time.
	Keys KeyRing
	// Signer is a fixed signing key, used when Keys is nil (tests).
	Signer *wire.Signer
	// OfflineWindow returns how long after a time sync the door may accept
	// offline grants: its building's offline delivery setting, 0 when off
	// (at most wire.MaxOfflineWindow). The time service signs it into
	// every time reply, asking at most once per OfflineWindowCacheTTL per
	// door; when it fails the reply carries 0, so the door accepts no
	// offline grants until a later sync says otherwise. Nil: every reply
	// carries 0.
	OfflineWindow func(ctx context.Context, doorID string) (time.Duration, error)
	// CommandTimeout bounds SendUnlock and is the lifetime of every command
	// Unlock signs, so a command that arrives after the control plane gave
	// up on it (held in a buffer or by a broker) is refused by the device
	// as expired. 1s to wire.MaxCommandTTL; default DefaultCommandTimeout.
	CommandTimeout time.Duration
	// OnDuplicateConnection is told about every device key found on more
	// than one connection at once (see DuplicateConnection), once per new
	// connection and at most once in 10 minutes per device (a thief
	// reconnecting in a loop must not fill the audit log); nil turns the
	// watch off. It is called from one goroutine, one call at a time.
	OnDuplicateConnection func(ctx context.Context, d DuplicateConnection)
	// DuplicateCheckInterval is how often the account's whole connection
	// list is read; default DefaultDuplicateCheckInterval on an external
	// server and DefaultEmbeddedDuplicateCheckInterval on the embedded
	// one, which also checks each key as it connects.
	DuplicateCheckInterval time.Duration

	// Logger receives the bus's and the embedded server's log; nil
	// discards it.
	Logger *slog.Logger
}

// KeyRing gives the key the bus signs with now. keyring.Ring implements
// it.
type KeyRing interface {
	// Signer returns the current signing key, or nil when there is none.
	Signer() *wire.Signer
}

// Devices tells the bus which device serves a door. The store implements
// it.
type Devices interface {
	// ActiveDevice returns the door's active device: enrolled and not
	// revoked. Returns ENOTFOUND when the door has none.
	ActiveDevice(ctx context.Context, doorID string) (*doorman.Device, error)
}

// validate returns an error for settings Open cannot work with.
func (c *Config) validate() error {
	if c.CommandTimeout < time.Second || c.CommandTimeout > wire.MaxCommandTTL {
		return fmt.Errorf("natsbus: command timeout %s must be between 1s and %s: it is also the commands' lifetime", c.CommandTimeout, wire.MaxCommandTTL)
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.StoreMax <= 0 {
		c.StoreMax = DefaultStoreMax
	}
	if c.DuplicateCheckInterval <= 0 && c.URL == "" {
		c.DuplicateCheckInterval = DefaultEmbeddedDuplicateCheckInterval
	} else if c.DuplicateCheckInterval <= 0 {
		c.DuplicateCheckInterval = DefaultDuplicateCheckInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
