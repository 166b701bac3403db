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
