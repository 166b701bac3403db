package wiegand

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/doorman-dev/doorman/agent/relay"
)

// Line is one of the two Wiegand data lines, D0 or D1, as the panel sees
// it: Set(true) leaves it at its idle high level, Set(false) pulls it low.
// A driver whose output stage inverts (an open-collector transistor)
// inverts in its Line, not here.
type Line interface {
	Set(high bool) error
}

// Sleeper waits for d. The transmitter's timing goes through it so that
// tests see every wait; RealSleeper is the one for hardware.
type Sleeper interface {
	Sleep(d time.Duration)
}

// Transmitter sends one configured credential's frame on D0 and D1. It
// implements relay.Relay: Pulse sends the frame once. It is safe for
// concurrent use; frames never overlap.
type Transmitter struct {
	cred     Credential
	frame    Frame
	pulse    time.Duration
	interval time.Duration
	d0, d1   Line
	sleep    Sleeper

	mu     sync.Mutex // held while a frame is on the wire
	closed bool
	frames int
}

var _ relay.Relay = (*Transmitter)(nil)

// NewTransmitter checks the configuration, encodes its frame and sets both
// lines idle (high). A nil sleep means RealSleeper.
func NewTransmitter(cfg Config, d0, d1 Line, sleep Sleeper) (*Transmitter, error) {
	cred, err := cfg.Credential()
	if err != nil {
		return nil, err
	}
	pulse, interval, err := cfg.Timing()
	if err != nil {
		return nil, err
	}
	frame, err := Encode(cred)
	if err != nil {
		return nil, err
	}
	if d0 == nil || d1 == nil {
		return nil, errors.New("wiegand: both D0 and D1 lines are required")
	}
	if sleep == nil {
		sleep = RealSleeper{}
	}
	t := &Transmitter{cred: cred, frame: frame, pulse: pulse, interval: interval, d0: d0, d1: d1, sleep: sleep}
	if err := t.idle(); err != nil {
		return nil, err
	}
	return t, nil
}

// Credential returns the credential the transmitter presents.
func (t *Transmitter) Credential() Credential { return t.cred }

// Frame returns a copy of the frame the transmitter sends.
func (t *Transmitter) Frame() Frame { return append(Frame(nil), t.frame...) }

// Frames returns how many whole frames have been sent.
func (t *Transmitter) Frames() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.frames
}

// Pulse presents the credential once: it sets both lines idle and holds
// them so for FrameGap, so that whatever came before (a previous frame, noise while
// the board booted) is over for the panel, then sends the frame, and
// returns when the last bit is on the wire. A Pulse while a frame is on
// the wire waits for it to end.
//
// d is not used: the panel, not Doorman, opens its door, for as long as
// its own configuration for this reader says (its unlock or strike time).
// The door's pulse setting has no effect with this driver.
//
// If a line fails, both lines are set idle and the error returned; the
// panel has then seen a frame too short, which it discards.
func (t *Transmitter) Pulse(d time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errors.New("wiegand: closed")
	}
	if err := t.idle(); err != nil {
		return err
	}
	t.sleep.Sleep(FrameGap)
	if err := t.send(); err != nil {
		_ = t.idle()
		return err
	}
	t.frames++
	return nil
}

// send puts the frame on the wire: for each bit, the line of its value (D0
// for 0, D1 for 1) is pulled low for the pulse width and released; the
// next pulse starts an interval after this one started.
func (t *Transmitter) send() error {
	// Keep the goroutine on one OS thread: a pulse is tens of
	// microseconds and a thread switch in the middle would stretch it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i, bit := range t.frame {
		line, name := t.d0, "D0"
		if bit {
			line, name = t.d1, "D1"
		}
		if err := line.Set(false); err != nil {
			return fmt.Errorf("wiegand: bit %d: pull %s low: %w", i, name, err)
		}
		t.sleep.Sleep(t.pulse)
		if err := line.Set(true); err != nil {
			return fmt.Errorf("wiegand: bit %d: release %s: %w", i, name, err)
		}
		if i < len(t.frame)-1 {
			t.sleep.Sleep(t.interval - t.pulse)
		}
	}
	return nil
}

// idle sets both lines high.
func (t *Transmitter) idle() error {
	err0 := t.d0.Set(true)
	err1 := t.d1.Set(true)
	if err := errors.Join(err0, err1); err != nil {
		return fmt.Errorf("wiegand: set lines idle: %w", err)
	}
	return nil
}

// Close waits for a frame on the wire to end, leaves both lines idle
// (high) and refuses every later Pulse.
func (t *Transmitter) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	return t.idle()
}

// RealSleeper waits on the monotonic clock. Waits under a millisecond (the
// pulse width) spin, because a sleeping goroutine can wake up hundreds of
// microseconds late, which would stretch a 50 µs pulse past what a panel
// accepts; longer waits sleep.
type RealSleeper struct{}

// Sleep waits for d.
func (RealSleeper) Sleep(d time.Duration) {
	if d >= time.Millisecond {
		time.Sleep(d)
		return
	}
	start := time.Now()
	for time.Since(start) < d {
	}
}
