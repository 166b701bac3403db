package natsbus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
)

// Bus is the control plane's connection to the device bus, with the
// embedded server it runs (unless in external mode). It is safe for
// concurrent use.
type Bus struct {
	cfg Config
	log *slog.Logger

	srv       *server.Server // nil in external mode
	serverLog *serverLogger  // nil in external mode
	resolver  *server.MemAccResolver
	keys      *authKeys // nil in external mode

	accPub  string        // the account devices and the service live in
	signing nkeys.KeyPair // issues user JWTs; nil if unavailable

	nc      *nats.Conn
	js      jetstream.JetStream
	replies *replies // answers to commands sent on nc

	caPEM      []byte
	deviceURLs []string

	unverifiedAcks atomic.Int64
	windows        offlineWindows // the time service's cache of OfflineWindow

	caCert     *x509.Certificate // embedded mode: the CA the bus created
	advisories *nats.Conn        // embedded mode: the system user watching connects
	connLists  atomic.Int64      // connection lists asked for (see accountConns)
	stop       chan struct{}     // closed by Close
	drains     sync.WaitGroup    // drainLoops running; Close waits for them

	mu          sync.Mutex
	revocations map[string]int64
	timeSub     *nats.Subscription
	eventSubs   []*nats.Subscription // see ConsumeEvents
	events      eventCounts
	// jetStream is false for an embedded server without a JetStream
	// store (see Config.StoreMax); Close removes the store if it then
	// holds no stream.
	jetStream bool
	closed    bool
}

var _ doorman.DoorLink = (*Bus)(nil)

// Open starts the embedded server (or connects to the external one), sets
// up the device event stream and, when a Signer is configured, serves time
// to devices.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	var err error
	if cfg.URL == "" {
		err = b.startEmbedded()
	} else {
		err = b.connectExternal()
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	b.replies, err = newReplies(b.nc, func(subject string) {
		b.unverifiedAcks.Add(1)
		b.log.Warn("more answers to one unlock command than a door sends; dropped", "subject", subject)
	})
	if err != nil {
		b.Close()
		return nil, err
	}
	if cfg.OnDuplicateConnection != nil {
		wake := make(chan advisory, 16384) // connections opened and closed
		if b.srv != nil {
			nc, err := b.watchConnects(b.caCert, wake)
			if err != nil {
				b.Close()
				return nil, fmt.Errorf("natsbus: connect advisories: %w", err)
			}
			b.advisories = nc
		}
		go b.watchDuplicates(wake, b.stop)
	}
	if (cfg.Signer != nil || cfg.Keys != nil) && cfg.Devices == nil {
		b.log.Warn("natsbus: no device lookup configured: no acknowledgement can be verified, every door will answer door_offline")
	}
	if cfg.Signer != nil || cfg.Keys != nil {
		if err := b.serveTime(); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// startEmbedded starts the embedded NATS server in operator mode with TLS
// (and JetStream, for an earlier version's data dir), and connects to it as the control plane's service user.
func (b *Bus) startEmbedded() error {
	dir := b.cfg.DataDir
	if dir == "" {
		return fmt.Errorf("natsbus: a data dir is required for the embedded server")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("natsbus: %w", err)
	}
	keys, err := loadOrCreateKeys(dir)
	if err != nil {
		return err
	}
	revs, err := loadRevocations(dir)
	if err != nil {
		return err
	}
	hosts := append([]string{}, b.cfg.Hosts...)
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	certs, err := loadOrCreateTLS(dir, hosts, time.Now())
	if err != nil {
		return fmt.Errorf("natsbus: TLS: %w", err)
	}
	op, err := operatorJWT(keys)
	if err != nil {
		return fmt.Errorf("natsbus: operator: %w", err)
	}
	sysJWT, err := systemAccountJWT(keys)
	if err != nil {
		return fmt.Errorf("natsbus: system account: %w", err)
	}
	accPub, _ := keys.account.PublicKey()
	sysPub, _ := keys.systemAccount.PublicKey()
	accJWT, err := accountClaims(keys, revs, b.accountDiskLimit()).Encode(keys.operator)
	if err != nil {
		return fmt.Errorf("natsbus: account: %w", err)
	}
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(sysPub, sysJWT); err != nil {
		return err
	}
	if err := resolver.Store(accPub, accJWT); err != nil {
		return err
	}
	host, portStr, err := net.SplitHostPort(b.cfg.Listen)
	if err != nil {
		return fmt.Errorf("natsbus: listen address %q: %w", b.cfg.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("natsbus: listen port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT // nats-server reads 0 as its default 4222
	}
	// JetStream only where an earlier version kept device events in it,
	// for ConsumeEvents to record them (see drainEventStream).
	storeDir := filepath.Join(dir, "jetstream")
	_, err = os.Stat(storeDir)
	b.jetStream = err == nil
	if b.jetStream {
		if err := checkStoreSpace(storeDir, b.cfg.StoreMax); err != nil {
			return err
		}
	}
	opts := &server.Options{
		ServerName:       "doorman",
		Host:             host,
		Port:             port,
		NoSigs:           true,
		TrustedOperators: []*jwt.OperatorClaims{op},
		AccountResolver:  resolver,
		SystemAccount:    sysPub,
		JetStream:        b.jetStream,
		StoreDir:         storeDir,
		// Without it NATS takes 75% of the disk's free space at start,
		// less than the account asks for on a nearly full disk.
		JetStreamMaxStore: b.cfg.StoreMax,
		SyncAlways:        true, // fsync every JetStream write
		TLSConfig:         serverTLSConfig(certs.server),
		// Seconds for a client's TLS handshake. When every door of a
		// deployment reconnects at once (the server restarted), thousands
		// of handshakes queue for the CPU; at NATS's default of 2 s most
		// would be cut off half-done and tried again, and the storm would
		// feed itself.
		TLSTimeout:  10,
		AllowNonTLS: false,
		// The INFO line a NATS server sends names its version and Go's,
		// and nats-server v2.15 has no option to leave them out (Info is
		// filled in server.NewServer from VERSION and runtime.Version()).
		// What it can do is wait for the TLS handshake first, so that
		// INFO travels encrypted; clients that wait for INFO before TLS
		// (the agent today, the NATS tools without --tlsfirst) get it in
		// clear after the fallback delay, if there is one (none by
		// default: devices enrolled here connect TLS-first, and the NATS
		// tools do with --tlsfirst).
		TLSHandshakeFirst: true,
	}
	if b.cfg.TLSFirstFallback > 0 {
		opts.TLSHandshakeFirstFallback = b.cfg.TLSFirstFallback
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("natsbus: server: %w", err)
	}
	b.serverLog = &serverLogger{log: b.log}
	srv.SetLoggerV2(b.serverLog, false, false, false)
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("natsbus: embedded server did not start on %s", b.cfg.Listen)
	}
	b.srv, b.resolver, b.keys = srv, resolver, keys
	b.accPub, b.signing, b.revocations = accPub, keys.accountSigning, revs
	b.caPEM, b.caCert = certs.caPEM, certs.caCert
	realPort := srv.Addr().(*net.TCPAddr).Port
	b.deviceURLs = b.cfg.AdvertiseURLs
	if len(b.deviceURLs) == 0 {
		h := "127.0.0.1"
		if len(b.cfg.Hosts) > 0 {
			h = b.cfg.Hosts[0]
		}
		b.deviceURLs = []string{"tls://" + net.JoinHostPort(h, strconv.Itoa(realPort))}
	}

	// The control plane's own user: a fresh key each start, never stored.
	svc, err := nkeys.CreateUser()
	if err != nil {
		return err
	}
	svcPub, _ := svc.PublicKey()
	svcJWT, err := serviceClaims(accPub, svcPub).Encode(keys.accountSigning)
	if err != nil {
		return err
	}
	svcSeed, _ := svc.Seed()
	pool := x509.NewCertPool()
	pool.AddCert(certs.caCert)
	return b.connect("tls://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(realPort)),
		nats.UserJWTAndSeed(svcJWT, string(svcSeed)),
		nats.Secure(&tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, ServerName: "127.0.0.1"}),
		nats.TLSHandshakeFirst())
}

// connectExternal connects to an external NATS deployment with the
// configured credentials.
func (b *Bus) connectExternal() error {
	b.jetStream = true // whether it runs JetStream is found out when asked
	if b.cfg.CredsFile == "" {
		return fmt.Errorf("natsbus: external mode needs a credentials file")
	}
	creds, err := os.ReadFile(b.cfg.CredsFile)
	if err != nil {
		return fmt.Errorf("natsbus: %w", err)
	}
	userJWT, err := jwt.ParseDecoratedJWT(creds)
	if err != nil {
		return fmt.Errorf("natsbus: %s holds no user JWT", b.cfg.CredsFile)
	}
	uc, err := jwt.DecodeUserClaims(userJWT)
	if err != nil {
		return fmt.Errorf("natsbus: %s: %w", b.cfg.CredsFile, err)
	}
	b.accPub = uc.IssuerAccount
	if b.accPub == "" {
		b.accPub = uc.Issuer
	}
	if b.cfg.AccountSigningSeedFile != "" {
		if err := checkPrivate(b.cfg.AccountSigningSeedFile); err != nil {
			return err
		}
		seed, err := os.ReadFile(b.cfg.AccountSigningSeedFile)
		if err != nil {
			return fmt.Errorf("natsbus: %w", err)
		}
		kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(seed))))
		if err != nil {
			return fmt.Errorf("natsbus: %s is not an NKey seed", b.cfg.AccountSigningSeedFile)
		}
		b.signing = kp
	}
	opts := []nats.Option{nats.UserCredentials(b.cfg.CredsFile)}
	if b.cfg.ExternalTLSFirst {
		opts = append(opts, nats.TLSHandshakeFirst())
	}
	if b.cfg.CAFile != "" {
		pem, err := os.ReadFile(b.cfg.CAFile)
		if err != nil {
			return fmt.Errorf("natsbus: %w", err)
		}
		b.caPEM = pem
		opts = append(opts, nats.RootCAs(b.cfg.CAFile))
	}
	b.deviceURLs = b.cfg.AdvertiseURLs
	if len(b.deviceURLs) == 0 {
		b.deviceURLs = strings.Split(b.cfg.URL, ",")
	}
	return b.connect(b.cfg.URL, opts...)
}

// connect opens the service connection; it reconnects forever. While it
// reconnects, publishing fails at once instead of filling nats.go's
// reconnect buffer: a buffered unlock command would reach the door after
// SendUnlock had reported it offline (or after a lockdown).
func (b *Bus) connect(url string, opts ...nats.Option) error {
	opts = append(opts,
		nats.Name(serviceName),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectBufSize(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			b.log.Warn("nats error", "err", err)
		}),
	)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("natsbus: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("natsbus: jetstream: %w", err)
	}
	b.nc, b.js = nc, js
	return nil
}

// Conn returns the control plane's own bus connection, for health checks
// and tests. It has the whole account's permissions: do not hand it out.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// TLSFirst reports whether devices must start TLS before the server's
// INFO line: the embedded server expects it; an external one is the
// operator's (Config.ExternalTLSFirst).
func (b *Bus) TLSFirst() bool { return b.srv != nil || b.cfg.ExternalTLSFirst }

// DeviceURLs returns the bus URLs to hand devices at enrollment.
func (b *Bus) DeviceURLs() []string { return slices.Clone(b.deviceURLs) }

// CACertPEM returns the PEM CA devices pin to verify the bus's TLS
// certificate (nil in external mode without a CA file).
func (b *Bus) CACertPEM() []byte { return slices.Clone(b.caPEM) }

// ClientURL returns the embedded server's URL on this host, or the external
// URL.
func (b *Bus) ClientURL() string {
	if b.srv == nil {
		return b.cfg.URL
	}
	return "tls://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(b.srv.Addr().(*net.TCPAddr).Port))
}

// Close stops the event and time services, closes the connection
// and shuts the embedded server down.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	subs := b.eventSubs
	b.eventSubs = nil
	b.mu.Unlock()
	close(b.stop)
	b.drains.Wait() // a drain ending now decides whether the store goes
	// The embedded server's JetStream store (kept only for an earlier
	// version's events, drained by now or not) is removed below if it
	// holds no stream: the next start runs without JetStream.
	retire := false
	if b.srv != nil && b.jetStream {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		acc, err := b.js.AccountInfo(ctx)
		cancel()
		retire = err == nil && acc.Streams == 0
	}
	for _, sub := range subs {
		_ = sub.Unsubscribe()
	}
	if b.advisories != nil {
		b.advisories.Close()
	}
	if b.nc != nil {
		b.nc.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		if retire {
			if err := os.RemoveAll(filepath.Join(b.cfg.DataDir, "jetstream")); err != nil {
				b.log.Warn("removing the emptied JetStream store", "err", err)
			}
		}
	}
	return nil
}

// serverError returns the embedded server's last error log line, or "".
func (b *Bus) serverError() string {
	if b.serverLog == nil {
		return ""
	}
	if p := b.serverLog.lastError.Load(); p != nil {
		return *p
	}
	return ""
}

// serverLogger sends the embedded server's log to slog, and keeps its last
// error so that a start-up failure can name it.
type serverLogger struct {
	log       *slog.Logger
	lastError atomic.Pointer[string]
}

func (l *serverLogger) error(f string, v ...any) {
	msg := fmt.Sprintf(f, v...)
	l.lastError.Store(&msg)
	l.log.Error(msg, "from", "nats")
}

// Noticef carries the embedded server's start-up banner and routine notices:
// debug, so the operator token printed at first start does not scroll away.
func (l *serverLogger) Noticef(f string, v ...any) { l.log.Debug(fmt.Sprintf(f, v...), "from", "nats") }
func (l *serverLogger) Warnf(f string, v ...any)   { l.log.Warn(fmt.Sprintf(f, v...), "from", "nats") }
func (l *serverLogger) Fatalf(f string, v ...any)  { l.error(f, v...) }
func (l *serverLogger) Errorf(f string, v ...any)  { l.error(f, v...) }
func (l *serverLogger) Debugf(f string, v ...any)  { l.log.Debug(fmt.Sprintf(f, v...), "from", "nats") }
func (l *serverLogger) Tracef(f string, v ...any)  { l.log.Debug(fmt.Sprintf(f, v...), "from", "nats") }
