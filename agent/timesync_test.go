package agent_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
)

// restartWithoutTimeService restarts the bus without its time service, as
// a network that stalls the device's time sync leaves it, and stops the
// agent first.
func restartWithoutTimeService(t *testing.T, e *Env) {
	t.Helper()
	e.StopAgent()
	e.Bus.Close()
	e.NoTime = true
	e.StartBus(t)
	e.NoTime = false
}

// TestAttack_CommandBeforeTimeSync: a network that stalls the device's
// first time sync, and a device clock 8 s behind, must not let a command
// the control plane gave up on (it expired 4 s ago) open the door; nor
// does any command before a signed time sync succeeded.
func TestAttack_CommandBeforeTimeSync(t *testing.T) {
	e := MustEnv(t)
	restartWithoutTimeService(t, e)
	e.StartAgent(t, func(c *agent.Config) { c.Now = func() time.Time { return time.Now().Add(-8 * time.Second) } })

	// Signed 7 s ago, valid 3 s: the courier was told door_offline 4 s ago.
	held, _, err := e.Signer.WithClock(func() time.Time { return time.Now().Add(-7 * time.Second) }).
		SignUnlock(wire.Unlock{DoorID: e.DoorID, GrantID: "gnt_held_back", TTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if ack := rawCommandWhenListening(t, e, []byte(held)); ack.Executed() {
		t.Fatalf("a command held back past its expiry opened a device that never synced: %+v", ack)
	}
	if ack := rawCommandWhenListening(t, e, []byte(e.Sign(t, "gnt_fresh"))); ack.Executed() || ack.Rejected != wire.RejectClockUnsynced {
		t.Fatalf("fresh command before the first time sync: %+v, want %s", ack, wire.RejectClockUnsynced)
	}
	if n := e.Sim.Pulses(); n != 0 {
		t.Fatalf("relay pulsed %d times before the first time sync", n)
	}
	if ok, _ := e.Agent.ClockSynced(); ok {
		t.Fatal("agent reports a sync without a time service")
	}
}

// TestAttack_TimeSyncStalled: a network that spoils the first time
// replies does not keep the door closed for minutes: the agent asks again
// promptly (with backoff) until a signed reply arrives, and then opens.
func TestAttack_TimeSyncStalled(t *testing.T) {
	e := MustEnv(t)
	restartWithoutTimeService(t, e)
	// The attacker answers the first two requests with junk; after that
	// the real (signed) time gets through.
	var asked int
	sub, err := e.Bus.Conn().Subscribe(wire.TimeSubject(e.DoorID), func(m *nats.Msg) {
		asked++
		if asked <= 2 {
			m.Respond([]byte("v4.public.junk"))
			return
		}
		var req wire.TimeRequest
		if err := wire.Decode(m.Data, wire.MaxMessageSize, &req); err != nil {
			return
		}
		tok, _ := e.Signer.SignTime(e.DoorID, req.Nonce)
		m.Respond([]byte(tok))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	e.StartAgent(t) // a heartbeat interval of an hour: no reconnect helps it
	e.WaitSynced(t)
	// The first sync is reported at once, so that the door's status shows
	// the device accepts commands again.
	for n := 1; ; n++ {
		if hb := e.Events.Wait(t, wire.EventHeartbeat, n); hb[n-1].ClockSynced {
			break
		}
	}
	if ack, err := e.Unlock(t, e.Sign(t, "gnt_after_sync")); err != nil || !ack.Executed() {
		t.Fatalf("after the sync: %+v %v", ack, err)
	}
}

// rawCommandWhenListening sends data as the broker would once the agent
// listens on its command subject.
func rawCommandWhenListening(t *testing.T, e *Env, data []byte) *wire.Ack {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for {
		msg, err := e.Bus.Conn().Request(wire.CommandSubject(e.DoorID), data, time.Second)
		if err == nil {
			var ack wire.Ack
			if err := json.Unmarshal(msg.Data, &ack); err != nil {
				t.Fatalf("ack %q: %v", msg.Data, err)
			}
			return &ack
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from the device: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
