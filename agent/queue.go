package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/doorman-dev/doorman/wire"
)

// DefaultQueueLimit is the most events the disk queue holds; beyond it new
// events are dropped and counted (heartbeats report the count).
const DefaultQueueLimit = 10000

// Queue is the device's durable outbox of events: one fsynced file per
// event, named by its time-ordered event ID, removed only after JetStream
// acknowledged it. It is no append log: each event file is written to a
// temporary file, fsynced and renamed into place, so a full disk or a
// crash leaves either the whole event or none (and a temporary file that
// the next open removes).
type Queue struct {
	fs    FS
	dir   string
	limit int

	mu      sync.Mutex
	count   int
	dropped int64
	wake    chan struct{}
}

// OpenQueue opens (or creates) the queue directory.
func OpenQueue(dir string, limit int) (*Queue, error) {
	return OpenQueueFS(OSFS{}, dir, limit)
}

// OpenQueueFS is OpenQueue on the file system fsys.
func OpenQueueFS(fsys FS, dir string, limit int) (*Queue, error) {
	if err := fsys.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("agent: queue: %w", err)
	}
	q := &Queue{fs: fsys, dir: dir, limit: limit, wake: make(chan struct{}, 1)}
	// Temp files of writes a crash or a full disk interrupted were never
	// events: an event file appears only by rename, whole and fsynced.
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("agent: queue: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			fsys.Remove(filepath.Join(dir, e.Name()))
		}
	}
	names, err := q.list()
	if err != nil {
		return nil, err
	}
	q.count = len(names)
	return q, nil
}

// Add validates ev and stores it durably. It returns an error if the event
// is invalid or could not be written; when the queue is full the event is
// dropped and counted.
func (q *Queue) Add(ev *wire.Event) error {
	data, err := wire.Encode(ev, wire.MaxMessageSize)
	if err != nil {
		return err
	}
	q.mu.Lock()
	if q.count >= q.limit {
		q.dropped++
		q.mu.Unlock()
		return fmt.Errorf("agent: %w: event queue full, %s dropped", errStorage, ev.Kind)
	}
	q.count++
	q.mu.Unlock()
	path := filepath.Join(q.dir, ev.ID+".json")
	if err := writeFileAtomic(q.fs, path, data, 0o600); err != nil {
		// The rename may have happened before the directory's fsync
		// failed: an event the caller was told is not stored must not be
		// sent (an unlock_executed whose relay never moved).
		q.fs.Remove(path)
		q.mu.Lock()
		q.count--
		q.mu.Unlock()
		return fmt.Errorf("agent: %w: queue event: %w", errStorage, err)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// Next returns up to n queued events, oldest first. Unreadable entries
// (which atomic writes should never leave) are removed.
func (q *Queue) Next(n int) ([]*wire.Event, error) {
	names, err := q.list()
	if err != nil {
		return nil, err
	}
	var out []*wire.Event
	for _, name := range names {
		if len(out) == n {
			break
		}
		data, err := q.fs.ReadFile(filepath.Join(q.dir, name))
		var ev wire.Event
		if err == nil {
			err = wire.Decode(data, wire.MaxMessageSize, &ev)
		}
		if err != nil || ev.ID+".json" != name {
			_ = q.remove(name)
			continue
		}
		out = append(out, &ev)
	}
	return out, nil
}

// Done removes an event JetStream has acknowledged.
func (q *Queue) Done(id string) error { return q.remove(id + ".json") }

// Len returns how many events wait.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count
}

// Dropped returns how many events were dropped because the queue was full.
func (q *Queue) Dropped() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// Wake is signalled when an event is added.
func (q *Queue) Wake() <-chan struct{} { return q.wake }

func (q *Queue) remove(name string) error {
	if err := q.fs.Remove(filepath.Join(q.dir, name)); os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	q.mu.Lock()
	q.count--
	q.mu.Unlock()
	return syncDir(q.fs, q.dir)
}

func (q *Queue) list() ([]string, error) {
	entries, err := q.fs.ReadDir(q.dir)
	if err != nil {
		return nil, fmt.Errorf("agent: queue: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), wire.PrefixEvent+"_") && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}
