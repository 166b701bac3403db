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

// consumeEvents starts recording device events in the store, retrying
// until the consumer starts or ctx ends; the consumer then runs until ctx
// ends.
func (m *Main) consumeEvents(ctx context.Context) {
	for {
		err := m.Bus.ConsumeEvents(ctx, eventsConsumer, m.recordEvent)
		if err == nil || ctx.Err() != nil {
			return
		}
		m.Logger.Warn("device event consumer did not start; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// recordEvent stores one device event, once, as the event of the device
// whose subject it arrived on. An error makes the bus deliver the event
// again; events the store refuses for good (a device revoked before the
// event, a device of another door, an unknown door or device) are logged
// and dropped.
func (m *Main) recordEvent(ctx context.Context, doorID, deviceID string, ev *wire.Event) error {
	_, err := m.Store.RecordDeviceEvent(ctx, &doorman.DeviceEvent{
		ID:       ev.ID,
		DeviceID: deviceID,
		DoorID:   doorID,
		Kind:     ev.Kind,
		At:       ev.At,
		GrantID:  ev.GrantID,
		Reason:   ev.Reason,
		Detail:   ev.Detail,
	})
	if err == nil && ev.Kind == wire.EventUnlockExecuted && ev.GrantID != "" {
		if err := m.markGrantUsed(ctx, doorID, ev); err != nil {
			return err
		}
	}
	switch doorman.ErrorCode(err) {
	case "":
		return nil
	case doorman.ENOTFOUND, doorman.EFORBIDDEN, doorman.EINVALID:
		m.Logger.Warn("device event refused", "door", doorID, "device", deviceID, "event", ev.ID, "kind", ev.Kind, "err", doorman.ErrorMessage(err))
		return nil
	}
	return err
}

// markGrantUsed takes the device's word that it executed a grant of its own
// door. A grant already marked (a redelivered event), unknown, or of another
// door is left alone.
func (m *Main) markGrantUsed(ctx context.Context, doorID string, ev *wire.Event) error {
	g, err := m.Store.Grant(ctx, ev.GrantID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND || (err == nil && g.DoorID != doorID) {
		m.Logger.Warn("device reported a grant that is not its door's", "door", doorID, "grant", ev.GrantID)
		return nil
	} else if err != nil {
		return err
	}
	if err := m.Store.MarkGrantUsed(ctx, g.ID, ev.At); doorman.ErrorCode(err) == doorman.EINTERNAL {
		return err
	}
	return nil
}
