package relay

import (
	"context"
	"time"
)

// Relay drives a door strike.
type Relay interface {
	// Pulse releases the strike for d and returns once it is released; the
	// strike locks again by itself after d. A pulse during a pulse extends
	// the release to d from now.
	Pulse(d time.Duration) error
	// Close locks the strike and releases the hardware.
	Close() error
}

// DoorSensor reports whether the door is open.
type DoorSensor interface {
	// Watch calls fn with the door's state at once and on every change,
	// until ctx ends or the sensor fails.
	Watch(ctx context.Context, fn func(open bool)) error
}

// TamperSensor reports whether the device's tamper switch has tripped: the
// enclosure was opened or the switch's wire was cut.
type TamperSensor interface {
	// WatchTamper calls fn with the switch's state at once and on every
	// change, until ctx ends or the sensor fails.
	WatchTamper(ctx context.Context, fn func(tripped bool)) error
}
