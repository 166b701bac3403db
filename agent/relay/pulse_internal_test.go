package relay

import (
	"sync"
	"testing"
	"time"
)

// handTimers replaces time.AfterFunc: the test fires each pulse's end when
// it chooses.
type handTimers struct {
	mu   sync.Mutex
	ends []func()
}

func (h *handTimers) after(_ time.Duration, f func()) stopper {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ends = append(h.ends, f)
	return firedTimer{}
}

// fire runs the end of pulse i, as its timer would.
func (h *handTimers) fire(i int) {
	h.mu.Lock()
	f := h.ends[i]
	h.mu.Unlock()
	f()
}

// firedTimer is a timer that already fired: Stop cannot stop its function,
// which may be waiting for the driver's lock.
type firedTimer struct{}

func (firedTimer) Stop() bool { return false }

// TestSim_PulseDuringPulse: the first pulse's end, firing after a second
// pulse started, does not cut the second short; the second's end relocks.
func TestSim_PulseDuringPulse(t *testing.T) {
	s := NewSim()
	h := &handTimers{}
	s.after = h.after
	s.Pulse(time.Second)
	s.Pulse(time.Second)
	h.fire(0)
	if !s.Released() {
		t.Fatal("the first pulse's late end locked the strike during the second pulse")
	}
	h.fire(1)
	if s.Released() {
		t.Fatal("the second pulse's end did not lock the strike")
	}
}
