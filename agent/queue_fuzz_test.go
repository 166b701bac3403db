package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// FuzzQueueFullDisk adds events to the queue on a disk whose free space
// each byte of the input sets before an Add (255: unlimited): an Add that
// fails leaves nothing behind (after a reopen, not even a temporary
// file), one that succeeds is read back whole, in order. The seeds run in
// every go test.
func FuzzQueueFullDisk(f *testing.F) {
	f.Add([]byte{255, 255, 255})
	f.Add([]byte{0, 255, 10, 100, 255})
	f.Add([]byte{150, 200, 254, 1, 255})
	door := doorman.NewID(doorman.PrefixDoor)
	f.Fuzz(func(t *testing.T, frees []byte) {
		if len(frees) > 16 {
			frees = frees[:16]
		}
		dir := filepath.Join(t.TempDir(), "queue")
		disk := NewFullDisk()
		q, err := OpenQueueFS(disk, dir, DefaultQueueLimit)
		if err != nil {
			t.Fatal(err)
		}
		var ids doorman.IDSequence
		var stored []string
		for i, free := range frees {
			if free == 255 {
				disk.SetFree(-1)
			} else {
				disk.SetFree(int64(free))
			}
			ev := &wire.Event{ID: ids.Next(wire.PrefixEvent), Kind: wire.EventTamper, DoorID: door,
				At: time.Now().UTC(), Detail: strings.Repeat("x", i*7)}
			if err := q.Add(ev); err == nil {
				stored = append(stored, ev.ID)
			} else if free == 255 {
				t.Fatalf("add with room: %v", err)
			}
			if q.Len() != len(stored) {
				t.Fatalf("queue length %d, want %d", q.Len(), len(stored))
			}
		}
		disk.SetFree(-1)
		q, err = OpenQueueFS(disk, dir, DefaultQueueLimit)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := q.Next(len(frees) + 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(stored) {
			t.Fatalf("reopened queue holds %d events, want %d", len(evs), len(stored))
		}
		for i, ev := range evs {
			if ev.ID != stored[i] {
				t.Fatalf("event %d is %s, want %s", i, ev.ID, stored[i])
			}
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tmpPrefix) {
				t.Fatalf("temporary file %s left after reopen", e.Name())
			}
		}
	})
}
