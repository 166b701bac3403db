package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/auditlog"
	doormanhttp "github.com/doorman-dev/doorman/http"
	"github.com/doorman-dev/doorman/keyring"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/net/netutil"
)

// The bus sends door devices their building's audit checkpoints and key
// updates; the key ring is what the services rotate.
var (
	_ app.WitnessBus = (*natsbus.Bus)(nil)
	_ app.KeyBus     = (*natsbus.Bus)(nil)
	_ app.KeyRing    = (*keyring.Ring)(nil)
)

// KeyRefreshInterval is how often a node reads the command key set again,
// so that keys rotated or revoked elsewhere (another node, doorman admin
// keys) are used, and announced to the doors, within it.
var KeyRefreshInterval = 15 * time.Second

// Main is the running control plane: store, bus, the application
// services and the API over them. Tests start the real program through it
// on ":0" ports and temporary dirs. It parses nothing and decides nothing:
// it wires.
type Main struct {
	Config Config
	Logger *slog.Logger
	Store  doorman.Store
	Bus    *natsbus.Bus
	Keys   *keyring.Ring
	Access *access.Service
	App    *app.Services

	// Stdout receives what an operator must see once (the first operator
	// token).
	Stdout io.Writer

	ln     net.Listener
	server *http.Server
	// metricsLn and metricsServer serve /metrics when Config.MetricsAddr
	// is set; both are nil otherwise.
	metricsLn     net.Listener
	metricsServer *http.Server

	// auditLog signs and publishes the audit checkpoints.
	auditLog *auditLog

	stopEvents context.CancelFunc
	eventsDone chan struct{}
	// deviceEvents counts the device events received, by kind.
	deviceEvents *prometheus.CounterVec
	outbox       *outboxRunner // the notification worker (outbox.go)

	// readyMu guards the last readiness probe (see ready).
	readyMu  sync.Mutex
	readyAt  time.Time
	readyErr error
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Logger: slog.Default(), Stdout: io.Discard}
}

// Open opens the store (running its migrations), creates the first operator
// credential if there is none, checks that the command signing key is the
// deployment's (keyring.Open), opens the bus and starts listening.
// It does not serve yet.
func (m *Main) Open(ctx context.Context) (err error) {
	if err := m.Config.checkPublicURL(); err != nil {
		return err
	}
	if m.Store, err = m.Config.OpenStore(ctx); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	if m.Keys, err = keyring.Open(ctx, m.Store, m.Config.CommandKeyPath(), CommandKeyName); err != nil {
		return err
	}
	m.Logger.Info("command signing key", "kid", m.Keys.KeyID(), "file", m.Config.CommandKeyPath())
	if err := m.openAuditLog(ctx); err != nil {
		return err
	}
	duplicates := newDuplicateFlagger(m.Logger)
	if m.Bus, err = m.Config.OpenBus(ctx, m.Logger, m.Keys, m.Store, duplicates.flag, app.NewOfflineWindows(m.Store)); err != nil {
		return fmt.Errorf("open bus: %w", err)
	}
	reg := prometheus.NewRegistry()
	m.deviceEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "doorman_device_events_total",
		Help: "Device events received from the bus, by kind (each once per delivery; redeliveries count again).",
	}, []string{"kind"})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		unverifiedAcksMetric(m.Bus), m.deviceEvents, newEventBacklog(m.Bus))
	if st, ok := m.Store.(storeStats); ok {
		reg.MustRegister(storeMetrics(st)...)
	}
	m.Access = access.NewService(m.Store, access.WithMetrics(reg), access.WithDoorLink(m.Bus), access.WithOfflineSigner(m.Bus), access.WithLogger(m.Logger),
		access.WithRateLimits(m.Config.CourierRateLimit, m.Config.DoorRateLimit), access.WithMaxInFlight(m.Config.MaxAccessRequests, 0))
	m.App = app.New(m.Store, app.Config{Access: m.Access, Bus: m.Bus, Keys: m.Keys, KeyRing: m.Keys, Logger: m.Logger,
		AuditCheckpoints: m.auditLog.checkpoints()})
	m.wireWebhooks()
	m.App.Notices = app.NewNotices(m.Store, m.Config.PublicURL)
	m.App.Outbox.RegisterProducer(m.App.Notices.ProduceNotices)
	m.App.Outbox.RegisterProducer(m.App.Notices.ProduceDeliveryNotices)
	// Each checkpoint goes to the building's door devices as it is signed.
	devices := m.App.Devices
	m.auditLog.cp.OnPublish(func(ctx context.Context, cp *auditlog.Checkpoint) {
		devices.PublishCheckpoint(ctx, cp.Chain, int64(cp.Size), cp.Note)
	})
	duplicates.set(m.App.Devices)
	m.App.Outbox.RegisterProducer(m.App.Alerts.Produce)
	m.App.Returns = app.NewReturns(m.Store, m.Config.PublicURL, nil, m.Logger)
	m.App.Outbox.RegisterProducer(m.App.Returns.ProduceCollected)
	m.App.Outbox.RegisterProducer(m.App.Returns.ProduceOverdue)
	if err := m.bootstrapOperator(ctx); err != nil {
		return err
	}

	events, cancel := context.WithCancel(context.Background())
	m.stopEvents = cancel
	m.eventsDone = make(chan struct{})
	go func() {
		defer close(m.eventsDone)
		swept := make(chan struct{})
		go func() {
			defer close(swept)
			m.sweepEventCounts(events)
		}()
		alerted := make(chan struct{})
		go func() { defer close(alerted); m.runAlertJobs(events) }()
		returned := make(chan struct{})
		go func() { defer close(returned); m.runReturnSweep(events) }()
		// Key changes made on another node or with doorman admin keys
		// reach this node's ring, and the doors, within a refresh.
		keyed := make(chan struct{})
		go func() {
			defer close(keyed)
			m.Keys.Run(events, KeyRefreshInterval, m.App.CommandKeys.Announce, m.Logger.Warn)
		}()
		m.consumeEvents(events)
		<-events.Done()
		<-swept
		<-alerted
		<-returned
		<-keyed
	}()

	api := doormanhttp.NewServer(doormanhttp.Config{
		App:            m.App,
		Idempotency:    m.Store,
		Logger:         m.Logger,
		Metrics:        reg,
		PublicURL:      m.Config.PublicURL,
		TrustedProxies: m.Config.TrustedProxies,
		Ready:          m.ready,
	})
	if m.ln, err = net.Listen("tcp", m.Config.HTTPAddr); err != nil {
		return err
	}
	m.ln = netutil.LimitListener(m.ln, m.Config.maxConnections())
	pages := web.NewServer(web.Config{
		App:            m.App,
		Logger:         m.Logger,
		TrustedProxies: m.Config.TrustedProxies,
		PublicURL:      m.Config.PublicURL,
	})
	headerTimeout, readTimeout := 10*time.Second, 30*time.Second
	if m.Config.slowClient > 0 {
		headerTimeout, readTimeout = m.Config.slowClient, 2*m.Config.slowClient
	}
	m.server = &http.Server{
		Handler:           routeAPIAndPages(api.Handler(), pages.Handler()),
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	m.server.RegisterOnShutdown(pages.Shutdown)
	metrics := "off"
	if m.Config.MetricsAddr != "" {
		if m.metricsLn, err = net.Listen("tcp", m.Config.MetricsAddr); err != nil {
			m.ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		m.metricsServer = newMetricsServer(reg, m.Logger)
		metrics = m.MetricsURL() + "/metrics"
	}
	if err := m.startOutbox(); err != nil {
		return err
	}
	m.Logger.Info("doorman listening", "addr", m.URL(), "store", m.storeName(), "bus", m.Bus.ClientURL(), "metrics", metrics, "max_connections", m.Config.maxConnections())
	return nil
}

// routeAPIAndPages sends the API's paths (/v1/…, /healthz, /readyz) to
// the API and every other path to the pages.
func routeAPIAndPages(api, pages http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	mux.Handle("/", pages)
	return mux
}

// Serve serves the API, and the metrics when MetricsAddr is set, until
// Close; it returns nil after a graceful close, or the first error of
// either listener.
func (m *Main) Serve() error {
	servers := []*http.Server{m.server}
	listeners := []net.Listener{m.ln}
	if m.metricsServer != nil {
		servers, listeners = append(servers, m.metricsServer), append(listeners, m.metricsLn)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				return
			}
			errc <- nil
		}()
	}
	for range servers {
		if err := <-errc; err != nil {
			return err
		}
	}
	return nil
}

// URL is the base URL the API is served at.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// MetricsURL is the base URL /metrics is served at, or "" when there is
// no metrics listener.
func (m *Main) MetricsURL() string {
	if m.metricsLn == nil {
		return ""
	}
	return "http://" + m.metricsLn.Addr().String()
}

// Close stops accepting requests, lets those in flight finish (until ctx
// ends), and closes the store.
func (m *Main) Close(ctx context.Context) error {
	var err error
	if m.server != nil {
		err = m.server.Shutdown(ctx)
	}
	if m.metricsServer != nil {
		err = errors.Join(err, m.metricsServer.Shutdown(ctx))
	}
	if m.stopEvents != nil {
		m.stopEvents()
		<-m.eventsDone
	}
	err = errors.Join(err, m.stopOutbox(ctx))
	if m.Access != nil {
		err = errors.Join(err, m.Access.Close(ctx))
	}
	err = errors.Join(err, m.auditLog.close(ctx))
	if m.Bus != nil {
		err = errors.Join(err, m.Bus.Close())
	}
	if m.Store != nil {
		err = errors.Join(err, m.Store.Close())
	}
	return err
}

// ready reports whether a grant can be committed and its command sent:
// the store commits a write (doorman.ProbeStore; a store that still reads
// on a full disk is not ready) and the bus is connected. Its errors are EUNAVAILABLE with a reason /readyz shows.
//
// /readyz is public and each probe is a durable write, so probes are
// shared: callers within readyFor of the last probe get its answer, and
// concurrent callers wait for one probe instead of each making their own.
func (m *Main) ready(ctx context.Context) error {
	m.readyMu.Lock()
	defer m.readyMu.Unlock()
	if !m.readyAt.IsZero() && time.Since(m.readyAt) < readyFor {
		return m.readyErr
	}
	// The probe is not the caller's: a client hanging up must neither cut
	// a write out of a batch nor leave a failure behind for others.
	probe, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyProbeTimeout)
	defer cancel()
	m.readyErr = m.probeReady(probe)
	m.readyAt = time.Now()
	return m.readyErr
}

// readyFor is how long one readiness probe answers for, and
// readyProbeTimeout how long it may take.
const (
	readyFor          = time.Second
	readyProbeTimeout = 2 * time.Second
)

// probeReady makes one readiness probe.
func (m *Main) probeReady(ctx context.Context) error {
	if err := m.Store.ProbeWrite(ctx); err != nil {
		return fmt.Errorf("%w: %w", &doorman.Error{Code: doorman.EUNAVAILABLE, Reason: ReasonStoreNotWritable,
			Message: "Not ready: the store cannot commit a write."}, err)
	}
	return m.Bus.Ready(ctx)
}

// ReasonStoreNotWritable is /readyz's reason when the store cannot commit.
const ReasonStoreNotWritable = "store_not_writable"

func (m *Main) storeName() string {
	if m.Config.DB != "" {
		return "postgres"
	}
	return "sqlite:" + m.Config.DataDir
}

// bootstrapOperator creates an operator credential on first start and shows
// it once.
func (m *Main) bootstrapOperator(ctx context.Context) error {
	token, err := m.App.Credentials.FirstOperatorToken(systemContext(ctx))
	if err != nil || token == "" {
		return err
	}
	fmt.Fprintf(m.Stdout, "First start: operator token (shown once, keep it secret):\n%s\n", token)
	return nil
}

// runServe runs `doorman serve` until ctx is cancelled (SIGINT/SIGTERM).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain()
	m.Stdout = stdout
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m.Config.storeFlags(fs)
	m.Config.logFlags(fs)
	m.Config.busFlags(fs)
	m.Config.accessFlags(fs)
	m.Config.httpFlags(fs)
	m.Config.mailFlags(fs)
	m.Config.webhookFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if m.Logger, err = m.Config.Logger(stderr); err != nil {
		return err
	}
	if err := m.Open(ctx); err != nil {
		m.Close(context.Background())
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- m.Serve() }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		m.Logger.Info("shutting down")
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(err, m.Close(shutdown))
}
