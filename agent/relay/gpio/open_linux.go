//go:build linux

package gpio

import (
	"fmt"

	"periph.io/x/conn/v3/driver/driverreg"
	periphgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/host/v3/gpioioctl"
)

// Open opens the configured lines on the Linux GPIO character device
// (/dev/gpiochipN) and locks the strike.
func Open(cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	chip, err := findChip(cfg.Chip)
	if err != nil {
		return nil, err
	}
	relayLine := chip.ByNumber(cfg.RelayLine)
	if relayLine == nil {
		return nil, fmt.Errorf("gpio: %s has no line %d", cfg.Chip, cfg.RelayLine)
	}
	pins := Pins{Relay: relayLine}
	if pins.Sensor, err = input(chip, cfg.Chip, cfg.SensorLine); err != nil {
		return nil, err
	}
	if pins.Tamper, err = input(chip, cfg.Chip, cfg.TamperLine); err != nil {
		return nil, err
	}
	return New(cfg, pins)
}

// OpenWiegand opens the configured lines on the Linux GPIO character
// device (/dev/gpiochipN) and sets D0 and D1 idle.
func OpenWiegand(cfg WiegandConfig) (*Wiegand, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	chip, err := findChip(cfg.Chip)
	if err != nil {
		return nil, err
	}
	var pins WiegandPins
	for _, out := range []struct {
		pin  *periphgpio.PinOut
		line int
	}{{&pins.D0, cfg.D0Line}, {&pins.D1, cfg.D1Line}} {
		l := chip.ByNumber(out.line)
		if l == nil {
			return nil, fmt.Errorf("wiegand: %s has no line %d", cfg.Chip, out.line)
		}
		*out.pin = l
	}
	if pins.Sensor, err = input(chip, cfg.Chip, cfg.SensorLine); err != nil {
		return nil, err
	}
	if pins.Tamper, err = input(chip, cfg.Chip, cfg.TamperLine); err != nil {
		return nil, err
	}
	return NewWiegand(cfg, pins, nil)
}

// findChip returns the GPIO chip of that name ("gpiochip0") or path
// ("/dev/gpiochip0").
func findChip(name string) (*gpioioctl.GPIOChip, error) {
	if _, err := driverreg.Init(); err != nil {
		return nil, fmt.Errorf("gpio: drivers: %w", err)
	}
	var chip *gpioioctl.GPIOChip
	for _, c := range gpioioctl.Chips {
		if c.Name() == name || c.Path() == name {
			chip = c
		}
	}
	if chip == nil {
		return nil, fmt.Errorf("gpio: no GPIO chip %q", name)
	}
	return chip, nil
}

// input returns the chip's line n as an input, or nil for n = -1.
func input(chip *gpioioctl.GPIOChip, name string, n int) (periphgpio.PinIn, error) {
	if n < 0 {
		return nil, nil
	}
	line := chip.ByNumber(n)
	if line == nil {
		return nil, fmt.Errorf("gpio: %s has no line %d", name, n)
	}
	return line, nil
}
