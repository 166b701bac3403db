package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/doorman-dev/doorman/agent/relay"
)

// Relay drivers.
const (
	DriverSim  = "sim"
	DriverGPIO = "gpio"
)

// Hardware selects and configures the relay driver (hardware.json).
type Hardware struct {
	Driver string           `json:"driver"` // "sim" (default) or "gpio"
	GPIO   relay.GPIOConfig `json:"gpio"`
}

// OpenHardware reads hardware.json in dir (sim when absent) and opens the
// relay and door sensor it describes.
func OpenHardware(dir string) (relay.Relay, relay.DoorSensor, error) {
	data, err := readPrivateFile(filepath.Join(dir, HardwareFile))
	hw := Hardware{Driver: DriverSim}
	if err == nil {
		if err := json.Unmarshal(data, &hw); err != nil {
			return nil, nil, fmt.Errorf("agent: %s: %w", HardwareFile, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	switch hw.Driver {
	case DriverSim, "":
		s := relay.NewSim()
		return s, s, nil
	case DriverGPIO:
		g, err := relay.OpenGPIO(hw.GPIO)
		if err != nil {
			return nil, nil, err
		}
		return g, g, nil
	}
	return nil, nil, fmt.Errorf("agent: %s: unknown driver %q (sim or gpio)", HardwareFile, hw.Driver)
}
