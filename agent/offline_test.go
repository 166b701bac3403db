package agent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
)

// offlineEnv is an Env whose time service is ours: it signs replies with
// the given offline window, as the control plane does for a building that
// allows offline delivery. The agent reads scans from Scan.
type offlineEnv struct {
	*Env
	Scan *io.PipeWriter
}

func mustOfflineEnv(t *testing.T, window time.Duration, opts ...func(*agent.Config)) *offlineEnv {
	t.Helper()
	e := MustEnv(t)
	restartWithoutTimeService(t, e)
	serveTimeWindow(t, e, window)
	o := &offlineEnv{Env: e}
	o.startAgent(t, opts...)
	return o
}

// serveTimeWindow answers the door's time requests with signed replies
// carrying the offline window.
func serveTimeWindow(t *testing.T, e *Env, window time.Duration) {
	t.Helper()
	sub, err := e.Bus.Conn().Subscribe(wire.TimeSubject(e.DoorID), func(m *nats.Msg) {
		var req wire.TimeRequest
		if err := wire.Decode(m.Data, wire.MaxMessageSize, &req); err != nil {
			return
		}
		tok, _ := e.Signer.SignTimeReply(e.DoorID, req.Nonce, window)
		m.Respond([]byte(tok))
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
}

// startAgent (re)starts the agent with a fresh reader pipe.
func (o *offlineEnv) startAgent(t *testing.T, opts ...func(*agent.Config)) {
	t.Helper()
	r, w := io.Pipe()
	o.Scan = w
	t.Cleanup(func() { w.Close() })
	o.StartAgent(t, append([]func(*agent.Config){func(c *agent.Config) { c.Reader = agent.StreamReader{R: r} }}, opts...)...)
}

// scan feeds one line to the door's reader.
func (o *offlineEnv) scan(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(o.Scan, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// grant signs an offline grant for the env's door (or another).
func (o *offlineEnv) grant(t *testing.T, s *wire.Signer, door string) (string, *wire.OfflineGrant) {
	t.Helper()
	tok, g, err := s.SignOfflineGrant(wire.OfflineGrantRequest{DoorID: door, GrantID: doorman.NewID(doorman.PrefixGrant),
		CourierID: doorman.NewID(doorman.PrefixCourier), ParcelIDs: []string{doorman.NewID(doorman.PrefixParcel)}})
	if err != nil {
		t.Fatal(err)
	}
	return tok, g
}

// rejected waits for the n-th reader rejection and returns it.
func (o *offlineEnv) rejected(t *testing.T, n int) *wire.Event {
	t.Helper()
	evs := o.Events.Wait(t, wire.EventCommandRejected, n)
	ev := evs[n-1]
	if !ev.Offline {
		t.Fatalf("rejection %d is not the reader's: %+v", n, ev)
	}
	return ev
}

// TestOffline_GrantOpensOnce: a courier's offline grant read by the door's
// reader opens the door once; the event names the grant, its token, the
// courier and the parcels; the same QR again is refused as replayed.
func TestOffline_GrantOpensOnce(t *testing.T) {
	o := mustOfflineEnv(t, 7*24*time.Hour)
	o.WaitSynced(t)
	tok, g := o.grant(t, o.Signer, o.DoorID)
	o.scan(t, tok)
	ex := o.Events.Wait(t, wire.EventUnlockExecuted, 1)[0]
	if !ex.Offline || ex.GrantID != g.GrantID || ex.JTI != g.JTI || ex.CourierID != g.CourierID || ex.Parcels != g.ParcelsDigest {
		t.Fatalf("unlock_executed %+v, grant %+v", ex, g)
	}
	// The event is on disk before the relay moves, and may reach the
	// control plane before the pulse is done.
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := o.Sim.WaitPulses(ctx, 1); err != nil {
		t.Fatalf("the door did not open: %v", err)
	}
	if n := o.Sim.Pulses(); n != 1 {
		t.Fatalf("%d pulses, want 1", n)
	}
	o.scan(t, "  "+tok+"\r") // the same QR, as a scanner might frame it
	if ev := o.rejected(t, 1); ev.Reason != wire.RejectReplayed {
		t.Fatalf("second use: %+v", ev)
	}
	if n := o.Sim.Pulses(); n != 1 {
		t.Fatalf("a reused QR opened the door: %d pulses", n)
	}
}

// TestOffline_BadScans is the attacker's (and the noisy wire's) side of the
// reader: each scan leaves the door shut and says why.
func TestOffline_BadScans(t *testing.T) {
	o := mustOfflineEnv(t, 24*time.Hour)
	o.WaitSynced(t)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	attacker, err := wire.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	otherDoor, _ := o.grant(t, o.Signer, doorman.NewID(doorman.PrefixDoor))
	forged, _ := o.grant(t, attacker, o.DoorID)
	past := o.Signer.WithClock(func() time.Time { return time.Now().Add(-2 * time.Minute) })
	expired, _ := o.grant(t, past, o.DoorID)
	future := o.Signer.WithClock(func() time.Time { return time.Now().Add(10 * time.Minute) })
	early, _ := o.grant(t, future, o.DoorID)
	good, _ := o.grant(t, o.Signer, o.DoorID)
	unlock := o.Sign(t, "gnt_bus_command")
	for i, tt := range []struct {
		name, line, want string
	}{
		{"another door's QR", otherDoor, wire.RejectWrongDoor},
		{"signed by a key the door does not trust", forged, wire.RejectUnknownKey},
		{"expired", expired, wire.RejectExpired},
		{"from a clock far ahead", early, wire.RejectNotYetValid},
		{"an unlock command shown as a QR", unlock, wire.RejectBadSignature},
		{"truncated", good[:len(good)/2], wire.RejectMalformed},
		{"enormous", strings.Repeat("A", 3*agent.MaxScanLine), wire.RejectMalformed},
		{"noise", "\x02\x7f\xfe\x00garbage", wire.RejectMalformed},
	} {
		o.scan(t, tt.line)
		if ev := o.rejected(t, i+1); ev.Reason != tt.want || !strings.HasPrefix(ev.Detail, "reader: ") {
			t.Fatalf("%s: %+v, want %s", tt.name, ev, tt.want)
		}
	}
	if n := o.Sim.Pulses(); n != 0 {
		t.Fatalf("bad scans opened the door %d times", n)
	}
	// The reader still works after all that.
	o.scan(t, good)
	o.Events.Wait(t, wire.EventUnlockExecuted, 1)
}

// TestOffline_BuildingDoesNotAllow: with no offline window on its time
// replies, the door refuses every offline grant.
func TestOffline_BuildingDoesNotAllow(t *testing.T) {
	o := mustOfflineEnv(t, 0)
	o.WaitSynced(t)
	tok, _ := o.grant(t, o.Signer, o.DoorID)
	o.scan(t, tok)
	if ev := o.rejected(t, 1); ev.Reason != wire.RejectOfflineDisabled {
		t.Fatalf("%+v", ev)
	}
	if o.Sim.Pulses() != 0 {
		t.Fatal("opened")
	}
}

// TestOffline_TrustedTime: after a restart without a link, the door judges
// offline grants only by a clock it trusts: none unless the device's own
// clock is trusted as battery-backed (--trust-rtc); then only within the
// building's window since the last sync it remembers, and never when that
// clock is behind the last sync.
func TestOffline_TrustedTime(t *testing.T) {
	o := mustOfflineEnv(t, 24*time.Hour)
	o.WaitSynced(t)
	var hb *wire.Event
	for n := 1; hb == nil || !hb.ClockSynced; n++ {
		hb = o.Events.Wait(t, wire.EventHeartbeat, n)[n-1]
	}
	if hb.ClockSyncedAt.IsZero() || hb.OfflineUntil.Sub(hb.ClockSyncedAt) != 24*time.Hour {
		t.Fatalf("heartbeat after sync: synced %s, offline until %s", hb.ClockSyncedAt, hb.OfflineUntil)
	}
	synced := hb.ClockSyncedAt
	if _, err := os.Stat(filepath.Join(o.DataDir, "time-sync.json")); err != nil {
		t.Fatal(err)
	}

	// The building's internet goes down and the device restarts.
	o.StopAgent()
	o.Bus.Close()
	restart := func(rtc bool, now time.Time) {
		t.Helper()
		o.StopAgent()
		o.startAgent(t, func(c *agent.Config) {
			c.TrustRTC = rtc
			c.Now = func() time.Time { return now }
		})
	}
	at := func(when time.Time) string {
		tok, _ := o.grant(t, o.Signer.WithClock(func() time.Time { return when }), o.DoorID)
		return tok
	}
	cases := []struct {
		name string
		rtc  bool
		now  time.Time
		want string // "" opens
	}{
		{"own clock not trusted", false, synced.Add(time.Hour), wire.RejectClockUnsynced},
		{"trusted clock behind the last sync", true, synced.Add(-time.Hour), wire.RejectClockUnsynced},
		{"trusted clock past the window", true, synced.Add(25 * time.Hour), wire.RejectSyncTooOld},
		{"trusted clock within the window", true, synced.Add(23 * time.Hour), ""},
	}
	var local []*wire.Event
	for _, tt := range cases {
		restart(tt.rtc, tt.now)
		// No bus: the events queue on disk. Read them from the agent's
		// answers instead, through its local log of pulses and the queue.
		before := o.Agent.QueueLen()
		o.scan(t, at(tt.now))
		// The event is queued before the relay pulses: wait for both.
		waitFor(t, func() bool { return o.Agent.QueueLen() > before && (tt.want != "" || o.Sim.Pulses() > 0) })
		opened := o.Sim.Pulses()
		if (tt.want == "") != (opened == 1) {
			t.Fatalf("%s: %d pulses, want opened=%v", tt.name, opened, tt.want == "")
		}
		local = append(local, &wire.Event{Reason: tt.want})
	}
	// The link returns: the queued events reach the control plane, each
	// with its reason.
	o.StopAgent()
	o.StartBus(t)
	serveTimeWindow(t, o.Env, 24*time.Hour)
	o.startAgent(t)
	var want []string
	for _, ev := range local {
		if ev.Reason != "" {
			want = append(want, ev.Reason)
		}
	}
	rej := o.Events.Wait(t, wire.EventCommandRejected, len(want))
	for i, r := range want {
		if rej[i].Reason != r || !rej[i].Offline {
			t.Fatalf("queued rejection %d: %+v, want %s", i, rej[i], r)
		}
	}
	if ex := o.Events.Wait(t, wire.EventUnlockExecuted, 1)[0]; !ex.Offline {
		t.Fatalf("%+v", ex)
	}
}

// waitFor polls cond until it holds (a hang guard, not a timing assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
