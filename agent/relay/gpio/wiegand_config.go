package gpio

import (
	"encoding/json"
	"fmt"

	"github.com/doorman-dev/doorman/agent/relay/wiegand"
)

// WiegandConfig says which GPIO lines carry Wiegand D0 and D1 to the
// building's access-control panel, which credential to present on them
// and how, and which lines read the door contact and the tamper switch.
// It is the "wiegand" object of the device's hardware.json.
type WiegandConfig struct {
	// Chip is the GPIO character device's name, e.g. "gpiochip0".
	Chip string `json:"chip"`
	// D0Line and D1Line are the line offsets wired (through the output
	// stage) to the panel reader input's D0 and D1; both required.
	D0Line int `json:"d0_line"`
	D1Line int `json:"d1_line"`
	// Inverted says an inverting output stage sits between the board and
	// the panel (an open-collector transistor or an inverting buffer): the
	// board then drives its line high to pull the panel's line low. False
	// for a direct or non-inverting level-shifted connection.
	Inverted bool `json:"inverted"`
	// The credential and the pulse timing: format, facility, card,
	// pulse_us and interval_us.
	wiegand.Config
	// SensorLine is the line offset of the door contact; -1 or absent for
	// none. SensorOpenLow as in Config.
	SensorLine    int  `json:"sensor_line"`
	SensorOpenLow bool `json:"sensor_open_low"`
	// TamperLine is the line offset of the enclosure's tamper switch; -1
	// or absent for none. TamperActiveLow as in Config.
	TamperLine      int  `json:"tamper_line"`
	TamperActiveLow bool `json:"tamper_active_low"`
}

// UnmarshalJSON reads a WiegandConfig in which an absent line means none
// (and is refused for D0 and D1), and an absent facility code or card
// number is refused rather than read as 0.
func (c *WiegandConfig) UnmarshalJSON(data []byte) error {
	type plain WiegandConfig // without this method
	p := plain{D0Line: -1, D1Line: -1, SensorLine: -1, TamperLine: -1}
	p.Facility, p.Card = -1, -1
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*c = WiegandConfig(p)
	return nil
}

// Validate returns an error for impossible settings: a missing chip or
// data line, two uses of one line, or a credential or timing the wiegand
// package refuses.
func (c *WiegandConfig) Validate() error {
	if c.Chip == "" {
		return fmt.Errorf("wiegand: chip required (e.g. gpiochip0)")
	}
	if c.D0Line < 0 || c.D1Line < 0 {
		return fmt.Errorf("wiegand: d0_line and d1_line required (line offsets, not negative)")
	}
	if c.D0Line == c.D1Line {
		return fmt.Errorf("wiegand: d0_line and d1_line are both line %d; D0 and D1 need a line each", c.D0Line)
	}
	used := map[int]string{c.D0Line: "d0_line", c.D1Line: "d1_line"}
	for _, in := range []struct {
		name string
		line int
	}{{"sensor_line", c.SensorLine}, {"tamper_line", c.TamperLine}} {
		if in.line < -1 {
			return fmt.Errorf("wiegand: %s must be -1 (none) or a line offset", in.name)
		}
		if in.line == -1 {
			continue
		}
		if other, ok := used[in.line]; ok {
			return fmt.Errorf("wiegand: %s is line %d, which %s uses already", in.name, in.line, other)
		}
		used[in.line] = in.name
	}
	return c.Config.Validate()
}
