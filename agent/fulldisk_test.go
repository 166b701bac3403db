package agent_test

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
)

// signLong signs an unlock valid for 30 s, long enough to outlive an
// agent restart in these tests.
func signLong(t *testing.T, e *Env, grant string) []byte {
	t.Helper()
	tok, _, err := e.Signer.SignUnlock(wire.Unlock{DoorID: e.DoorID, GrantID: grant, TTL: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(tok)
}

// TestAttack_FullDiskTornReplayLog: the disk fills in the middle of a
// replay-log record; the command is refused. Space returns, a second
// command opens the door, the agent restarts, and that second command,
// replayed within its lifetime, must be refused: its record must not be
// lost behind the torn one.
func TestAttack_FullDiskTornReplayLog(t *testing.T) {
	disk := agent.NewFullDisk()
	e := MustEnv(t, func(c *agent.Config) { c.FS = disk })
	e.WaitSynced(t)
	if ack := rawCommandWhenListening(t, e, signLong(t, e, "gnt_first")); !ack.Executed() {
		t.Fatalf("first command: %+v", ack)
	}

	disk.SetFree(20) // full in the middle of the next record
	if ack := rawCommand(t, e, signLong(t, e, "gnt_disk_full")); ack.Executed() {
		t.Fatalf("a command whose token ID could not be recorded opened the door: %+v", ack)
	}
	disk.SetFree(-1) // space returns
	captured := signLong(t, e, "gnt_captured")
	if ack := rawCommand(t, e, captured); !ack.Executed() {
		t.Fatalf("command after space returned: %+v", ack)
	}

	e.StopAgent()
	e.StartAgent(t, func(c *agent.Config) { c.FS = disk })
	e.WaitSynced(t)
	if ack := rawCommandWhenListening(t, e, captured); ack.Executed() || ack.Rejected != wire.RejectReplayed {
		t.Fatalf("captured command replayed after the restart: %+v, want %s", ack, wire.RejectReplayed)
	}
	if n := e.Sim.Pulses(); n != 2 {
		t.Fatalf("relay pulsed %d times, want 2", n)
	}
}

// TestAttack_FullDiskNoEvidence: with the disk so full that the replay
// record fits but the unlock_executed event does not, the relay must not
// move: the command is refused with storage_fault, and the door reports
// the storage fault in its heartbeat, sent straight to the bus because
// the queue has no room. Once space returns, the door opens again and
// reports the fault cleared.
func TestAttack_FullDiskNoEvidence(t *testing.T) {
	disk := agent.NewFullDisk()
	e := MustEnv(t, func(c *agent.Config) { c.FS = disk })
	e.WaitSynced(t)
	e.Events.Wait(t, wire.EventHeartbeat, 1)

	disk.SetFree(100) // a replay record fits, an event file does not
	ack := rawCommandWhenListening(t, e, signLong(t, e, "gnt_no_evidence"))
	if ack.Executed() || ack.Rejected != wire.RejectStorageFault {
		t.Fatalf("a command whose unlock_executed event could not be stored: %+v, want storage_fault", ack)
	}
	if n := e.Sim.Pulses(); n != 0 {
		t.Fatalf("relay pulsed %d times without evidence on disk", n)
	}
	for n := 1; ; n++ {
		if hb := e.Events.Wait(t, wire.EventHeartbeat, n); hb[n-1].StorageFault {
			// Sent past the queue, it is still signed: the control plane
			// believes only signed events.
			if err := hb[n-1].Verify(e.DeviceID, e.DevPub); err != nil {
				t.Fatalf("the storage-fault heartbeat does not verify: %v", err)
			}
			break
		}
	}

	disk.SetFree(-1) // space returns
	if ack := rawCommand(t, e, signLong(t, e, "gnt_space_back")); !ack.Executed() {
		t.Fatalf("command after space returned: %+v", ack)
	}
	if got := e.Events.Wait(t, wire.EventUnlockExecuted, 1); got[0].GrantID != "gnt_space_back" {
		t.Fatalf("unlock_executed %+v", got[0])
	}
	// The fault is reported cleared once a write succeeded again.
	for n := 2; ; n++ {
		if hb := e.Events.Wait(t, wire.EventHeartbeat, n); !hb[n-1].StorageFault && hb[n-2].StorageFault {
			break
		}
	}
}
