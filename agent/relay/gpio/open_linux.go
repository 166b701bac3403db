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
	if _, err := driverreg.Init(); err != nil {
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
	var sensor periphgpio.PinIn
	if cfg.SensorLine >= 0 {
		line := chip.ByNumber(cfg.SensorLine)
		if line == nil {
			return nil, fmt.Errorf("gpio: %s has no line %d", cfg.Chip, cfg.SensorLine)
		}
		sensor = line
	}
	return New(cfg, relayLine, sensor)
}
