package wiegand

import (
	"fmt"
	"time"
)

// Timing defaults: the common Wiegand convention.
const (
	DefaultPulseWidth = 50 * time.Microsecond
	DefaultInterval   = 2 * time.Millisecond
)

// Timing bounds. Readers and panels accept pulses of 20 µs to 100 µs or
// more and intervals from a few hundred microseconds to 20 ms; a panel
// ends a frame after some 20 ms to 50 ms without a pulse, so intervals are
// kept well below that.
const (
	MinPulseWidth = 20 * time.Microsecond
	MaxPulseWidth = 200 * time.Microsecond
	MinInterval   = 200 * time.Microsecond
	MaxInterval   = 10 * time.Millisecond
)

// FrameGap is how long the lines stay idle after a frame before another
// frame may start: long enough for every panel to have taken the first
// frame as complete.
const FrameGap = 100 * time.Millisecond

// Config is the credential to present and the pulse timing: the part of
// the "wiegand" object of hardware.json that is not about GPIO lines.
type Config struct {
	// Format is 26 (H10301) or 34.
	Format Format `json:"format"`
	// Facility is the facility (site) code the panel has enrolled for
	// Doorman: 0 to 255 for 26-bit, 0 to 65535 for 34-bit. A negative
	// value means none was given and is refused.
	Facility int64 `json:"facility"`
	// Card is the card number the panel has enrolled for Doorman: 0 to
	// 65535. A negative value means none was given and is refused.
	Card int64 `json:"card"`
	// PulseMicros is how long each bit's pulse holds its line low, in
	// microseconds: 20 to 200; 0 means 50.
	PulseMicros int `json:"pulse_us,omitempty"`
	// IntervalMicros is the time from the start of one bit's pulse to the
	// start of the next, in microseconds: 200 to 10000, and at least four
	// pulse widths; 0 means 2000.
	IntervalMicros int `json:"interval_us,omitempty"`
}

// Credential returns the configured credential, or an error saying what
// is missing or out of range.
func (c Config) Credential() (Credential, error) {
	if _, err := c.Format.layout(); err != nil {
		if c.Format == 0 {
			return Credential{}, fmt.Errorf("wiegand: format required (26 or 34)")
		}
		return Credential{}, err
	}
	if c.Facility < 0 {
		return Credential{}, fmt.Errorf("wiegand: facility code required (0 to %d for %d-bit)", c.Format.MaxFacility(), int(c.Format))
	}
	if c.Card < 0 {
		return Credential{}, fmt.Errorf("wiegand: card number required (0 to %d for %d-bit)", c.Format.MaxCard(), int(c.Format))
	}
	if c.Facility > int64(c.Format.MaxFacility()) {
		return Credential{}, fmt.Errorf("wiegand: facility code %d out of range for %d-bit (0 to %d)", c.Facility, int(c.Format), c.Format.MaxFacility())
	}
	if c.Card > int64(c.Format.MaxCard()) {
		return Credential{}, fmt.Errorf("wiegand: card number %d out of range for %d-bit (0 to %d)", c.Card, int(c.Format), c.Format.MaxCard())
	}
	cred := Credential{Format: c.Format, Facility: uint32(c.Facility), Card: uint32(c.Card)}
	return cred, cred.Validate()
}

// Timing returns the pulse width and interval, defaults filled in, or an
// error for timings out of bounds.
func (c Config) Timing() (pulse, interval time.Duration, err error) {
	pulse, interval = DefaultPulseWidth, DefaultInterval
	if c.PulseMicros != 0 {
		pulse = time.Duration(c.PulseMicros) * time.Microsecond
	}
	if c.IntervalMicros != 0 {
		interval = time.Duration(c.IntervalMicros) * time.Microsecond
	}
	if pulse < MinPulseWidth || pulse > MaxPulseWidth {
		return 0, 0, fmt.Errorf("wiegand: pulse_us %d out of range (%d to %d)", c.PulseMicros, MinPulseWidth.Microseconds(), MaxPulseWidth.Microseconds())
	}
	if interval < MinInterval || interval > MaxInterval {
		return 0, 0, fmt.Errorf("wiegand: interval_us %d out of range (%d to %d)", c.IntervalMicros, MinInterval.Microseconds(), MaxInterval.Microseconds())
	}
	if interval < 4*pulse {
		return 0, 0, fmt.Errorf("wiegand: interval_us %d must be at least four pulse widths (%d)", interval.Microseconds(), 4*pulse.Microseconds())
	}
	return pulse, interval, nil
}

// Validate returns an error for a missing or out-of-range credential or
// timing.
func (c Config) Validate() error {
	if _, err := c.Credential(); err != nil {
		return err
	}
	_, _, err := c.Timing()
	return err
}
