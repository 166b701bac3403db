package relay

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// GPIOConfig says which GPIO lines drive the strike and read the door.
type GPIOConfig struct {
	// Chip is the GPIO character device's name, e.g. "gpiochip0".
	Chip string `json:"chip"`
	// RelayLine is the line offset driving the relay.
	RelayLine int `json:"relay_line"`
	// RelayActiveLow releases the strike by driving the line low (most
	// relay boards with optocouplers).
	RelayActiveLow bool `json:"relay_active_low"`
	// SensorLine is the line offset of the door contact; -1 for none.
	SensorLine int `json:"sensor_line"`
	// SensorOpenLow reads the door as open when the line is low. The line
	// is pulled up, so a contact closed while the door is shut (to ground)
	// reads low when shut: leave this false for that common wiring.
	SensorOpenLow bool `json:"sensor_open_low"`
}

// Validate returns an error for impossible settings.
func (c *GPIOConfig) Validate() error {
	if c.Chip == "" {
		return fmt.Errorf("relay: gpio chip required (e.g. gpiochip0)")
	} else if c.RelayLine < 0 {
		return fmt.Errorf("relay: relay_line must not be negative")
	} else if c.SensorLine < -1 || c.SensorLine == c.RelayLine {
		return fmt.Errorf("relay: sensor_line must be -1 or another line than relay_line")
	}
	return nil
}

// GPIO drives a strike relay and reads a door contact on GPIO lines.
type GPIO struct {
	cfg    GPIOConfig
	relay  gpio.PinOut
	sensor gpio.PinIn // nil without a sensor

	mu     sync.Mutex
	after  afterFunc
	timer  stopper
	gen    uint64 // counts pulses; only the latest one's end relocks
	closed bool
}

var (
	_ Relay      = (*GPIO)(nil)
	_ DoorSensor = (*GPIO)(nil)
)

// NewGPIO returns a driver over the given pins (sensor may be nil) and
// locks the strike at once. OpenGPIO finds the pins on Linux; tests pass
// periph's gpiotest pins.
func NewGPIO(cfg GPIOConfig, relayPin gpio.PinOut, sensorPin gpio.PinIn) (*GPIO, error) {
	g := &GPIO{cfg: cfg, relay: relayPin, sensor: sensorPin, after: timeAfterFunc}
	if err := g.relay.Out(g.level(false)); err != nil {
		return nil, fmt.Errorf("relay: lock strike: %w", err)
	}
	if g.sensor != nil {
		if err := g.sensor.In(gpio.PullUp, gpio.BothEdges); err != nil {
			return nil, fmt.Errorf("relay: door sensor: %w", err)
		}
	}
	return g, nil
}

// level is the relay line level for released or locked.
func (g *GPIO) level(released bool) gpio.Level {
	return gpio.Level(released != g.cfg.RelayActiveLow)
}

// Pulse drives the relay to release for d, then back. A pulse during a
// pulse extends the release to d from now: the earlier pulse's end, even if
// its timer already fired and waits for the lock, no longer relocks.
func (g *GPIO) Pulse(d time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return fmt.Errorf("relay: closed")
	}
	if g.timer != nil {
		g.timer.Stop()
	}
	if err := g.relay.Out(g.level(true)); err != nil {
		_ = g.relay.Out(g.level(false))
		return fmt.Errorf("relay: release strike: %w", err)
	}
	g.gen++
	gen := g.gen
	g.timer = g.after(d, func() { g.pulseEnded(gen) })
	return nil
}

// pulseEnded locks the strike if pulse gen is still the latest.
func (g *GPIO) pulseEnded(gen uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gen != g.gen {
		return
	}
	_ = g.relay.Out(g.level(false))
}

// Close locks the strike.
func (g *GPIO) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	g.gen++
	if g.timer != nil {
		g.timer.Stop()
	}
	return g.relay.Out(g.level(false))
}

// Watch reports the door contact now and on every edge. Without a sensor it
// returns at once.
func (g *GPIO) Watch(ctx context.Context, fn func(open bool)) error {
	if g.sensor == nil {
		return nil
	}
	read := func() bool { return (g.sensor.Read() == gpio.Low) == g.cfg.SensorOpenLow }
	open := read()
	fn(open)
	for ctx.Err() == nil {
		if !g.sensor.WaitForEdge(250 * time.Millisecond) {
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
