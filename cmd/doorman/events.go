package main

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// eventsConsumer is the durable JetStream consumer the control plane reads
// device events with; all nodes share it, so each event is handled once.
const eventsConsumer = "doorman-control-plane"

// consumeEvents records device events in the store until ctx ends,
// reconnecting the consumer if it fails.
func (m *Main) consumeEvents(ctx context.Context) {
	for ctx.Err() == nil {
		err := m.Bus.ConsumeEvents(ctx, eventsConsumer, m.recordEvent)
		if ctx.Err() != nil {
			return
		}
		m.Logger.Warn("device event consumer stopped; restarting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// recordEvent stores one device event, once. An error makes the bus
// deliver the event again; events the store refuses for good (a revoked
// device, an unknown door) are logged and dropped.
func (m *Main) recordEvent(ctx context.Context, doorID string, ev *wire.Event) error {
	_, err := m.Store.RecordDeviceEvent(ctx, &doorman.DeviceEvent{
		ID:      ev.ID,
		DoorID:  doorID,
		Kind:    ev.Kind,
		At:      ev.At,
		GrantID: ev.GrantID,
		Reason:  ev.Reason,
		Detail:  ev.Detail,
	})
	switch doorman.ErrorCode(err) {
	case "":
		return nil
	case doorman.ENOTFOUND, doorman.EFORBIDDEN, doorman.EINVALID:
		m.Logger.Warn("device event refused", "door", doorID, "event", ev.ID, "kind", ev.Kind, "err", doorman.ErrorMessage(err))
		return nil
	}
	return err
}
