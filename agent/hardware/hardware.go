package hardware

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/agent/relay/gpio"
)

// Relay drivers.
const (
	DriverSim  = "sim"
	DriverGPIO = "gpio"
	// DriverWiegand presents a credential to the building's access-control
	// panel on Wiegand D0/D1 instead of driving a strike relay.
	DriverWiegand = "wiegand"
)

// Config selects and configures the relay driver: the contents of
// hardware.json (agent.HardwareFile).
type Config struct {
	Driver  string             `json:"driver"` // "sim" (default), "gpio" or "wiegand"
	GPIO    gpio.Config        `json:"gpio"`
	Wiegand gpio.WiegandConfig `json:"wiegand"`
}

// Driver is an opened relay driver: it drives the strike and reads the
// door sensor and the tamper switch (a driver configured without either
// never reports it).
type Driver interface {
	relay.Relay
	relay.DoorSensor
	relay.TamperSensor
}

// Open reads hardware.json in the data dir (sim when absent) and opens the
// relay, door sensor and tamper switch it describes.
func Open(dir string) (Driver, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	return cfg.Open()
}

// ReadConfig reads hardware.json in the data dir; when it is absent, the
// simulated driver is configured. The file, like every file of the data
// dir, must not be accessible to group or others.
func ReadConfig(dir string) (*Config, error) {
	cfg := &Config{Driver: DriverSim}
	data, err := agent.ReadPrivateFile(filepath.Join(dir, agent.HardwareFile))
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, cfg); err != nil {
		return nil, fmt.Errorf("hardware: %s: %w", agent.HardwareFile, err)
	}
	return cfg, nil
}

// Open opens the driver the configuration names and locks the strike (or,
// for wiegand, sets the data lines idle).
func (c *Config) Open() (Driver, error) {
	switch c.Driver {
	case DriverSim, "":
		return relay.NewSim(), nil
	case DriverGPIO:
		d, err := gpio.Open(c.GPIO)
		if err != nil {
			return nil, err // not a nil *gpio.Driver in a non-nil Driver
		}
		return d, nil
	case DriverWiegand:
		d, err := gpio.OpenWiegand(c.Wiegand)
		if err != nil {
			return nil, err // not a nil *gpio.Wiegand in a non-nil Driver
		}
		return d, nil
	}
	return nil, fmt.Errorf("hardware: %s: unknown driver %q (sim, gpio or wiegand)", agent.HardwareFile, c.Driver)
}
