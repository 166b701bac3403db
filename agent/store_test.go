package agent_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
)

func TestReplayStore_SurvivesReopenAndTornWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.log")
	now := time.Now()
	clock := func() time.Time { return now }
	s, err := agent.OpenReplayStore(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.Use("cmd_a", now.Add(time.Minute)); !fresh || err != nil {
		t.Fatalf("first use: %v %v", fresh, err)
	}
	if fresh, _ := s.Use("cmd_a", now.Add(time.Minute)); fresh {
		t.Fatal("second use accepted")
	}
	s.Use("cmd_old", now.Add(time.Second))
	s.Close()
	// A crash mid-append leaves a torn line; it was never acted on.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("17999")
	f.Close()

	now = now.Add(10 * time.Second) // cmd_old has expired
	s, err = agent.OpenReplayStore(path, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fresh, _ := s.Use("cmd_a", now.Add(time.Minute)); fresh {
		t.Fatal("used token accepted after reopening")
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "cmd_old") || strings.Contains(string(data), "17999") || agent.ReplayLogRecords(path) != 1 {
		t.Fatalf("compaction kept expired or torn entries:\n%q", data)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	if _, err := s.Use("bad id\n1 cmd_a", now.Add(time.Minute)); err == nil {
		t.Fatal("unstorable token ID accepted")
	}
}

func TestReplayStore_Compacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.log")
	now := time.Now()
	s, err := agent.OpenReplayStore(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 3000; i++ {
		now = now.Add(time.Second)
		if fresh, err := s.Use(doorman.NewID("cmd"), now.Add(15*time.Second)); !fresh || err != nil {
			t.Fatal(err)
		}
	}
	if n := agent.ReplayLogRecords(path); n > 1100 {
		t.Fatalf("replay log has %d records after 3000 short-lived tokens", n)
	}
}

func TestQueue_LimitAndOrder(t *testing.T) {
	dir := t.TempDir()
	q, err := agent.OpenQueue(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	door := doorman.NewID(doorman.PrefixDoor)
	var ids []string
	for i := 0; i < 3; i++ {
		ev := &wire.Event{ID: wire.NewEventID(), Kind: wire.EventTamper, DoorID: door, At: time.Now()}
		err := q.Add(ev)
		if i < 2 && err != nil {
			t.Fatal(err)
		} else if i == 2 && err == nil {
			t.Fatal("full queue accepted an event")
		}
		ids = append(ids, ev.ID)
		time.Sleep(2 * time.Millisecond) // distinct milliseconds keep IDs ordered
	}
	if q.Dropped() != 1 || q.Len() != 2 {
		t.Fatalf("dropped %d, len %d", q.Dropped(), q.Len())
	}
	if err := q.Add(&wire.Event{ID: "nope"}); err == nil {
		t.Fatal("invalid event queued")
	}
	// Reopened, the queue still holds both, oldest first.
	q2, _ := agent.OpenQueue(dir, 10)
	evs, err := q2.Next(10)
	if err != nil || len(evs) != 2 || evs[0].ID != ids[0] || evs[1].ID != ids[1] {
		t.Fatalf("Next = %v, %v", evs, err)
	}
	q2.Done(ids[0])
	q2.Done(ids[0])
	if q2.Len() != 1 {
		t.Fatalf("len %d after Done", q2.Len())
	}
}

func TestLoadIdentity_RefusesLeakyFiles(t *testing.T) {
	e := MustEnv(t)
	if _, err := agent.LoadIdentity(e.DataDir); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(e.DataDir, agent.IdentityFile), 0o644)
	if _, err := agent.LoadIdentity(e.DataDir); err == nil {
		t.Fatal("world-readable identity accepted")
	}
	if _, err := agent.LoadIdentity(t.TempDir()); err == nil || !strings.Contains(err.Error(), "enroll") {
		t.Fatalf("empty dir: %v", err)
	}
}

// TestReplayStore_ForgetsNothingUntilTrusted: while its clock is untrusted
// (zero), the store forgets nothing, at open or at compaction; once the
// clock is trusted, compaction forgets what expired.
func TestReplayStore_ForgetsNothingUntilTrusted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.log")
	start := time.Now()
	s, err := agent.OpenReplayStore(path, func() time.Time { return start })
	if err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.Use("cmd_spent", start.Add(15*time.Second)); !fresh || err != nil {
		t.Fatalf("first use: %v %v", fresh, err)
	}
	s.Close()

	var now time.Time // untrusted
	s, err = agent.OpenReplayStore(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 3000; i++ {
		if fresh, err := s.Use(doorman.NewID("cmd"), start.Add(15*time.Second)); !fresh || err != nil {
			t.Fatalf("use %d: %v %v", i, fresh, err)
		}
	}
	if fresh, _ := s.Use("cmd_spent", start.Add(15*time.Second)); fresh {
		t.Fatal("spent token accepted while the clock was untrusted")
	}

	now = start.Add(time.Hour) // synced: everything above expired
	for i := 0; i < 1100; i++ {
		s.Use(doorman.NewID("cmd"), now.Add(15*time.Second))
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "cmd_spent") {
		t.Fatal("expired entry kept after compaction with a trusted clock")
	}
	if n := agent.ReplayLogRecords(path); n > 1100 {
		t.Fatalf("replay log has %d records after compaction", n)
	}
}

// TestReplayStore_NeverForgetsByCount: however many tokens are spent
// after it (more than compaction's bound of appended entries), a token
// that has not expired by the trusted clock stays spent, also after a
// reopen.
func TestReplayStore_NeverForgetsByCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.log")
	now := time.Now()
	s, err := agent.OpenReplayStore(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.Use("cmd_captured", now.Add(time.Minute)); !fresh || err != nil {
		t.Fatalf("first use: %v %v", fresh, err)
	}
	for i := 0; i < 3000; i++ {
		if fresh, err := s.Use(doorman.NewID("cmd"), now.Add(time.Minute)); !fresh || err != nil {
			t.Fatalf("use %d: %v %v", i, fresh, err)
		}
	}
	if fresh, _ := s.Use("cmd_captured", now.Add(time.Minute)); fresh {
		t.Fatal("an unexpired token was forgotten after 3000 later ones")
	}
	s.Close()
	s, err = agent.OpenReplayStore(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fresh, _ := s.Use("cmd_captured", now.Add(time.Minute)); fresh {
		t.Fatal("an unexpired token was forgotten after a reopen")
	}
}

// TestReplayStore_MigratesOldFormat: an enrolled device's replay.log in
// the old line format is read once and rewritten in the record format,
// and the tokens it spent stay spent — also the one the old format lost
// behind a fragment a full disk left.
func TestReplayStore_MigratesOldFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.log")
	now := time.Now()
	until := now.Add(time.Minute).Unix()
	old := fmt.Sprintf("%d cmd_spent\n%d cmd_torn_by_full_di%d cmd_behind_fragment\n", until, until, until)
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := agent.OpenReplayStore(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for _, jti := range []string{"cmd_spent", "cmd_behind_fragment"} {
		if fresh, _ := s.Use(jti, now.Add(time.Minute)); fresh {
			t.Fatalf("%s accepted after the migration", jti)
		}
	}
	s.Close()
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "\n"+strconv.FormatInt(until, 10)) || !strings.HasPrefix(string(data), "doorman replay log v2\n") {
		t.Fatalf("replay log not rewritten in the record format:\n%q", data)
	}
	// Reopened, in the new format, the tokens are still spent.
	s, err = agent.OpenReplayStore(path, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fresh, _ := s.Use("cmd_spent", now.Add(time.Minute)); fresh {
		t.Fatal("token accepted after the second open")
	}
}

// readCounter counts the directory listings and file reads made through it.
type readCounter struct {
	agent.OSFS
	dirs, files atomic.Int64
}

func (c *readCounter) ReadDir(name string) ([]os.DirEntry, error) {
	c.dirs.Add(1)
	return c.OSFS.ReadDir(name)
}

func (c *readCounter) ReadFile(name string) ([]byte, error) {
	c.files.Add(1)
	return c.OSFS.ReadFile(name)
}

// The queue reads its directory when it opens, not each time an event is
// sent: while few events wait they come from memory, and a backlog longer
// than it keeps in memory still comes back whole and in order, from disk.
func TestQueue_SendsWithoutReadingTheDisk(t *testing.T) {
	dir := t.TempDir()
	fsys := &readCounter{}
	q, err := agent.OpenQueueFS(fsys, dir, 1000)
	if err != nil {
		t.Fatal(err)
	}
	door := doorman.NewID(doorman.PrefixDoor)
	var seq doorman.IDSequence
	add := func() string {
		ev := &wire.Event{ID: seq.Next(wire.PrefixEvent), Kind: wire.EventTamper, DoorID: door, At: time.Now()}
		if err := q.Add(ev); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	opened := fsys.dirs.Load()
	for range 50 {
		id := add()
		evs, err := q.Next(64)
		if err != nil || len(evs) != 1 || evs[0].ID != id {
			t.Fatalf("Next = %v, %v; want %s", evs, err, id)
		}
		if err := q.Done(id); err != nil {
			t.Fatal(err)
		}
	}
	if d, f := fsys.dirs.Load()-opened, fsys.files.Load(); d != 0 || f != 0 {
		t.Fatalf("sending 50 events listed the directory %d times and read %d files", d, f)
	}

	var want []string
	for range 600 { // beyond what the queue keeps in memory
		want = append(want, add())
	}
	var got []string
	for q.Len() > 0 {
		evs, err := q.Next(64)
		if err != nil || len(evs) == 0 {
			t.Fatalf("Next = %d events, %v with %d queued", len(evs), err, q.Len())
		}
		for _, ev := range evs {
			got = append(got, ev.ID)
			if err := q.Done(ev.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("a backlog of %d came back as %d events, or out of order", len(want), len(got))
	}
	if fsys.files.Load() == 0 {
		t.Fatal("a backlog longer than the memory bound was never read from disk")
	}
	// And a queue reopened after a power cut finds what was left.
	left := add()
	q2, err := agent.OpenQueue(dir, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if evs, err := q2.Next(64); err != nil || len(evs) != 1 || evs[0].ID != left {
		t.Fatalf("reopened: Next = %v, %v", evs, err)
	}
}
