package wiegand

import (
	"fmt"
	"sync"
)

// Receiver rebuilds frames from the edges of D0 and D1, as a panel's reader
// input does: a falling edge on D0 is a 0 bit, a falling edge on D1 a 1
// bit, and both lines low at once is a fault. Tests use it as the panel
// at the other end of a loopback; it is also a diagnostic for a capture of
// the lines. It is safe for concurrent use.
type Receiver struct {
	mu    sync.Mutex
	high  [2]bool // D0, D1
	bits  Frame
	fault error
}

// NewReceiver returns a receiver that takes both lines to be idle (high).
func NewReceiver() *Receiver { return &Receiver{high: [2]bool{true, true}} }

// Edge records line D1 (d1 true) or D0 (d1 false) going to the given
// level. A level the line already had is no edge and is ignored.
func (r *Receiver) Edge(d1 bool, high bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, other := 0, 1
	if d1 {
		i, other = 1, 0
	}
	if r.high[i] == high {
		return
	}
	r.high[i] = high
	if high {
		return
	}
	if !r.high[other] && r.fault == nil {
		r.fault = fmt.Errorf("wiegand: D0 and D1 both low after %d bits", len(r.bits))
	}
	r.bits = append(r.bits, d1)
}

// Lines returns D0 and D1 ends that feed the receiver directly, for a
// transmitter wired straight to it.
func (r *Receiver) Lines() (d0, d1 Line) {
	return receiverLine{r, false}, receiverLine{r, true}
}

// Take returns the bits received since the last Take and forgets them, as
// a panel does when a frame ends; the error reports a fault seen on the
// lines meanwhile.
func (r *Receiver) Take() (Frame, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.bits, r.fault
	r.bits, r.fault = nil, nil
	return f, err
}

// Idle reports whether both lines are high.
func (r *Receiver) Idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.high[0] && r.high[1]
}

type receiverLine struct {
	r  *Receiver
	d1 bool
}

func (l receiverLine) Set(high bool) error {
	l.r.Edge(l.d1, high)
	return nil
}
