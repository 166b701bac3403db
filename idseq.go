package doorman

import (
	"bytes"
	"sync"
)

// IDSequence hands out IDs that sort strictly after every ID it handed out
// before, even when several are made within the same millisecond. NewID
// orders IDs only by millisecond; a store uses a sequence where the order
// of IDs must match the order of events, as for audit entries. The zero
// value is ready to use and safe for concurrent use.
type IDSequence struct {
	mu   sync.Mutex
	last [16]byte
}

// Next returns a new ID with the given prefix, as NewID does, but greater
// than the previous ID of this sequence: if the clock has not moved on (or
// went back), it is the previous ID plus one.
func (s *IDSequence) Next(prefix string) string {
	id := NewID(prefix)
	raw, err := idEncoding.DecodeString(id[len(prefix)+1:])
	if err != nil || len(raw) != 16 {
		panic("doorman: cannot decode a fresh ID")
	}
	var b [16]byte
	copy(b[:], raw)

	s.mu.Lock()
	defer s.mu.Unlock()
	if bytes.Compare(b[:], s.last[:]) <= 0 {
		b = s.last
		for i := len(b) - 1; i >= 0; i-- {
			b[i]++
			if b[i] != 0 {
				break
			}
		}
	}
	s.last = b
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}
