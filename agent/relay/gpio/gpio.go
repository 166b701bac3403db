package gpio

import (
	"context"
	"fmt"
	"sync"
	"time"

	periphgpio "periph.io/x/conn/v3/gpio"

	"github.com/doorman-dev/doorman/agent/relay"
)

// Driver drives a strike relay and reads a door contact and a tamper
// switch on GPIO lines.
type Driver struct {
	cfg    Config
	relay  periphgpio.PinOut
	sensor periphgpio.PinIn // nil without a door contact
	tamper periphgpio.PinIn // nil without a tamper switch

	mu     sync.Mutex
	after  afterFunc
	timer  stopper
	gen    uint64 // counts pulses; only the latest one's end relocks
	closed bool
}

var (
	_ relay.Relay        = (*Driver)(nil)
	_ relay.DoorSensor   = (*Driver)(nil)
	_ relay.TamperSensor = (*Driver)(nil)
)

// Pins are the lines a Driver works: Relay is required; Sensor (the door
// contact) and Tamper (the enclosure's tamper switch) may be nil.
type Pins struct {
	Relay  periphgpio.PinOut
	Sensor periphgpio.PinIn
	Tamper periphgpio.PinIn
}

// New returns a driver over the given pins and locks the strike at once.
// Open finds the pins on Linux; tests pass periph's gpiotest pins.
func New(cfg Config, pins Pins) (*Driver, error) {
	d := &Driver{cfg: cfg, relay: pins.Relay, sensor: pins.Sensor, tamper: pins.Tamper, after: timeAfterFunc}
	if err := d.relay.Out(d.level(false)); err != nil {
		return nil, fmt.Errorf("gpio: lock strike: %w", err)
	}
	if err := setInputs(d.sensor, d.tamper); err != nil {
		return nil, err
	}
	return d, nil
}

// setInputs makes the door sensor and tamper switch lines (either may be
// nil) pulled-up inputs that report both edges.
func setInputs(sensor, tamper periphgpio.PinIn) error {
	for _, in := range []struct {
		pin  periphgpio.PinIn
		what string
	}{{sensor, "door sensor"}, {tamper, "tamper switch"}} {
		if in.pin == nil {
			continue
		}
		if err := in.pin.In(periphgpio.PullUp, periphgpio.BothEdges); err != nil {
			return fmt.Errorf("gpio: %s: %w", in.what, err)
		}
	}
	return nil
}

// level is the relay line level for released or locked.
func (d *Driver) level(released bool) periphgpio.Level {
	return periphgpio.Level(released != d.cfg.RelayActiveLow)
}

// Pulse drives the relay to release for dur, then back. A pulse during a
// pulse extends the release to dur from now: the earlier pulse's end, even
// if its timer already fired and waits for the lock, no longer relocks.
func (d *Driver) Pulse(dur time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("gpio: closed")
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	if err := d.relay.Out(d.level(true)); err != nil {
		_ = d.relay.Out(d.level(false))
		return fmt.Errorf("gpio: release strike: %w", err)
	}
	d.gen++
	gen := d.gen
	d.timer = d.after(dur, func() { d.pulseEnded(gen) })
	return nil
}

// pulseEnded locks the strike if pulse gen is still the latest.
func (d *Driver) pulseEnded(gen uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if gen != d.gen {
		return
	}
	_ = d.relay.Out(d.level(false))
}

// Close locks the strike.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
	}
	return d.relay.Out(d.level(false))
}

// Watch reports the door contact now and on every edge. Without a sensor it
// returns at once.
func (d *Driver) Watch(ctx context.Context, fn func(open bool)) error {
	return watchLine(ctx, d.sensor, d.cfg.SensorOpenLow, fn)
}

// WatchTamper reports the tamper switch now and on every edge. Without a
// tamper switch it returns at once.
func (d *Driver) WatchTamper(ctx context.Context, fn func(tripped bool)) error {
	return watchLine(ctx, d.tamper, d.cfg.TamperActiveLow, fn)
}

// watchLine calls fn with whether the input line is active (low if
// activeLow, else high) now and after every edge that changed it, until
// ctx ends. A nil pin has nothing to report.
func watchLine(ctx context.Context, pin periphgpio.PinIn, activeLow bool, fn func(active bool)) error {
	if pin == nil {
		return nil
	}
	read := func() bool { return (pin.Read() == periphgpio.Low) == activeLow }
	active := read()
	fn(active)
	for ctx.Err() == nil {
		if !pin.WaitForEdge(250 * time.Millisecond) {
			continue
		}
		// Let a bouncing contact settle before reading it.
		time.Sleep(20 * time.Millisecond)
		if now := read(); now != active {
			active = now
			fn(active)
		}
	}
	return nil
}
