package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/wire"
)

// Version is the agent's version, reported at enrollment.
const Version = "0.1.0"

// Config configures an Agent.
type Config struct {
	// DataDir holds the identity, the pinned CA, the replay log and the
	// event queue.
	DataDir string
	// Relay drives the strike; required.
	Relay relay.Relay
	// Sensor reads the door contact; optional.
	Sensor relay.DoorSensor
	// Tamper reads the enclosure's tamper switch; optional.
	Tamper relay.TamperSensor
	// Logger receives the agent's log; nil discards it.
	Logger *slog.Logger
	// HeartbeatInterval, TimeSyncInterval and TimeSyncRetry default to
	// DefaultHeartbeatInterval, DefaultTimeSyncInterval and
	// DefaultTimeSyncRetry.
	HeartbeatInterval time.Duration
	TimeSyncInterval  time.Duration
	TimeSyncRetry     time.Duration
	// QueueLimit bounds the event queue; default DefaultQueueLimit.
	QueueLimit int
	// FS is the file system of the replay log and the event queue; nil
	// means the real one (OSFS). Tests give one that fills up.
	FS FS
	// Reader is the door's scanner, whose lines are judged as offline
	// grants (see handleScan); nil: the device has none.
	Reader Reader
	// TrustRTC trusts the device's own clock (a battery-backed RTC) to
	// judge offline grants after a restart, before the first signed time
	// sync, as long as it is not behind the last sync the device
	// remembers. Off, a door that restarts during an outage refuses
	// offline grants until the link returns. Unlock commands always need
	// a signed sync since the start.
	TrustRTC bool
	// OfflineSkew is how far either end of an offline grant's validity is
	// stretched for the clock's error; 0 means wire.DefaultOfflineSkew, at
	// most wire.MaxOfflineSkew.
	OfflineSkew time.Duration
	// Now is the device's own wall clock; nil means time.Now. Tests use it
	// to simulate a device whose clock is off or is stepped. Once synced,
	// the agent measures elapsed time on Go's monotonic clock instead.
	Now func() time.Time
}

// Agent is a door device's agent. Create it with New, then Run it.
type Agent struct {
	cfg      Config
	id       *Identity
	log      *slog.Logger
	relay    relay.Relay
	clock    *clock
	verifier *wire.Verifier
	replay   *ReplayStore
	queue    *Queue
	key      nkeys.KeyPair // the device's own, from id.NKeySeed
	heldOpen time.Duration

	mu           sync.Mutex
	lastGrant    string
	lastPulseEnd time.Time
	doorKnown    bool
	doorOpen     bool
	heldTimer    *time.Timer
	tamperKnown  bool
	tampered     bool

	rejectWindow     time.Time // start of the current rejection-report minute
	rejectReports    int       // reports in that minute
	rejectSuppressed int       // rejections not reported since the last report

	ignored  atomic.Int64       // messages on the command subject that were no command
	eventIDs doorman.IDSequence // orders queued events (file names sort by ID)

	storageFault atomic.Bool   // the last write to the replay log or queue failed
	replayFailed atomic.Bool   // the replay log's last write failed (read by handleCommand)
	beatWake     chan struct{} // asks for a heartbeat now (the device's state changed)
	witness      *witness      // nil: enrolled without an audit key, witnesses nothing
	syncs        *syncStore    // the last signed time sync, kept across restarts
	keysMu       sync.Mutex    // serialises key updates (see onKeyUpdate)
}

// Reconnect backoff: the first retry after reconnectWait, doubling with
// each failed attempt up to maxReconnectWait, plus jitter of up to half
// the wait (at least a second), so that the doors of a whole deployment
// coming back after the server restarts spread out instead of knocking
// again all at once. connectTimeout bounds one attempt, TLS handshake
// included: long enough for a server busy with thousands of handshakes
// (an attempt abandoned half-way wastes the server's work on it).
const (
	reconnectWait    = time.Second
	maxReconnectWait = time.Minute
	connectTimeout   = 10 * time.Second
)

// reconnectDelay returns how long to wait before reconnect attempt n
// (counted from 1 within one outage).
func reconnectDelay(attempts int) time.Duration {
	d := reconnectWait
	for i := 1; i < attempts && d < maxReconnectWait; i++ {
		d *= 2
	}
	d = min(d, maxReconnectWait)
	return d + rand.N(max(d/2, time.Second))
}

// MaxRejectReportsPerMinute bounds command_rejected events, so that a flood
// of junk on the command subject (from a compromised broker, or reflected
// off the bus) cannot fill the event queue. Suppressed rejections are
// counted in the next report.
const MaxRejectReportsPerMinute = 30

// New loads the device's identity from cfg.DataDir and opens its replay log
// and event queue.
func New(cfg Config) (*Agent, error) {
	if cfg.Relay == nil {
		return nil, errors.New("agent: a relay is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.TimeSyncInterval <= 0 {
		cfg.TimeSyncInterval = DefaultTimeSyncInterval
	}
	if cfg.TimeSyncRetry <= 0 {
		cfg.TimeSyncRetry = DefaultTimeSyncRetry
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = DefaultQueueLimit
	}
	if cfg.OfflineSkew < 0 || cfg.OfflineSkew > wire.MaxOfflineSkew {
		return nil, fmt.Errorf("agent: offline skew must be between 0 and %s", wire.MaxOfflineSkew)
	}
	id, err := LoadIdentity(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, id: id, log: cfg.Logger.With("door", id.DoorID), relay: cfg.Relay, clock: &clock{raw: cfg.Now},
		beatWake: make(chan struct{}, 1)}
	// The key pair is derived from the seed once: deriving it costs as
	// much as a signature, and every ack and event is signed.
	if a.key, err = id.key(); err != nil {
		return nil, fmt.Errorf("agent: device key: %w", err)
	}
	a.heldOpen = DefaultHeldOpen
	if id.Door.HeldOpenSeconds > 0 {
		a.heldOpen = time.Duration(id.Door.HeldOpenSeconds) * time.Second
	}
	if a.witness, err = openWitness(cfg.DataDir, id); err != nil {
		return nil, err
	}
	if a.syncs, err = openSyncStore(cfg.DataDir); err != nil {
		return nil, err
	}
	// The replay log forgets by the synced clock only (see ReplayStore).
	if a.replay, err = OpenReplayStoreFS(cfg.FS, filepath.Join(cfg.DataDir, replayFile), a.clock.SyncedNow); err != nil {
		return nil, err
	}
	if a.queue, err = OpenQueueFS(cfg.FS, filepath.Join(cfg.DataDir, queueDir), cfg.QueueLimit); err != nil {
		a.replay.Close()
		return nil, err
	}
	// The verifier judges on the synced clock only: before the first sync
	// it sees the zero time, so nothing is ever in its window even if the
	// check in handleCommand were bypassed.
	a.verifier, err = wire.NewVerifier(wire.VerifierConfig{
		DoorID: id.DoorID, Keys: id.CommandKeys, Replay: replayGuard{a}, Now: a.clock.SyncedNow,
	})
	if err != nil {
		a.replay.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	// Key updates since enrollment replace the enrollment keys.
	set, err := loadKeySet(cfg.DataDir)
	if err == nil && set != nil {
		err = a.verifier.SetKeys(set)
	}
	if err != nil {
		a.replay.Close()
		return nil, fmt.Errorf("agent: command keys: %w", err)
	}
	return a, nil
}

// DoorID returns the door this device drives.
func (a *Agent) DoorID() string { return a.id.DoorID }

// ClockSynced reports whether the clock was ever corrected by a signed
// time reply, and the current correction.
func (a *Agent) ClockSynced() (bool, time.Duration) {
	off, ok := a.clock.Offset()
	return ok, off
}

// IgnoredCommands returns how many messages on the command subject were
// ignored because they carried no reply subject (see onCommand).
func (a *Agent) IgnoredCommands() int64 { return a.ignored.Load() }

// QueueLen returns how many events wait for delivery.
func (a *Agent) QueueLen() int { return a.queue.Len() }

// Close releases the replay log. The relay belongs to the caller.
func (a *Agent) Close() error {
	a.mu.Lock()
	if a.heldTimer != nil {
		a.heldTimer.Stop()
	}
	a.mu.Unlock()
	return a.replay.Close()
}

// Run connects to the bus and serves until ctx ends. It keeps
// reconnecting through outages; commands are only ever received, events
// are only ever published, and the device opens no listening port.
func (a *Agent) Run(ctx context.Context) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(a.id.CACertPEM)) {
		return errors.New("agent: pinned CA is not PEM")
	}
	online := make(chan struct{}, 1)
	signal := func() {
		select {
		case online <- struct{}{}:
		default:
		}
	}
	closed := make(chan struct{})
	opts := []nats.Option{
		nats.UserJWTAndSeed(a.id.UserJWT, a.id.NKeySeed),
		nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}),
		nats.CustomInboxPrefix(wire.InboxPrefix(a.id.DoorID)),
		nats.Name(a.id.DeviceID),
		// Reconnecting never ends, also after authorization errors:
		// nats.go by default gives up after two in a row and closes the
		// connection, which left the agent running but deaf, so its
		// supervisor never restarted it. We keep retrying, with backoff,
		// rather than exit non-zero for systemd to restart us: a refused
		// login is often passing (a restarted server whose account is not
		// loaded yet, an external account pushed late, a revocation
		// undone), a restart would fix nothing that retrying does not,
		// and systemd stops restarting a unit that fails five times in
		// ten seconds (StartLimitBurst). A revoked device costs the
		// server one refused login a minute. Should the connection still
		// close, Run returns an error, so the binary exits non-zero.
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.Timeout(connectTimeout),
		nats.IgnoreAuthErrorAbort(),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.ConnectHandler(func(*nats.Conn) { a.log.Info("connected"); signal() }),
		nats.ReconnectHandler(func(*nats.Conn) { a.log.Info("reconnected"); signal() }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil is our own Close, on shutdown
				a.log.Warn("disconnected", "err", err)
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { a.log.Warn("bus error", "err", err) }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
	}
	if a.id.TLSFirst {
		// The bus sends nothing in clear, not even its INFO line.
		opts = append(opts, nats.TLSHandshakeFirst())
	}
	nc, err := nats.Connect(strings.Join(a.id.NATSURLs, ","), opts...)
	if err != nil {
		return fmt.Errorf("agent: connect: %w", err)
	}
	defer nc.Close()
	if _, err := nc.Subscribe(wire.CommandSubject(a.id.DoorID), a.onCommand); err != nil {
		return fmt.Errorf("agent: subscribe: %w", err)
	}
	if _, err := nc.Subscribe(wire.KeysSubject(a.id.DoorID), a.onKeyUpdate); err != nil {
		return fmt.Errorf("agent: subscribe: %w", err)
	}
	if a.witness != nil {
		if _, err := nc.Subscribe(wire.AuditSubject(a.id.DoorID), a.onAuditCheckpoint); err != nil {
			return fmt.Errorf("agent: subscribe: %w", err)
		}
	}
	if nc.IsConnected() {
		signal()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	publishWake := make(chan struct{}, 1)
	timeWake := make(chan struct{}, 1)
	beatWake := a.beatWake
	wg.Add(3)
	go func() { defer wg.Done(); a.publishLoop(ctx, nc, publishWake) }()
	go func() { defer wg.Done(); a.timeLoop(ctx, nc, timeWake, beatWake) }()
	go func() { defer wg.Done(); a.heartbeatLoop(ctx, nc, beatWake) }()
	if a.cfg.Sensor != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.cfg.Sensor.Watch(ctx, a.onDoor); err != nil {
				a.log.Error("door sensor failed", "err", err)
				a.report(&wire.Event{Kind: wire.EventTamper, Detail: "door sensor failed: " + err.Error()})
			}
		}()
	}
	if a.cfg.Reader != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.readScans(ctx, a.cfg.Reader) }()
	}
	if a.cfg.Tamper != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.cfg.Tamper.WatchTamper(ctx, a.onTamper); err != nil {
				a.log.Error("tamper switch failed", "err", err)
				a.report(&wire.Event{Kind: wire.EventTamper, Detail: "tamper switch failed: " + err.Error()})
			}
		}()
	}
	for {
		select {
		case <-ctx.Done():
			cancel()
			nc.Close()
			wg.Wait()
			return nil
		case <-closed:
			// Not our doing (that is ctx): the client gave up. Exit, so
			// that the supervisor starts the agent again.
			stopped := ctx.Err() != nil
			cancel()
			wg.Wait()
			if stopped {
				return nil
			}
			return fmt.Errorf("agent: bus connection closed: %v", nc.LastError())
		case <-online:
			for _, ch := range []chan struct{}{publishWake, timeWake, beatWake} {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}
}

// onCommand answers one message on the command subject: the ack first (the
// courier is waiting), then the event into the durable queue.
//
// A message without a reply subject is ignored (counted, logged at debug,
// never judged or reported): the control plane always sends commands as
// requests, and what arrives without a reply is what the server itself
// publishes to a reply subject another device chose, such as a
// no-responders status to a request that device made. A
// device may name any reply subject (NATS checks publish permissions on
// the subject only), so reporting those would let one door fill another
// door's rejection reports and hide real attacks behind the cap.
func (a *Agent) onCommand(m *nats.Msg) {
	if m.Reply == "" {
		n := a.ignored.Add(1)
		a.log.Debug("ignored a message without reply subject on the command subject", "bytes", len(m.Data), "ignored", n)
		return
	}
	ack, ev := a.handleCommand(m.Data)
	if data, err := a.encodeAck(ack, m.Data); err != nil {
		a.log.Error("ack not signed", "err", err)
	} else if err := m.Respond(data); err != nil {
		a.log.Warn("ack not sent", "err", err)
	}
	if ev == nil { // queued already
		return
	}
	if ev.Kind == wire.EventCommandRejected && !a.admitRejectReport(ev) {
		return
	}
	a.report(ev)
}

// admitRejectReport applies MaxRejectReportsPerMinute to a rejection event,
// noting earlier suppressed ones in its detail.
func (a *Agent) admitRejectReport(ev *wire.Event) bool {
	now := a.clock.raw()
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.rejectWindow) >= time.Minute || now.Before(a.rejectWindow) {
		a.rejectWindow, a.rejectReports = now, 0
	}
	if a.rejectReports >= MaxRejectReportsPerMinute {
		a.rejectSuppressed++
		return false
	}
	a.rejectReports++
	if a.rejectSuppressed > 0 {
		ev.Detail = fmt.Sprintf("%d similar rejections not reported; %s", a.rejectSuppressed, ev.Detail)
		a.rejectSuppressed = 0
	}
	return true
}

// handleCommand judges one command and, if it passes, pulses the relay. It
// returns the ack to send and the event to report (nil when it queued the
// event itself). Nothing about the input can make it panic or pulse the
// relay unless the verifier accepted it.
//
// The relay moves only once its evidence is on disk: the token ID in the
// replay log (by the verifier) and then the unlock_executed event in the
// event queue, each fsynced. If either cannot be written (a full disk),
// the command is refused with storage_fault and the device reports a
// storage fault in its heartbeats: a door that opens without a record of
// it would leave the audit blind, and one that cannot record its token
// could be opened twice with it.
func (a *Agent) handleCommand(data []byte) (*wire.Ack, *wire.Event) {
	if !a.clock.Synced() {
		a.log.Warn("command rejected", "reason", wire.RejectClockUnsynced)
		return &wire.Ack{Rejected: wire.RejectClockUnsynced},
			&wire.Event{Kind: wire.EventCommandRejected, Reason: wire.RejectClockUnsynced, Detail: "no signed time sync since the agent started"}
	}
	cmd, err := a.verifier.Verify(data)
	if err != nil {
		var rej *wire.Rejection
		if !errors.As(err, &rej) {
			rej = &wire.Rejection{Reason: wire.RejectInternal, Detail: err.Error()}
		}
		if a.replayFailed.Swap(false) && rej.Reason == wire.RejectInternal {
			rej = &wire.Rejection{Reason: wire.RejectStorageFault, Detail: rej.Detail}
		}
		a.log.Warn("command rejected", "reason", rej.Reason, "detail", rej.Detail)
		return &wire.Ack{Rejected: rej.Reason},
			&wire.Event{Kind: wire.EventCommandRejected, Reason: rej.Reason, Detail: rej.Detail}
	}
	executed := &wire.Event{Kind: wire.EventUnlockExecuted, GrantID: cmd.GrantID, JTI: cmd.JTI}
	if err := a.queueEvent(executed); err != nil {
		a.log.Error("command refused: its unlock_executed event could not be stored", "grant", cmd.GrantID, "err", err)
		return &wire.Ack{GrantID: cmd.GrantID, JTI: cmd.JTI, Rejected: wire.RejectStorageFault},
			&wire.Event{Kind: wire.EventCommandRejected, Reason: wire.RejectStorageFault, GrantID: cmd.GrantID, JTI: cmd.JTI, Detail: "event queue: " + err.Error()}
	}
	if err := a.relay.Pulse(cmd.Pulse); err != nil {
		a.log.Error("relay failed", "err", err)
		// The door did not move: withdraw the event, unless it was sent
		// already (then the command_rejected below follows it).
		if err := a.queue.Done(executed.ID); err != nil {
			a.log.Error("withdraw unlock_executed", "err", err)
		}
		return &wire.Ack{GrantID: cmd.GrantID, JTI: cmd.JTI, Rejected: wire.RejectInternal},
			&wire.Event{Kind: wire.EventCommandRejected, Reason: wire.RejectInternal, GrantID: cmd.GrantID, JTI: cmd.JTI, Detail: "relay: " + err.Error()}
	}
	now := executed.At
	a.mu.Lock()
	a.lastGrant, a.lastPulseEnd = cmd.GrantID, now.Add(cmd.Pulse)
	a.mu.Unlock()
	a.log.Info("unlocked", "grant", cmd.GrantID, "pulse", cmd.Pulse)
	return &wire.Ack{GrantID: cmd.GrantID, JTI: cmd.JTI, ExecutedAt: now}, nil
}

// replayGuard is the replay log as the verifier sees it: it notes whether
// the log could be written (see noteStorage), and whether this command's
// write failed, which handleCommand turns into storage_fault.
type replayGuard struct{ a *Agent }

func (g replayGuard) Use(jti string, until time.Time) (bool, error) {
	fresh, err := g.a.replay.Use(jti, until)
	g.a.noteStorage(err)
	g.a.replayFailed.Store(errors.Is(err, errStorage))
	return fresh, err
}

// StorageFault reports whether the last write to the replay log or the
// event queue failed.
func (a *Agent) StorageFault() bool { return a.storageFault.Load() }

// DoorSensed reports the door's position as the sensor last told it, and
// whether it has told it yet (the sensor is watched once Run started).
func (a *Agent) DoorSensed() (open, known bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.doorOpen, a.doorKnown
}

// noteStorage records the outcome of a write to the replay log or the
// event queue: an errStorage sets the storage fault, success clears it,
// other errors (an invalid event) say nothing about the disk. A change
// asks for a heartbeat at once, so that the door's status shows it.
func (a *Agent) noteStorage(err error) {
	fault := errors.Is(err, errStorage)
	if err != nil && !fault {
		return
	}
	if a.storageFault.Swap(fault) == fault {
		return
	}
	if fault {
		a.log.Error("storage fault: the device refuses commands it cannot record", "err", err)
	} else {
		a.log.Info("storage works again")
	}
	select {
	case a.beatWake <- struct{}{}:
	default:
	}
}

// timeLoop syncs the clock at every (re)connect and every
// TimeSyncInterval; after a failure it tries again after TimeSyncRetry,
// doubling the wait with every further failure (see nextTimeSync), so
// that a device whose first sync was lost opens for couriers within
// seconds, not an interval later.
//
// The first successful sync wakes the heartbeat (beat), so that the door's
// status shows at once that the device accepts commands.
func (a *Agent) timeLoop(ctx context.Context, nc *nats.Conn, wake <-chan struct{}, beat chan<- struct{}) {
	t := time.NewTimer(a.cfg.TimeSyncInterval)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
		was := a.clock.Synced()
		if err := a.syncTime(ctx, nc); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			a.log.Warn("time sync failed", "err", err, "failures", failures)
		} else {
			failures = 0
			if !was {
				select {
				case beat <- struct{}{}:
				default:
				}
			}
		}
		t.Stop()
		t.Reset(nextTimeSync(failures, a.cfg.TimeSyncRetry, a.cfg.TimeSyncInterval))
	}
}

// heartbeatLoop reports a heartbeat while connected: on every (re)connection
// (online), so that the door shows online at once rather than an interval
// later, and then every interval. Heartbeats are not queued during an
// outage: they say "alive now", which a late one cannot.
//
// A heartbeat that cannot be queued (a full disk: exactly when it must
// report the storage fault) is sent to the control plane straight instead.
func (a *Agent) heartbeatLoop(ctx context.Context, nc *nats.Conn, online <-chan struct{}) {
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-online:
		case <-t.C:
		}
		if !nc.IsConnected() {
			continue
		}
		off, synced := a.clock.Offset()
		st := a.syncs.get()
		hb := &wire.Event{Kind: wire.EventHeartbeat, Dropped: a.queue.Dropped(), ClockOffsetMillis: off.Milliseconds(),
			ClockSynced: synced, StorageFault: a.storageFault.Load(), ClockSyncedAt: st.SyncedAt, OfflineUntil: st.until(),
			KeySeq: a.verifier.KeySeq()}
		if size, root, ok := a.AuditWitnessed(); ok {
			hb.AuditWitness, hb.AuditSize = true, size
			if size > 0 {
				hb.AuditRoot = wire.EncodeAuditRoot(root)
			}
		}
		if err := a.queueEvent(hb); err != nil {
			a.publishNow(ctx, nc, hb)
		}
	}
}
