package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/doorman-dev/doorman/internal/durable"
	"github.com/doorman-dev/doorman/wire"
)

// timeStateFile keeps the last signed time sync across restarts (syncState).
const timeStateFile = "time-sync.json"

// syncState is what the device remembers of its last signed time sync: the
// control plane's time then, and the offline window that reply gave (how
// long after it the door may accept offline grants; 0: not at all). It is
// written crash-safe after every successful sync, so that a door that
// restarts while the building's internet is down still knows when it last
// heard the truth, and stops accepting offline grants on time.
type syncState struct {
	SyncedAt      time.Time `json:"synced_at"`
	OfflineWindow int64     `json:"offline_window_ms"`
}

// window returns the offline window as a duration.
func (s syncState) window() time.Duration { return time.Duration(s.OfflineWindow) * time.Millisecond }

// until returns the end of the offline window; the zero time when offline
// grants are refused.
func (s syncState) until() time.Time {
	if s.SyncedAt.IsZero() || s.OfflineWindow <= 0 {
		return time.Time{}
	}
	return s.SyncedAt.Add(s.window())
}

// syncStore holds the syncState in memory and in its file.
type syncStore struct {
	path string

	mu    sync.Mutex
	state syncState
}

// openSyncStore reads the last sync state from dir; a missing file is a
// device that never synced. A malformed one is refused: it is the device's
// own file, and guessing would decide whether the door opens.
func openSyncStore(dir string) (*syncStore, error) {
	s := &syncStore{path: filepath.Join(dir, timeStateFile)}
	data, err := ReadPrivateFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &s.state); err != nil {
		return nil, fmt.Errorf("agent: %s: %w (remove it to forget the last sync; the door then refuses offline grants until it syncs)", timeStateFile, err)
	}
	if s.state.OfflineWindow < 0 || s.state.window() > wire.MaxOfflineWindow {
		return nil, fmt.Errorf("agent: %s: offline window out of range", timeStateFile)
	}
	return s, nil
}

// get returns the last sync state.
func (s *syncStore) get() syncState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// set records a successful sync, in memory at once and then on disk. A
// write that fails is returned (and the in-memory state still holds for
// this run): the sync itself succeeded.
func (s *syncStore) set(st syncState) error {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := durable.WriteFile(s.path, data, 0o600); err != nil {
		return fmt.Errorf("agent: keep the last time sync: %w", err)
	}
	return nil
}
