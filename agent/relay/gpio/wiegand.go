package gpio

import (
	"context"
	"fmt"

	periphgpio "periph.io/x/conn/v3/gpio"

	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/agent/relay/wiegand"
)

// Wiegand presents Doorman's credential to the building's access-control
// panel on two GPIO lines, as a card reader would, and reads a door
// contact and a tamper switch like Driver. Pulse sends the frame once (see
// wiegand.Transmitter.Pulse); Close leaves both lines idle.
type Wiegand struct {
	*wiegand.Transmitter
	cfg    WiegandConfig
	sensor periphgpio.PinIn // nil without a door contact
	tamper periphgpio.PinIn // nil without a tamper switch
}

var (
	_ relay.Relay        = (*Wiegand)(nil)
	_ relay.DoorSensor   = (*Wiegand)(nil)
	_ relay.TamperSensor = (*Wiegand)(nil)
)

// WiegandPins are the lines a Wiegand driver works: D0 and D1 are
// required; Sensor and Tamper may be nil.
type WiegandPins struct {
	D0, D1 periphgpio.PinOut
	Sensor periphgpio.PinIn
	Tamper periphgpio.PinIn
}

// NewWiegand checks the configuration, sets D0 and D1 idle at once and
// returns the driver. OpenWiegand finds the pins on Linux; tests pass
// periph's gpiotest pins. A nil sleep means wiegand.RealSleeper.
func NewWiegand(cfg WiegandConfig, pins WiegandPins, sleep wiegand.Sleeper) (*Wiegand, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if pins.D0 == nil || pins.D1 == nil {
		return nil, fmt.Errorf("wiegand: both D0 and D1 pins are required")
	}
	tx, err := wiegand.NewTransmitter(cfg.Config, outLine{pins.D0, cfg.Inverted}, outLine{pins.D1, cfg.Inverted}, sleep)
	if err != nil {
		return nil, err
	}
	if err := setInputs(pins.Sensor, pins.Tamper); err != nil {
		_ = tx.Close()
		return nil, err
	}
	return &Wiegand{Transmitter: tx, cfg: cfg, sensor: pins.Sensor, tamper: pins.Tamper}, nil
}

// Watch reports the door contact now and on every edge. Without a sensor it
// returns at once.
func (w *Wiegand) Watch(ctx context.Context, fn func(open bool)) error {
	return watchLine(ctx, w.sensor, w.cfg.SensorOpenLow, fn)
}

// WatchTamper reports the tamper switch now and on every edge. Without a
// tamper switch it returns at once.
func (w *Wiegand) WatchTamper(ctx context.Context, fn func(tripped bool)) error {
	return watchLine(ctx, w.tamper, w.cfg.TamperActiveLow, fn)
}

// outLine is a GPIO output as a Wiegand line: the level the panel sees,
// through an inverting output stage if there is one.
type outLine struct {
	pin      periphgpio.PinOut
	inverted bool
}

func (l outLine) Set(high bool) error {
	return l.pin.Out(periphgpio.Level(high != l.inverted))
}
