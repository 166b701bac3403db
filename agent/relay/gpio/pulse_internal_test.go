package gpio

import (
	"sync"
	"testing"
	"time"

	periphgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
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

// TestDriver_PulseDuringPulse: the first pulse's end, firing after a
// second pulse started, does not cut the second short; the second's end
// relocks.
func TestDriver_PulseDuringPulse(t *testing.T) {
	pin := &gpiotest.Pin{N: "relay"}
	d, err := New(Config{Chip: "gpiochip0", SensorLine: -1}, Pins{Relay: pin})
	if err != nil {
		t.Fatal(err)
	}
	h := &handTimers{}
	d.after = h.after
	d.Pulse(time.Second)
	d.Pulse(time.Second)
	h.fire(0)
	if pin.Read() != periphgpio.High {
		t.Fatal("the first pulse's late end locked the strike during the second pulse")
	}
	h.fire(1)
	if pin.Read() != periphgpio.Low {
		t.Fatal("the second pulse's end did not lock the strike")
	}
	// After Close, no pending end can release or misreport anything.
	d.Pulse(time.Second)
	d.Close()
	h.fire(2)
	if pin.Read() != periphgpio.Low {
		t.Fatal("strike released after Close")
	}
}
