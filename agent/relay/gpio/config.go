package gpio

import (
	"encoding/json"
	"fmt"
)

// Config says which GPIO lines drive the strike and read the door and the
// tamper switch. It is the "gpio" object of the device's hardware.json.
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
	// TamperLine is the line offset of the enclosure's tamper switch; -1
	// for none, which is also what a hardware.json without it means.
	TamperLine int `json:"tamper_line"`
	// TamperActiveLow reads the switch as tripped when the line is low.
	// The line is pulled up, so a switch held closed (to ground) by the
	// shut enclosure reads low while all is well and high once the
	// enclosure opens or the wire is cut: leave this false for that wiring.
	TamperActiveLow bool `json:"tamper_active_low"`
}

// UnmarshalJSON reads a Config whose absent tamper_line means no tamper
// switch, so that hardware.json files written before the tamper input
// existed keep their meaning.
func (c *Config) UnmarshalJSON(data []byte) error {
	type plain Config // without this method
	p := plain{TamperLine: -1}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*c = Config(p)
	return nil
}

// Validate returns an error for impossible settings.
func (c *Config) Validate() error {
	if c.Chip == "" {
		return fmt.Errorf("gpio: chip required (e.g. gpiochip0)")
	} else if c.RelayLine < 0 {
		return fmt.Errorf("gpio: relay_line must not be negative")
	} else if c.SensorLine < -1 || c.SensorLine == c.RelayLine {
		return fmt.Errorf("gpio: sensor_line must be -1 or another line than relay_line")
	} else if c.TamperLine < -1 || c.TamperLine == c.RelayLine || (c.TamperLine >= 0 && c.TamperLine == c.SensorLine) {
		return fmt.Errorf("gpio: tamper_line must be -1 or another line than relay_line and sensor_line")
	}
	return nil
}
