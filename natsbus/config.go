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
	// DefaultEventStream is the JetStream stream of device events.
	DefaultEventStream = "DOORMAN_EVENTS"
	// DefaultEventMaxAge is how long the stream keeps events.
	DefaultEventMaxAge = 30 * 24 * time.Hour
	// DefaultDuplicateWindow is how long JetStream remembers event IDs, so
	// an event a device publishes again after an outage of up to this long
	// is stored once.
	DefaultDuplicateWindow = 24 * time.Hour
	// DefaultEventMaxBytes bounds the event stream on disk in external
	// mode; past it the oldest events go (they were handed to the control
	// plane long before, which keeps them in the audit chain). The
	// embedded server's stream takes half of StoreMax instead.
	DefaultEventMaxBytes = 1 << 30
	// DefaultStoreMax is the embedded JetStream's file storage: enough for
	// half a gigabyte of device events on a small box.
	DefaultStoreMax = 1 << 30
	// DefaultEventMaxPerSubject bounds the events the stream keeps of one
	// kind from one device (an event subject names its door, its device
	// and its kind); past it that device's oldest events of that kind go.
	// A device flooding its own subjects (devices may publish on their
	// eight event subjects only) therefore pushes out its own history,
	// not other devices' or doors', and takes at most 8 x this x
	// wire.MaxMessageSize.
	DefaultEventMaxPerSubject = 10000
	// DefaultClusterReplicas is how many servers of an external NATS
	// cluster keep the event stream unless told otherwise: a stream on
	// one server is lost, with the events it held, when that server is,
	// and refuses new ones while it is down.
	DefaultClusterReplicas = 3
)

// Config configures a Bus. Leave URL empty for the embedded server (the
// default); set it to connect to an external NATS deployment instead.
type Config struct {
	// DataDir holds the embedded server's keys, revocations, TLS material
	// and JetStream store. Required in embedded mode.
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
	// max_file_store) and the Doorman account's disk limit. Open refuses to
	// start when the disk holding DataDir has less free than StoreMax minus
	// what the store already holds. Default DefaultStoreMax.
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
	// EventStream, EventMaxAge, DuplicateWindow, EventMaxBytes and
	// EventMaxPerSubject configure the device event stream; defaults above.
	// In embedded mode EventMaxBytes defaults to half of StoreMax and may
	// be at most that, leaving the other half for consumer state and a
	// stream resized while full.
	EventStream        string
	EventMaxAge        time.Duration
	DuplicateWindow    time.Duration
	EventMaxBytes      int64
	EventMaxPerSubject int64
	// EventReplicas is how many servers of a NATS cluster keep the event
	// stream (and so the consumer of it): 3 survives the loss of any one
	// server. 0, the default, chooses: 1 for the embedded server and for
	// an external server that is not clustered, DefaultClusterReplicas
	// for an external cluster. The stream is updated to it at every start,
	// so a stream created with one replica is scaled up once its servers
	// form a cluster. A cluster of fewer servers than this refuses the
	// stream, and Open fails naming it.
	EventReplicas int

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
	if c.EventReplicas < 0 || c.EventReplicas > 5 {
		return fmt.Errorf("natsbus: event stream replicas %d: NATS keeps a stream on 1 to 5 servers", c.EventReplicas)
	}
	if c.URL == "" && c.EventReplicas > 1 {
		return fmt.Errorf("natsbus: the embedded server is one server: the event stream has one replica")
	}
	if c.URL == "" && c.EventMaxBytes > c.StoreMax/2 {
		return fmt.Errorf("natsbus: the event stream (%d bytes) must fit twice into the embedded JetStream store (%d bytes)", c.EventMaxBytes, c.StoreMax)
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
	if c.EventStream == "" {
		c.EventStream = DefaultEventStream
	}
	if c.EventMaxAge <= 0 {
		c.EventMaxAge = DefaultEventMaxAge
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.DuplicateWindow > c.EventMaxAge {
		c.DuplicateWindow = c.EventMaxAge
	}
	if c.StoreMax <= 0 {
		c.StoreMax = DefaultStoreMax
	}
	if c.EventMaxBytes <= 0 {
		c.EventMaxBytes = DefaultEventMaxBytes
		if c.URL == "" {
			c.EventMaxBytes = c.StoreMax / 2
		}
	}
	if c.EventMaxPerSubject <= 0 {
		c.EventMaxPerSubject = DefaultEventMaxPerSubject
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
