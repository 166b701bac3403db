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
	_, err := driverreg.Init()
	if err != nil {
		return nil, fmt.Errorf("gpio: drivers: %w", err)
	}
	var chip *gpioioctl.GPIOChip
	for _, c := range gpioioctl.Chips {
		if c.Name() == cfg.Chip || c.Path() == cfg.Chip {
			chip = c
		}
	}
	if chip == nil {
		return nil, fmt.Errorf("gpio: no GPIO chip %q", cfg.Chip)
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
