package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/postgres"
	"github.com/doorman-dev/doorman/sqlite"
)

// Config is the control plane's configuration, filled once from flags and
// DOORMAN_* environment variables and copied into the components.
type Config struct {
	DataDir   string // holds the SQLite file, bus keys and state
	HTTPAddr  string // API listen address
	DB        string // PostgreSQL DSN; empty means SQLite in DataDir
	LogFormat string // "text" or "json"
	LogLevel  string // "debug", "info", "warn", "error"

	// PublicURL is the base URL clients reach the API at (behind a proxy,
	// say); the served OpenAPI document names it. Empty names the address
	// each request came to.
	PublicURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For the
	// API believes for its guessing limits.
	TrustedProxies []netip.Prefix
	// MetricsAddr is where Prometheus metrics are served (/metrics); empty
	// serves none. The API listener never serves them.
	MetricsAddr string
	// MaxConnections is the most API connections open at once; further
	// clients wait in the kernel's queue to connect. 0 chooses a quarter
	// of the process's file limit, at most 4,096 (defaultMaxConnections).
	MaxConnections int
	// slowClient is how long a client may take to send its request's
	// headers, and twice that its whole request; 0 means 10 s (30 s for
	// the whole). Tests shorten it.
	slowClient time.Duration

	// CommandKeyFile holds the command signing key; empty means
	// CommandKeyName in DataDir. Every node of a deployment must use the
	// key the store has registered.
	CommandKeyFile string

	// The bus: an embedded NATS server (default) listening on NATSListen,
	// or an external deployment at NATSURL.
	NATSListen      string   // embedded server's address for devices
	NATSHosts       []string // names/IPs devices reach the bus by (TLS certificate, enrollment)
	NATSURL         string   // external NATS servers, comma-separated
	NATSCreds       string   // external: the control plane's credentials file
	NATSCA          string   // external: CA of the servers' TLS certificates
	NATSAccountSeed string   // external: account signing seed file for device credentials
	NATSTLSFirst    bool     // external: the servers expect TLS before INFO
	// NATSTLSFirstFallback: how long the embedded server waits before
	// sending INFO in clear to a client that has not started TLS (0: never).
	NATSTLSFirstFallback time.Duration
	NATSStoreMax         int64 // embedded: JetStream file storage in bytes, for an earlier version's device events
	CommandTimeout       time.Duration

	// WebhookAllowLoopback lets webhook endpoints be loopback URLs (tests, development).
	WebhookAllowLoopback bool

	// Rate limits per minute; 0 keeps the defaults.
	CourierRateLimit int
	DoorRateLimit    int
	// MaxAccessRequests is how many access requests a node decides at
	// once; further ones are answered 503 busy (0:
	// access.DefaultMaxInFlight).
	MaxAccessRequests int

	Mail MailConfig // email and the notification worker (outbox.go)
}

// DefaultConfig returns the configuration of a single machine install.
func DefaultConfig() Config {
	return Config{DataDir: "./doorman-data", HTTPAddr: "127.0.0.1:8080", LogFormat: "text", LogLevel: "info",
		NATSListen: "127.0.0.1:4222", NATSStoreMax: natsbus.DefaultStoreMax, CommandTimeout: natsbus.DefaultCommandTimeout}
}

// accessFlags registers the flags of the access decision.
func (c *Config) accessFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.CourierRateLimit, "courier-rate-limit", doorman.CourierRateLimit, "access requests allowed per courier per minute")
	fs.IntVar(&c.DoorRateLimit, "door-rate-limit", doorman.DoorRateLimit, "access requests allowed per door per minute")
}

// busFlags registers the flags of the bus.
func (c *Config) busFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.NATSListen, "nats-listen", c.NATSListen, "embedded NATS server address for devices (use 0.0.0.0:4222 for devices on the network)")
	fs.Func("nats-host", "a DNS name or IP devices reach the bus by (repeatable; goes into the TLS certificate)", func(v string) error {
		c.NATSHosts = append(c.NATSHosts, strings.Split(v, ",")...)
		return nil
	})
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "external NATS servers (nats://a:4222,nats://b:4222); empty embeds a server")
	fs.StringVar(&c.NATSCreds, "nats-creds", c.NATSCreds, "external NATS: the control plane's credentials file")
	fs.StringVar(&c.NATSCA, "nats-ca", c.NATSCA, "external NATS: PEM CA of the servers' certificates")
	fs.StringVar(&c.NATSAccountSeed, "nats-account-seed", c.NATSAccountSeed, "external NATS: account signing seed file, to issue device credentials")
	fs.DurationVar(&c.NATSTLSFirstFallback, "nats-tls-first-fallback", c.NATSTLSFirstFallback, "embedded NATS: send INFO (which names the NATS and Go versions) in clear to clients that have not started TLS after this long, for devices enrolled before devices were told to start TLS first; 0 never does")
	fs.BoolVar(&c.NATSTLSFirst, "nats-tls-first", c.NATSTLSFirst, "external NATS: the servers expect the TLS handshake first (handshake_first), so the control plane and devices start TLS at once")
	fs.Var((*byteSize)(&c.NATSStoreMax), "nats-store-max", "embedded NATS: JetStream disk storage (e.g. 1GiB, 512MiB, or bytes), used only for a data dir where an earlier version stored device events on the bus, until they are recorded; the data disk must have it free")
	fs.StringVar(&c.CommandKeyFile, "command-key", c.CommandKeyFile, "command signing key file (every node must have the same); empty uses "+CommandKeyName+" in --data-dir")
	fs.DurationVar(&c.CommandTimeout, "command-timeout", c.CommandTimeout, "how long to wait for a door to acknowledge an unlock before answering door_offline")
}

// CommandKeyName is the file, in the data dir, that holds the command
// signing key unless --command-key names another.
const CommandKeyName = "command-signing-key.paserk"

// CommandKeyPath returns the file that holds the command signing key.
func (c *Config) CommandKeyPath() string {
	if c.CommandKeyFile != "" {
		return c.CommandKeyFile
	}
	return filepath.Join(c.DataDir, CommandKeyName)
}

// OpenBus opens the bus the configuration names, signing commands with
// the current key of keys, believing only acknowledgements signed by the device that
// devices (the store) names active for the door, and telling onDuplicate
// about devices connected twice. Time replies carry the door's offline
// window as windows (the store through app.OfflineWindows) gives it.
func (c *Config) OpenBus(ctx context.Context, logger *slog.Logger, keys natsbus.KeyRing, devices natsbus.Devices,
	onDuplicate func(context.Context, natsbus.DuplicateConnection), windows *app.OfflineWindows) (*natsbus.Bus, error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	b, err := natsbus.Open(ctx, natsbus.Config{
		DataDir:                filepath.Join(c.DataDir, "nats"),
		Listen:                 c.NATSListen,
		Hosts:                  c.NATSHosts,
		URL:                    c.NATSURL,
		CredsFile:              c.NATSCreds,
		CAFile:                 c.NATSCA,
		AccountSigningSeedFile: c.NATSAccountSeed,
		ExternalTLSFirst:       c.NATSTLSFirst,
		TLSFirstFallback:       c.NATSTLSFirstFallback,
		Keys:                   keys,
		StoreMax:               c.NATSStoreMax,
		Devices:                devices,
		OnDuplicateConnection:  onDuplicate,
		OfflineWindow: func(ctx context.Context, doorID string) (time.Duration, error) {
			return windows.Window(doorman.NewContextWithPrincipal(ctx, doorman.System()), doorID)
		},
		CommandTimeout: c.CommandTimeout,
		Logger:         logger,
	})
	var space *natsbus.SpaceError
	if errors.As(err, &space) {
		space.Hint = "lower --nats-store-max (now " + byteSize(c.NATSStoreMax).String() + ") or free space"
	}
	return b, err
}

// byteSize is a flag value of bytes, written as a number with an optional
// binary unit: 1GiB, 512MiB, 1073741824.
type byteSize int64

var byteUnits = []struct {
	suffix string
	n      int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}

// Set parses s.
func (b *byteSize) Set(s string) error {
	t := strings.TrimSpace(s)
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 || n > math.MaxInt64/u.n {
				return fmt.Errorf("%q: give a positive size such as 1GiB, 512MiB or a number of bytes", s)
			}
			*b = byteSize(n * u.n)
			return nil
		}
	}
	return fmt.Errorf("%q: give a size such as 1GiB", s)
}

// String writes the size in the largest unit that divides it.
func (b byteSize) String() string {
	for _, u := range byteUnits {
		if u.n > 1 && b != 0 && int64(b)%u.n == 0 {
			return strconv.FormatInt(int64(b)/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// httpFlags registers the flags of the API and metrics listeners.
func (c *Config) httpFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "API listen address (host:port)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "Prometheus /metrics listen address, e.g. 127.0.0.1:9090 (empty: no metrics); never on the API address")
	fs.IntVar(&c.MaxAccessRequests, "max-access-requests", c.MaxAccessRequests, "most access requests this node decides at once; further ones wait up to a second for their turn, then are answered 503 with reason busy and Retry-After: 1, so that an overloaded node still answers the requests it takes in time (0: 512)")
	fs.IntVar(&c.MaxConnections, "max-connections", c.MaxConnections, "most API connections open at once; further clients wait to connect, so that the doors' bus connections, the store and the audit files always have file descriptors (0: a quarter of the open-file limit, at most 4096)")
	fs.Func("trusted-proxy", "a reverse proxy (IP or CIDR) whose X-Forwarded-For the sign-in and enrollment guessing limits believe (repeatable, or comma-separated); without it they count each TCP peer", func(v string) error {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			p, err := netip.ParsePrefix(part)
			if err != nil {
				ip, ierr := netip.ParseAddr(part)
				if ierr != nil {
					return fmt.Errorf("%q is neither an IP address nor a CIDR prefix", part)
				}
				p = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
		return nil
	})
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "base URL clients reach the API at, e.g. https://doorman.example behind a proxy; the served OpenAPI document names it (empty: the address each request came to)")
}

// checkPublicURL returns an error unless PublicURL is empty or an absolute
// http(s) URL with a host and no credentials, query or fragment.
func (c *Config) checkPublicURL() error {
	if c.PublicURL == "" {
		return nil
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(c.PublicURL, "#") {
		return fmt.Errorf("--public-url %q: give the absolute http(s) URL clients reach the API at, such as https://doorman.example", c.PublicURL)
	}
	return nil
}

// storeFlags registers the flags that locate the store.
func (c *Config) storeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the SQLite database and other state")
	fs.StringVar(&c.DB, "db", c.DB, "PostgreSQL DSN (postgres://…); empty uses SQLite in --data-dir")
}

// logFlags registers the logging flags.
func (c *Config) logFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
}

// parseFlags parses args after applying DOORMAN_* environment variables as
// defaults, so that a flag on the command line wins over the environment.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "DOORMAN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}

// Logger returns the logger the configuration asks for.
func (c *Config) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", c.LogFormat)
}

// OpenStore opens the store the configuration names: PostgreSQL when DB is
// set, otherwise SQLite in DataDir (created if missing).
func (c *Config) OpenStore(ctx context.Context) (doorman.Store, error) {
	if c.DB != "" {
		if !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
			return nil, fmt.Errorf("--db must be a postgres:// DSN (leave it empty for SQLite)")
		}
		return postgres.Open(ctx, c.DB)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, filepath.Join(c.DataDir, "doorman.db"))
}

// maxConnections is the API connection limit: MaxConnections, or when 0 a
// quarter of the process's open-file limit, at most 4,096 and at least 64.
// The rest of the descriptors are the doors' (one bus connection each),
// the store's and the audit files': an HTTP flood that took them all
// would cut doors off and stop checkpoints being written.
func (c *Config) maxConnections() int {
	if c.MaxConnections > 0 {
		return c.MaxConnections
	}
	return min(max(openFileLimit()/4, 64), 4096)
}
