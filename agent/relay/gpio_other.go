//go:build !linux

package relay

import "fmt"

// OpenGPIO is only available on Linux.
func OpenGPIO(cfg GPIOConfig) (*GPIO, error) {
	return nil, fmt.Errorf("relay: GPIO needs Linux")
}
