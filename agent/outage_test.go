package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/wire"
)

// waitQueue waits until the agent's disk queue holds n events.
func waitQueue(t *testing.T, e *Env, n int) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for e.Agent.QueueLen() != n {
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d events, want %d", e.Agent.QueueLen(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAgent_EventsSurviveOutage: events raised while the control plane is
// down wait on disk, survive a device reboot, and arrive exactly once when
// the bus is back, even if one of them had already been recorded before
// its receipt was lost.
func TestAgent_EventsSurviveOutage(t *testing.T) {
	e := MustEnv(t)
	e.WaitSynced(t)
	// The heartbeat of the connection is delivered before the outage.
	e.Events.Wait(t, wire.EventHeartbeat, 1)
	waitQueue(t, e, 0)
	e.Bus.Close()

	e.Agent.ReportTamper("during outage")
	e.Sim.SetOpen(true)
	waitQueue(t, e, 2)
	e.Sim.SetOpen(false)
	waitQueue(t, e, 3)
	e.StopAgent() // the device reboots while the bus is still down

	files, err := filepath.Glob(filepath.Join(e.DataDir, "queue", "evt_*.json"))
	if err != nil || len(files) != 3 {
		t.Fatalf("queue files %v, %v", files, err)
	}
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v", f, fi.Mode().Perm())
		}
	}

	e.StartBus(t)
	// The first queued event was already recorded once (its receipt was
	// lost): the device sends it again.
	data, _ := os.ReadFile(files[0])
	var first wire.Event
	if err := wire.Decode(data, wire.MaxMessageSize, &first); err != nil {
		t.Fatal(err)
	}
	if err := e.Events.handle(context.Background(), first.DoorID, e.DeviceID, &first); err != nil {
		t.Fatal(err)
	}

	e.StartAgent(t)
	waitQueue(t, e, 0)
	// A sentinel after the backlog: once it is in, any duplicate of the
	// backlog would have been delivered before it.
	e.Agent.ReportTamper("sentinel")
	tampers := e.Events.Wait(t, wire.EventTamper, 2)
	if tampers[0].Detail != "during outage" || tampers[1].Detail != "sentinel" {
		t.Fatalf("tamper events %q, %q", tampers[0].Detail, tampers[1].Detail)
	}
	forced := e.Events.Wait(t, wire.EventDoorForced, 1)
	e.Events.Wait(t, wire.EventDoorClosed, 1)
	for _, ev := range append(tampers, forced...) {
		if got := e.Events.From(ev.ID); got != e.DeviceID {
			t.Fatalf("event %s arrived as device %q's, want %q", ev.ID, got, e.DeviceID)
		}
	}
	// Recorded once each; the one whose receipt was lost was sent again.
	if d := e.Events.Duplicates(); len(d) != 1 || d[0] != first.ID {
		t.Fatalf("events delivered more than once: %v, want only %s", d, first.ID)
	}
}
