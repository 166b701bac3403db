package agent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
)

// rawCommand publishes bytes straight on the door's command subject with
// the bus's own (all-powerful) connection, as an attacker who owns the
// broker could, and returns the device's ack.
func rawCommand(t *testing.T, e *Env, data []byte) *wire.Ack {
	t.Helper()
	msg, err := e.Bus.Conn().Request(wire.CommandSubject(e.DoorID), data, testWait)
	if err != nil {
		t.Fatalf("no answer from the device: %v", err)
	}
	var ack wire.Ack
	if err := json.Unmarshal(msg.Data, &ack); err != nil {
		t.Fatalf("ack %q: %v", msg.Data, err)
	}
	return &ack
}

// TestAttack_Commands: nothing but a fresh command signed by the pinned key
// for this door opens it; the device answers every attempt with its reason,
// reports it as a security event, and keeps serving.
func TestAttack_Commands(t *testing.T) {
	e := MustEnv(t)
	e.WaitSynced(t)
	_, attackerKey, _ := ed25519.GenerateKey(rand.Reader)
	attacker, _ := wire.NewSigner(attackerKey)
	valid := e.Sign(t, "gnt_1")
	forgedPinnedKid := func() string {
		tok, _, _ := attacker.SignUnlock(wire.Unlock{DoorID: e.DoorID, GrantID: "gnt_x"})
		i := strings.LastIndex(tok, ".")
		good := e.Sign(t, "gnt_y")
		return tok[:i] + good[strings.LastIndex(good, "."):]
	}()
	expired, _, _ := e.Signer.WithClock(func() time.Time { return time.Now().Add(-time.Minute) }).SignUnlock(wire.Unlock{DoorID: e.DoorID, GrantID: "gnt_old"})
	future, _, _ := e.Signer.WithClock(func() time.Time { return time.Now().Add(time.Minute) }).SignUnlock(wire.Unlock{DoorID: e.DoorID, GrantID: "gnt_future"})
	otherDoor, _, _ := e.Signer.SignUnlock(wire.Unlock{DoorID: doorman.NewID(doorman.PrefixDoor), GrantID: "gnt_elsewhere"})
	forged, _, _ := attacker.SignUnlock(wire.Unlock{DoorID: e.DoorID, GrantID: "gnt_forged"})
	timeReply, _ := e.Signer.SignTime(e.DoorID, strings.Repeat("n", 20))

	cases := []struct {
		name   string
		data   []byte
		reason string
	}{
		{"empty", nil, wire.RejectMalformed},
		{"garbage", []byte("open sesame"), wire.RejectMalformed},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}, wire.RejectMalformed},
		{"truncated", []byte(valid[:len(valid)-10]), wire.RejectMalformed},
		{"truncated header", []byte(valid[:12]), wire.RejectMalformed},
		{"oversized", []byte(valid + strings.Repeat("A", 64<<10)), wire.RejectMalformed},
		{"json instead of token", []byte(`{"unlock":true,"door":"` + e.DoorID + `"}`), wire.RejectMalformed},
		{"forged, unknown key", []byte(forged), wire.RejectUnknownKey},
		{"forged with the pinned kid", []byte(forgedPinnedKid), wire.RejectBadSignature},
		{"time reply replayed as command", []byte(timeReply), wire.RejectBadSignature},
		{"wrong door", []byte(otherDoor), wire.RejectWrongDoor},
		{"expired", []byte(expired), wire.RejectExpired},
		{"not yet valid", []byte(future), wire.RejectNotYetValid},
	}
	for _, tt := range cases {
		ack := rawCommand(t, e, tt.data)
		if ack.Rejected != tt.reason || ack.Executed() {
			t.Errorf("%s: ack %+v, want rejected %s", tt.name, ack, tt.reason)
		}
	}
	if n := e.Sim.Pulses(); n != 0 {
		t.Fatalf("relay pulsed %d times for attacks", n)
	}
	rejected := e.Events.Wait(t, wire.EventCommandRejected, len(cases))
	for i, ev := range rejected {
		if ev.Reason != cases[i].reason {
			t.Errorf("event %d reason %s, want %s", i, ev.Reason, cases[i].reason)
		}
	}

	// Still serving: the valid command opens, once.
	if ack := rawCommand(t, e, []byte(valid)); !ack.Executed() {
		t.Fatalf("valid command after the attacks: %+v", ack)
	}
	if ack := rawCommand(t, e, []byte(valid)); ack.Rejected != wire.RejectReplayed {
		t.Fatalf("captured command replayed: %+v", ack)
	}
	if n := e.Sim.Pulses(); n != 1 {
		t.Fatalf("relay pulsed %d times, want 1", n)
	}
}

// TestAttack_ReplayAfterRestart: the replay log survives a restart of the
// agent, so a captured command stays spent.
func TestAttack_ReplayAfterRestart(t *testing.T) {
	e := MustEnv(t)
	captured := e.Sign(t, "gnt_captured")
	if ack, err := e.Unlock(t, captured); err != nil || !ack.Executed() {
		t.Fatalf("first use: %+v %v", ack, err)
	}
	e.StopAgent()
	e.StartAgent(t)
	ack, err := e.Unlock(t, captured)
	if doorman.ErrorCode(err) != doorman.EFORBIDDEN || ack == nil || ack.Rejected != wire.RejectReplayed {
		t.Fatalf("replay after restart: %+v %v, want replayed", ack, err)
	}
	if n := e.Sim.Pulses(); n != 1 {
		t.Fatalf("relay pulsed %d times, want 1", n)
	}
	// A fresh command still works after the restart.
	if ack, err := e.Unlock(t, e.Sign(t, "gnt_fresh")); err != nil || !ack.Executed() {
		t.Fatalf("fresh command: %+v %v", ack, err)
	}
}

// TestAgent_ClockSkew: a device whose own clock is an hour off refuses
// valid commands until it has synced with the control plane's signed time,
// and accepts them after.
func TestAgent_ClockSkew(t *testing.T) {
	e := MustEnv(t)
	off := func(cfg *agent.Config) { cfg.Now = func() time.Time { return time.Now().Add(time.Hour) } }
	// No time service: the device refuses everything.
	restartWithoutTimeService(t, e)
	e.StartAgent(t, off)
	if ack := rawCommandWhenListening(t, e, []byte(e.Sign(t, "gnt_skewed"))); ack.Rejected != wire.RejectClockUnsynced {
		t.Fatalf("command to a device an hour ahead, never synced: %+v, want %s", ack, wire.RejectClockUnsynced)
	}
	e.StopAgent()
	e.Bus.Close()

	// With the time service the device corrects itself.
	e.StartBus(t)
	e.StartAgent(t, off)
	e.WaitSynced(t)
	if ok, offset := e.Agent.ClockSynced(); !ok || offset > -59*time.Minute || offset < -61*time.Minute {
		t.Fatalf("offset %s, want about -1h", offset)
	}
	if ack, err := e.Unlock(t, e.Sign(t, "gnt_synced")); err != nil || !ack.Executed() {
		t.Fatalf("after sync: %+v %v", ack, err)
	}
}

// TestAttack_LateCommand: a command the control plane gave up on (the
// courier was told door_offline) cannot open the door later, however long
// a broker or a buffer held it back.
func TestAttack_LateCommand(t *testing.T) {
	e := MustEnv(t)
	e.StopAgent() // the device is unreachable
	// A broker that holds commands back instead of delivering them.
	held := make(chan *nats.Msg, 1)
	if _, err := e.Bus.Conn().ChanSubscribe(wire.CommandSubject(e.DoorID), held); err != nil {
		t.Fatal(err)
	}
	door := &doorman.Door{ID: e.DoorID, PulseMillis: 1000}
	if _, err := e.Bus.Unlock(context.Background(), door, &doorman.Grant{ID: "gnt_late"}); doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
		t.Fatalf("Unlock to an unreachable door: %v, want door_offline", err)
	}
	var token []byte
	select {
	case m := <-held:
		token = m.Data
	case <-time.After(testWait):
		t.Fatal("the command never reached the broker")
	}

	// The device is back, with a synced clock; the broker delivers late.
	e.StartAgent(t)
	e.WaitSynced(t)
	if ack := rawCommand(t, e, token); ack.Rejected != wire.RejectExpired {
		t.Fatalf("late command: ack %+v, want expired", ack)
	}
	if n := e.Sim.Pulses(); n != 0 {
		t.Fatalf("relay pulsed %d times for a command delivered after door_offline", n)
	}
}

// TestAttack_ReflectedAck: another door's device publishes events naming
// this door's command subject as their reply subject, so that the control
// plane's receipts would go there. The server allows it (publish
// permissions cover the subject, not the reply), but the control plane
// answers only into the event's own door's inbox, so nothing reaches the
// door. What the server itself may still send there without a reply
// subject (a no-responders status while no control plane serves events)
// the agent ignores: no command_rejected report, and the rejection reports
// stay free for real attacks.
func TestAttack_ReflectedAck(t *testing.T) {
	e := MustEnv(t)
	e.WaitSynced(t)
	other := doorman.NewID(doorman.PrefixDoor)
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	otherDevice := doorman.NewID(doorman.PrefixDevice)
	userJWT, err := e.Bus.IssueDeviceCredentials(other, otherDevice, pub)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.Bus.CACertPEM())
	nc, err := nats.Connect(e.Bus.DeviceURLs()[0], nats.UserJWTAndSeed(userJWT, string(seed)),
		nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), nats.TLSHandshakeFirst(), nats.MaxReconnects(0),
		nats.CustomInboxPrefix(wire.InboxPrefix(other)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	const reflections = 3
	for i := 0; i < reflections; i++ {
		ev, _ := wire.Encode(&wire.Event{ID: wire.NewEventID(), Kind: wire.EventHeartbeat, DoorID: other, At: time.Now()}, wire.MaxMessageSize)
		if err := nc.PublishRequest(wire.EventSubject(other, otherDevice, wire.EventHeartbeat), wire.CommandSubject(e.DoorID), ev); err != nil {
			t.Fatal(err)
		}
	}
	// The attacker's own event, answered after the reflected ones (one
	// door's events are handled in order).
	ev, _ := wire.Encode(&wire.Event{ID: wire.NewEventID(), Kind: wire.EventHeartbeat, DoorID: other, At: time.Now()}, wire.MaxMessageSize)
	if _, err := nc.Request(wire.EventSubject(other, otherDevice, wire.EventHeartbeat), ev, testWait); err != nil {
		t.Fatal(err)
	}
	if n := e.Agent.IgnoredCommands(); n != 0 {
		t.Fatalf("%d reflected receipts reached the door", n)
	}
	// What the server relays without a reply subject, as the door sees it.
	for i := 0; i < reflections; i++ {
		if err := e.Bus.Conn().Publish(wire.CommandSubject(e.DoorID), []byte(`{"stream":"x"}`)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(testWait)
	for e.Agent.IgnoredCommands() < reflections {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages without a reply subject reached the door", e.Agent.IgnoredCommands(), reflections)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A real attack after the reflections is the first rejection reported.
	foreign, _, _ := e.Signer.SignUnlock(wire.Unlock{DoorID: other, GrantID: "gnt_foreign"})
	if ack := rawCommand(t, e, []byte(foreign)); ack.Rejected != wire.RejectWrongDoor {
		t.Fatalf("ack %+v, want wrong_door", ack)
	}
	if got := e.Events.Wait(t, wire.EventCommandRejected, 1); got[0].Reason != wire.RejectWrongDoor {
		t.Fatalf("first command_rejected %+v, want the wrong_door attack, not a reflected ack", got[0])
	}
	if n := e.Sim.Pulses(); n != 0 {
		t.Fatalf("relay pulsed %d times", n)
	}
}

// TestAttack_ReplayAfterRebootWithClockAhead: a device that reboots with
// its clock an hour ahead (and not yet synced) must not forget the tokens
// it spent, or a captured command works again once the clock is fixed.
func TestAttack_ReplayAfterRebootWithClockAhead(t *testing.T) {
	e := MustEnv(t)
	captured := e.Sign(t, "gnt_captured")
	if ack, err := e.Unlock(t, captured); err != nil || !ack.Executed() {
		t.Fatalf("first use: %+v %v", ack, err)
	}
	e.StopAgent()
	e.StartAgent(t, func(c *agent.Config) { c.Now = func() time.Time { return time.Now().Add(time.Hour) } })
	e.WaitSynced(t)
	ack, err := e.Unlock(t, captured)
	if ack == nil || ack.Rejected != wire.RejectReplayed {
		t.Fatalf("replay after a reboot with the clock ahead: %+v %v, want replayed", ack, err)
	}
	if n := e.Sim.Pulses(); n != 1 {
		t.Fatalf("relay pulsed %d times, want 1", n)
	}
}

// TestAgent_WallClockStep: once synced, a step of the device's wall clock
// (NTP, someone setting the RTC) does not move the clock commands are
// judged on.
func TestAgent_WallClockStep(t *testing.T) {
	var step atomic.Int64
	e := MustEnv(t, func(c *agent.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(step.Load())) }
	})
	e.WaitSynced(t)
	step.Store(int64(time.Hour))
	if ack, err := e.Unlock(t, e.Sign(t, "gnt_after_step")); err != nil || !ack.Executed() {
		t.Fatalf("command after the wall clock stepped an hour: %+v %v", ack, err)
	}
	if _, off := e.Agent.ClockSynced(); off > -59*time.Minute || off < -61*time.Minute {
		t.Fatalf("reported offset %s, want about -1h after the step", off)
	}
}
