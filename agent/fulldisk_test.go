package agent_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/internal/tmpfs"
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

// TestAttack_FullTmpfs runs the agent on a real, small tmpfs and fills it:
// a command is refused (its evidence cannot be written) and the relay does
// not move; the agent keeps running, and once space returns the door
// opens again for a new command, its event delivered, and after a
// restart the logs the full disk left still refuse a replay.
func TestAttack_FullTmpfs(t *testing.T) {
	e := MustEnv(t)
	e.StopAgent()
	mnt := tmpfs.Mount(t, "2m")
	if err := os.CopyFS(filepath.Join(mnt, "agent"), os.DirFS(e.DataDir)); err != nil {
		t.Fatal(err)
	}
	e.DataDir = filepath.Join(mnt, "agent")
	err := filepath.WalkDir(e.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chmod(path, 0o600) // CopyFS leaves them readable by all
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.StartAgent(t)
	e.WaitSynced(t)
	if ack := rawCommandWhenListening(t, e, signLong(t, e, "gnt_before")); !ack.Executed() {
		t.Fatalf("command before the disk filled: %+v", ack)
	}
	e.Events.Wait(t, wire.EventUnlockExecuted, 1)

	filler := filepath.Join(mnt, "filler")
	tmpfs.Fill(t, filler)
	refused := signLong(t, e, "gnt_disk_full")
	if ack := rawCommand(t, e, refused); ack.Executed() || ack.Rejected != wire.RejectStorageFault {
		t.Fatalf("a command on a full disk: %+v, want refused with %s", ack, wire.RejectStorageFault)
	}
	if n := e.Sim.Pulses(); n != 1 {
		t.Fatalf("relay pulsed %d times, want 1 (before the disk filled)", n)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// The refused command stays refused (its ID may have been spent, the
	// record written before the event found no room); a new one opens.
	if ack := rawCommand(t, e, refused); ack.Executed() {
		t.Fatalf("the command refused on a full disk opened the door later: %+v", ack)
	}
	after := signLong(t, e, "gnt_space_back")
	if ack := rawCommand(t, e, after); !ack.Executed() {
		t.Fatalf("a command once space returned: %+v", ack)
	}
	if got := e.Events.Wait(t, wire.EventUnlockExecuted, 2); got[1].GrantID != "gnt_space_back" {
		t.Fatalf("unlock_executed %+v", got[1])
	}
	// A restart reads the logs the full disk left.
	e.StopAgent()
	e.StartAgent(t)
	e.WaitSynced(t)
	if ack := rawCommandWhenListening(t, e, after); ack.Executed() || ack.Rejected != wire.RejectReplayed {
		t.Fatalf("the used command after a restart: %+v, want %s", ack, wire.RejectReplayed)
	}
	if n := e.Sim.Pulses(); n != 2 {
		t.Fatalf("relay pulsed %d times, want 2", n)
	}
}
