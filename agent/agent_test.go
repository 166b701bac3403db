package agent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// testWait bounds every wait in these tests; it is a hang guard, not a
// timing assertion.
const testWait = 20 * time.Second

// Env is a control plane bus plus one enrolled door device.
type Env struct {
	Signer  *wire.Signer
	BusDir  string
	Listen  string
	Bus     *natsbus.Bus
	DataDir string
	DoorID  string
	// DeviceID is the enrolled device's; its events must arrive under it.
	DeviceID string
	DevPub   string
	Sim      *relay.Sim
	Agent    *agent.Agent
	stop     context.CancelFunc
	done     chan struct{}
	Events   *Events
	// NoTime starts the bus without the time service.
	NoTime bool
	// CommandTimeout is the bus's; 0 means its default.
	CommandTimeout time.Duration
}

// MustEnv starts a bus on a fixed free port (so it can restart at the same
// address), enrolls a device for a new door and runs its agent.
func MustEnv(tb testing.TB, opts ...func(*agent.Config)) *Env {
	tb.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := wire.NewSigner(priv)
	if err != nil {
		tb.Fatal(err)
	}
	e := &Env{Signer: signer, BusDir: tb.TempDir(), Listen: freeAddr(tb), DataDir: tb.TempDir(), DoorID: doorman.NewID(doorman.PrefixDoor)}
	e.StartBus(tb)
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	e.DeviceID = doorman.NewID(doorman.PrefixDevice)
	userJWT, err := e.Bus.IssueDeviceCredentials(e.DoorID, e.DeviceID, pub)
	if err != nil {
		tb.Fatal(err)
	}
	e.DevPub = pub
	id := &agent.Identity{
		DeviceID: e.DeviceID, DoorID: e.DoorID, NATSURLs: e.Bus.DeviceURLs(),
		UserJWT: userJWT, NKeySeed: string(seed), CommandKeys: []wire.VerifyKey{signer.VerifyKey()},
		Door: wire.DoorConfig{PulseMillis: 1000}, CACertPEM: string(e.Bus.CACertPEM()), TLSFirst: e.Bus.TLSFirst(),
	}
	if err := agent.SaveIdentity(e.DataDir, id); err != nil {
		tb.Fatal(err)
	}
	e.Sim = relay.NewSim()
	e.StartAgent(tb, opts...)
	tb.Cleanup(func() { e.StopAgent(); e.Bus.Close() })
	return e
}

// StartBus (re)starts the bus and its event consumer.
func (e *Env) StartBus(tb testing.TB) {
	tb.Helper()
	cfg := natsbus.Config{DataDir: e.BusDir, Listen: e.Listen, Signer: e.Signer, CommandTimeout: e.CommandTimeout, Devices: envDevices{e}}
	if e.NoTime {
		cfg.Signer = nil
	}
	b, err := natsbus.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	e.Bus = b
	if e.Events == nil {
		e.Events = &Events{byKind: map[string][]*wire.Event{}, seen: map[string]int{}, from: map[string]string{}, changed: make(chan struct{})}
	}
	if err := b.ConsumeEvents(context.Background(), "test", e.Events.handle); err != nil {
		tb.Fatal(err)
	}
}

// StartAgent runs a new agent over the data dir.
func (e *Env) StartAgent(tb testing.TB, opts ...func(*agent.Config)) {
	tb.Helper()
	cfg := agent.Config{DataDir: e.DataDir, Relay: e.Sim, Sensor: e.Sim, Tamper: e.Sim, HeartbeatInterval: time.Hour}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.Agent, e.stop, e.done = a, cancel, make(chan struct{})
	go func() { defer close(e.done); a.Run(ctx) }()
}

// StopAgent stops the agent and waits for it.
func (e *Env) StopAgent() {
	if e.stop != nil {
		e.stop()
		<-e.done
		e.Agent.Close()
		e.stop = nil
	}
}

// WaitSynced waits for the agent's first time sync and its first reading
// of the door sensor.
func (e *Env) WaitSynced(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(testWait)
	for ok, _ := e.Agent.ClockSynced(); !ok; ok, _ = e.Agent.ClockSynced() {
		if time.Now().After(deadline) {
			tb.Fatal("agent never synced its clock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// And it watches its door: a change the test makes now is a change,
	// not the position the door had when the agent started.
	for _, known := e.Agent.DoorSensed(); !known; _, known = e.Agent.DoorSensed() {
		if time.Now().After(deadline) {
			tb.Fatal("agent never read its door sensor")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Sign signs an unlock for the env's door.
func (e *Env) Sign(tb testing.TB, grant string) string {
	tb.Helper()
	tok, _, err := e.Signer.SignUnlock(wire.Unlock{DoorID: e.DoorID, GrantID: grant, Pulse: 1500 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// Unlock sends a token once the agent has synced its clock (it refuses
// every command before) and is listening.
func (e *Env) Unlock(tb testing.TB, token string) (*wire.Ack, error) {
	tb.Helper()
	e.WaitSynced(tb)
	deadline := time.Now().Add(testWait)
	for {
		ack, err := e.Bus.SendUnlock(context.Background(), e.DoorID, token, 0)
		if doorman.ErrorReason(err) != doorman.ReasonDoorOffline || time.Now().After(deadline) {
			return ack, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Events collects the device events the control plane consumed.
type Events struct {
	mu      sync.Mutex
	byKind  map[string][]*wire.Event
	seen    map[string]int
	from    map[string]string // event ID -> device ID of its subject
	changed chan struct{}
}

// handle records an event once by ID, as the store does, and counts every
// delivery.
func (ev *Events) handle(_ context.Context, _, device string, e *wire.Event) error {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.seen[e.ID]++
	if ev.seen[e.ID] > 1 {
		return nil
	}
	ev.byKind[e.Kind] = append(ev.byKind[e.Kind], e)
	ev.from[e.ID] = device
	close(ev.changed)
	ev.changed = make(chan struct{})
	return nil
}

// Wait blocks until n events of kind have arrived and returns them.
func (ev *Events) Wait(tb testing.TB, kind string, n int) []*wire.Event {
	tb.Helper()
	timeout := time.After(testWait)
	for {
		ev.mu.Lock()
		got, ch := ev.byKind[kind], ev.changed
		ev.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-timeout:
			tb.Fatalf("%d %s events after %s, want %d", len(got), kind, testWait, n)
		}
	}
}

// From returns the device ID of the subject the event arrived on.
func (ev *Events) From(eventID string) string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.from[eventID]
}

// Duplicates returns event IDs delivered more than once (recorded once).
func (ev *Events) Duplicates() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var d []string
	for id, n := range ev.seen {
		if n > 1 {
			d = append(d, id)
		}
	}
	return d
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func TestAgent_Unlock(t *testing.T) {
	e := MustEnv(t)
	ack, err := e.Unlock(t, e.Sign(t, "gnt_one"))
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Executed() || ack.GrantID != "gnt_one" {
		t.Fatalf("ack %+v", ack)
	}
	if e.Sim.Pulses() != 1 {
		t.Fatalf("pulses %d, want 1", e.Sim.Pulses())
	}
	if d, _ := e.Sim.LastPulse(); d != 1500*time.Millisecond {
		t.Fatalf("pulse %s, want the command's 1.5s", d)
	}
	got := e.Events.Wait(t, wire.EventUnlockExecuted, 1)
	if got[0].GrantID != "gnt_one" || got[0].JTI != ack.JTI || got[0].DoorID != e.DoorID {
		t.Fatalf("event %+v", got[0])
	}
	// The courier pushes the door within the pulse: opened, not forced.
	e.Sim.SetOpen(true)
	if opened := e.Events.Wait(t, wire.EventDoorOpened, 1); opened[0].GrantID != "gnt_one" {
		t.Fatalf("door_opened %+v", opened[0])
	}
	e.Sim.SetOpen(false)
	e.Events.Wait(t, wire.EventDoorClosed, 1)
}

// TestAgent_HeartbeatOnConnect: a device reports that it is alive as soon
// as it connects and again when it reconnects, not a heartbeat interval (an
// hour here) later, so that its door shows online at once.
func TestAgent_HeartbeatOnConnect(t *testing.T) {
	e := MustEnv(t)
	first := e.Events.Wait(t, wire.EventHeartbeat, 1)[0]
	e.Bus.Close()
	e.StartBus(t)
	// A redelivery of the first heartbeat does not count.
	for n := 2; ; n++ {
		if got := e.Events.Wait(t, wire.EventHeartbeat, n); got[n-1].ID != first.ID {
			break
		}
	}
}

// TestAgent_DoorForcedAndHeldOpen: a door opened without an unlock is
// reported forced, and, left open longer than the door's held-open time
// (one second here, as enrollment can set it), held open too.
func TestAgent_DoorForcedAndHeldOpen(t *testing.T) {
	e := MustEnv(t)
	e.StopAgent()
	id, err := agent.LoadIdentity(e.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	id.Door.HeldOpenSeconds = 1
	if err := agent.SaveIdentity(e.DataDir, id); err != nil {
		t.Fatal(err)
	}
	e.StartAgent(t)
	e.WaitSynced(t)
	// Opened with no unlock at all: forced.
	e.Sim.SetOpen(true)
	forced := e.Events.Wait(t, wire.EventDoorForced, 1)[0]
	// Still open a second later: held open.
	held := e.Events.Wait(t, wire.EventDoorHeldOpen, 1)[0]
	if held.DoorID != e.DoorID || held.At.Before(forced.At) || !strings.Contains(held.Detail, "1s") {
		t.Fatalf("door_held_open %+v after door_forced %+v", held, forced)
	}
	e.Sim.SetOpen(false)
	e.Events.Wait(t, wire.EventDoorClosed, 1)
}

// TestAgent_Tamper: tripping the tamper switch reports a tamper event,
// restoring it reports another, and an agent that starts with the switch
// tripped reports it at once.
func TestAgent_Tamper(t *testing.T) {
	e := MustEnv(t)
	// Once synced, the agent watches the switch (as it does the door in
	// TestAgent_DoorForcedAndHeldOpen): what follows is a change.
	e.WaitSynced(t)
	e.Sim.SetTampered(true)
	if got := e.Events.Wait(t, wire.EventTamper, 1); !strings.HasPrefix(got[0].Detail, "tamper switch tripped:") || got[0].DoorID != e.DoorID {
		t.Fatalf("tamper %+v, want the switch tripped", got[0])
	}
	e.Sim.SetTampered(false)
	if got := e.Events.Wait(t, wire.EventTamper, 2); !strings.HasPrefix(got[1].Detail, "tamper switch restored") {
		t.Fatalf("tamper %+v, want the switch restored", got[1])
	}
	// The device restarts while the enclosure is open.
	e.StopAgent()
	e.Sim.SetTampered(true)
	e.StartAgent(t)
	if got := e.Events.Wait(t, wire.EventTamper, 3); !strings.HasPrefix(got[2].Detail, "tamper switch tripped at start") {
		t.Fatalf("tamper %+v, want the switch tripped at start", got[2])
	}
	// Detail given by the caller, for tamper evidence from elsewhere.
	e.Agent.ReportTamper("enclosure opened")
	if got := e.Events.Wait(t, wire.EventTamper, 4); got[3].Detail != "enclosure opened" {
		t.Fatalf("tamper %+v", got[3])
	}
}
