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

// NewMemoryReplay returns an empty in-memory replay guard.
func NewMemoryReplay() *MemoryReplay {
	return &MemoryReplay{now: time.Now, seen: make(map[string]time.Time)}
}

// Use records jti until the given time and reports whether it was unused.
// Entries past their time are forgotten.
func (m *MemoryReplay) Use(jti string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, t := range m.seen {
		if now.After(t) {
			delete(m.seen, k)
		}
	}
	if _, ok := m.seen[jti]; ok {
		return false, nil
	}
	m.seen[jti] = until
	return true, nil
}
