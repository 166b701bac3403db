//go:build !linux

package gpio

import "fmt"

// Open is only available on Linux.
func Open(cfg Config) (*Driver, error) {
	return nil, fmt.Errorf("gpio: GPIO needs Linux")
}

// OpenWiegand is only available on Linux.
func OpenWiegand(cfg WiegandConfig) (*Wiegand, error) {
	return nil, fmt.Errorf("wiegand: GPIO needs Linux")
}
