package gpio

import "fmt"

// Config says which GPIO lines drive the strike and read the door. It is
// the "gpio" object of the device's hardware.json.
type Config struct {
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
func (c *Config) Validate() error {
	if c.Chip == "" {
		return fmt.Errorf("gpio: chip required (e.g. gpiochip0)")
	} else if c.RelayLine < 0 {
		return fmt.Errorf("gpio: relay_line must not be negative")
	} else if c.SensorLine < -1 || c.SensorLine == c.RelayLine {
		return fmt.Errorf("gpio: sensor_line must be -1 or another line than relay_line")
	}
	return nil
}
