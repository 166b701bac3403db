package natsbus

import (
	"context"
	"fmt"

	"github.com/doorman-dev/doorman"
)

// Reasons Ready gives for not being ready.
const (
	// ReasonBusDisconnected: the control plane's connection to the bus is
	// down (reconnecting) or closed; no command can be sent.
	ReasonBusDisconnected = "bus_disconnected"
)

// Ready reports whether a command can be sent and device events received:
// the control plane's connection to the bus is up. It returns EUNAVAILABLE with one of the reasons above, wrapping
// the detail for the log.
func (b *Bus) Ready(ctx context.Context) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed || b.nc == nil {
		return notReady(ReasonBusDisconnected, "Not ready: the bus is closed.", fmt.Errorf("closed"))
	}
	if !b.nc.IsConnected() {
		return notReady(ReasonBusDisconnected, "Not ready: the control plane is not connected to the bus.",
			fmt.Errorf("connection %s", b.nc.Status()))
	}
	return nil
}

// notReady returns an EUNAVAILABLE error safe to show, wrapping detail.
func notReady(reason, message string, detail error) error {
	return fmt.Errorf("%w: %w", &doorman.Error{Code: doorman.EUNAVAILABLE, Reason: reason, Message: message}, detail)
}
