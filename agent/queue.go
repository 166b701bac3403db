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
// event, named by its time-ordered event ID, removed only after the
// control plane's receipt said it is recorded. It is no append log: each event file is written to a
// temporary file, fsynced and renamed into place, so a full disk or a
// crash leaves either the whole event or none (and a temporary file that
// the next open removes).
//
// The directory is read once, when the queue opens; from then on the
// queue keeps the names of its files in memory, and the events added
// while few wait (up to queueCacheLimit) as well, so that sending one does
// not list and read the directory again: the disk is written for a power
// cut, and read back only after one.
type Queue struct {
	fs    FS
	dir   string
	limit int

	mu      sync.Mutex
	names   []string               // the queued events' file names, sorted
	cached  map[string]*wire.Event // some of them, by file name
	dropped int64
	wake    chan struct{}
}

// queueCacheLimit is how many queued events a Queue keeps in memory; the
// others are read from their files when their turn comes.
const queueCacheLimit = 256

// OpenQueue opens (or creates) the queue directory.
func OpenQueue(dir string, limit int) (*Queue, error) {
	return OpenQueueFS(OSFS{}, dir, limit)
}

// OpenQueueFS is OpenQueue on the file system fsys.
func OpenQueueFS(fsys FS, dir string, limit int) (*Queue, error) {
	if err := fsys.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("agent: queue: %w", err)
	}
	q := &Queue{fs: fsys, dir: dir, limit: limit, wake: make(chan struct{}, 1), cached: map[string]*wire.Event{}}
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
	if q.names, err = q.list(); err != nil {
		return nil, err
	}
	return q, nil
}

// Add validates ev and stores it durably. It returns an error if the event
// is invalid or could not be written; when the queue is full the event is
// dropped and counted. The queue keeps ev: the caller must not change it
// afterwards.
func (q *Queue) Add(ev *wire.Event) error {
	data, err := wire.Encode(ev, wire.MaxMessageSize)
	if err != nil {
		return err
	}
	name := ev.ID + ".json"
	q.mu.Lock()
	if len(q.names) >= q.limit {
		q.dropped++
		q.mu.Unlock()
		return fmt.Errorf("agent: %w: event queue full, %s dropped", errStorage, ev.Kind)
	}
	q.insert(name) // holds the place: the queue's limit counts it
	q.mu.Unlock()
	path := filepath.Join(q.dir, name)
	if err := writeFileAtomic(q.fs, path, data, 0o600); err != nil {
		// The rename may have happened before the directory's fsync
		// failed: an event the caller was told is not stored must not be
		// sent (an unlock_executed whose relay never moved).
		q.fs.Remove(path)
		q.mu.Lock()
		q.drop(name)
		q.mu.Unlock()
		return fmt.Errorf("agent: %w: queue event: %w", errStorage, err)
	}
	q.mu.Lock()
	if _, queued := slices.BinarySearch(q.names, name); queued && len(q.cached) < queueCacheLimit {
		q.cached[name] = ev
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// Next returns up to n queued events, oldest first, each the queue's own
// (the caller may sign it, which changes nothing the queue stores).
// Unreadable entries (which atomic writes should never leave) are removed.
func (q *Queue) Next(n int) ([]*wire.Event, error) {
	q.mu.Lock()
	names := slices.Clone(q.names[:min(n, len(q.names))])
	q.mu.Unlock()
	var out []*wire.Event
	for _, name := range names {
		q.mu.Lock()
		cached := q.cached[name]
		q.mu.Unlock()
		if cached != nil {
			out = append(out, cached)
			continue
		}
		data, err := q.fs.ReadFile(filepath.Join(q.dir, name))
		if os.IsNotExist(err) {
			q.mu.Lock()
			_, queued := slices.BinarySearch(q.names, name)
			q.mu.Unlock()
			if queued {
				break // still being written: later events wait their turn
			}
			continue // done meanwhile
		}
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

// Done removes an event the control plane has recorded.
func (q *Queue) Done(id string) error { return q.remove(id + ".json") }

// Len returns how many events wait.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.names)
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
		q.mu.Lock()
		q.drop(name)
		q.mu.Unlock()
		return nil
	} else if err != nil {
		return err
	}
	q.mu.Lock()
	q.drop(name)
	q.mu.Unlock()
	return syncDir(q.fs, q.dir)
}

// insert adds name to q.names in order (q.mu held). Event IDs are time
// ordered, so it nearly always goes last.
func (q *Queue) insert(name string) {
	i, found := slices.BinarySearch(q.names, name)
	if !found {
		q.names = slices.Insert(q.names, i, name)
	}
}

// drop forgets name (q.mu held).
func (q *Queue) drop(name string) {
	if i, found := slices.BinarySearch(q.names, name); found {
		q.names = slices.Delete(q.names, i, i+1)
	}
	delete(q.cached, name)
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
