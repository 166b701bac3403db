package gpio

import (
	"context"
	"fmt"
	"sync"
	"time"

	periphgpio "periph.io/x/conn/v3/gpio"

	"github.com/doorman-dev/doorman/agent/relay"
)

// Driver drives a strike relay and reads a door contact on GPIO lines.
type Driver struct {
	cfg    Config
	relay  periphgpio.PinOut
	sensor periphgpio.PinIn // nil without a sensor

	mu     sync.Mutex
	after  afterFunc
	timer  stopper
	gen    uint64 // counts pulses; only the latest one's end relocks
	closed bool
}

var (
	_ relay.Relay      = (*Driver)(nil)
	_ relay.DoorSensor = (*Driver)(nil)
)

// New returns a driver over the given pins (sensor may be nil) and locks
// the strike at once. Open finds the pins on Linux; tests pass periph's
// gpiotest pins.
func New(cfg Config, relayPin periphgpio.PinOut, sensorPin periphgpio.PinIn) (*Driver, error) {
	d := &Driver{cfg: cfg, relay: relayPin, sensor: sensorPin, after: timeAfterFunc}
	if err := d.relay.Out(d.level(false)); err != nil {
		return nil, fmt.Errorf("gpio: lock strike: %w", err)
	}
	if d.sensor != nil {
		if err := d.sensor.In(periphgpio.PullUp, periphgpio.BothEdges); err != nil {
			return nil, fmt.Errorf("gpio: door sensor: %w", err)
		}
	}
	return d, nil
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
	if d.sensor == nil {
		return nil
	}
	read := func() bool { return (d.sensor.Read() == periphgpio.Low) == d.cfg.SensorOpenLow }
	open := read()
	fn(open)
	for ctx.Err() == nil {
		if !d.sensor.WaitForEdge(250 * time.Millisecond) {
			continue
		}
		// Let a bouncing contact settle before reading it.
		time.Sleep(20 * time.Millisecond)
		if now := read(); now != open {
			open = now
			fn(open)
		}
	}
	return nil
}
