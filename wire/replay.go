package wire

import (
	"sync"
	"time"
)

// MemoryReplay is a ReplayGuard that lives in memory only. It suits tests
// and callers that verify on the control plane side; a device needs a
// guard that survives restart (see the agent package).
type MemoryReplay struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[string]time.Time
}

var _ ReplayGuard = (*MemoryReplay)(nil)

// NewMemoryReplay returns an empty in-memory replay guard that forgets
// entries by the clock now (nil means time.Now). Give it the verifier's
// clock: the times it is handed are on that clock.
func NewMemoryReplay(now func() time.Time) *MemoryReplay {
	if now == nil {
		now = time.Now
	}
	return &MemoryReplay{now: now, seen: make(map[string]time.Time)}
}

// Use records jti until the given time and reports whether it was unused.
// Entries past their time are forgotten.
func (m *MemoryReplay) Use(jti string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, t := range m.seen {
		if !t.After(now) {
			delete(m.seen, k)
		}
	}
	if _, ok := m.seen[jti]; ok {
		return false, nil
	}
	m.seen[jti] = until
	return true, nil
}
