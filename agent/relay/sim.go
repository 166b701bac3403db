package relay

import (
	"context"
	"sync"
	"time"
)

// Sim is a simulated strike, door sensor and tamper switch. Tests and
// demos drive the door with SetOpen, trip the tamper switch with
// SetTampered and observe pulses; it is safe for concurrent use.
type Sim struct {
	mu       sync.Mutex
	pulses   int
	last     time.Duration
	lastAt   time.Time
	released bool
	open     bool
	tampered bool
	after    afterFunc
	timer    stopper
	gen      uint64        // counts pulses; only the latest one's end relocks
	changed  chan struct{} // closed and replaced on every change
}

var (
	_ Relay        = (*Sim)(nil)
	_ DoorSensor   = (*Sim)(nil)
	_ TamperSensor = (*Sim)(nil)
)

// NewSim returns a locked strike on a closed door, its tamper switch not
// tripped.
func NewSim() *Sim { return &Sim{changed: make(chan struct{}), after: timeAfterFunc} }

// Pulse releases the simulated strike for d. A pulse during a pulse
// extends the release to d from now: the earlier pulse's end, even if its
// timer already fired and waits for the lock, no longer relocks.
func (s *Sim) Pulse(d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pulses++
	s.last, s.lastAt, s.released = d, time.Now(), true
	if s.timer != nil {
		s.timer.Stop()
	}
	s.gen++
	gen := s.gen
	s.timer = s.after(d, func() { s.pulseEnded(gen) })
	s.notify()
	return nil
}

// pulseEnded relocks the strike if pulse gen is still the latest.
func (s *Sim) pulseEnded(gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return
	}
	s.released = false
	s.notify()
}

// Close locks the strike.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.gen++
	s.released = false
	s.notify()
	return nil
}

// Pulses returns how many pulses the relay has had.
func (s *Sim) Pulses() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pulses
}

// LastPulse returns the length and time of the last pulse.
func (s *Sim) LastPulse() (time.Duration, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, s.lastAt
}

// Released reports whether the strike is released now.
func (s *Sim) Released() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.released
}

// SetOpen opens or closes the simulated door.
func (s *Sim) SetOpen(open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != open {
		s.open = open
		s.notify()
	}
}

// Open reports whether the simulated door is open.
func (s *Sim) Open() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// WaitPulses blocks until the relay has had at least n pulses or ctx ends.
func (s *Sim) WaitPulses(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, ch := s.pulses, s.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// SetTampered trips (true) or restores (false) the simulated tamper
// switch, as opening and closing the device's enclosure would.
func (s *Sim) SetTampered(tripped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tampered != tripped {
		s.tampered = tripped
		s.notify()
	}
}

// Tampered reports whether the simulated tamper switch is tripped.
func (s *Sim) Tampered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tampered
}

// Watch reports the simulated door's state now and on every change.
func (s *Sim) Watch(ctx context.Context, fn func(open bool)) error {
	return s.watch(ctx, func() bool { return s.open }, fn)
}

// WatchTamper reports the simulated tamper switch now and on every change.
func (s *Sim) WatchTamper(ctx context.Context, fn func(tripped bool)) error {
	return s.watch(ctx, func() bool { return s.tampered }, fn)
}

// watch calls fn with read's value now and whenever it changes, until ctx
// ends; read runs with s.mu held.
func (s *Sim) watch(ctx context.Context, read func() bool, fn func(bool)) error {
	s.mu.Lock()
	state, ch := read(), s.changed
	s.mu.Unlock()
	fn(state)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
		}
		s.mu.Lock()
		now := read()
		ch = s.changed
		s.mu.Unlock()
		if now != state {
			state = now
			fn(state)
		}
	}
}

// notify wakes waiters; s.mu must be held.
func (s *Sim) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}
