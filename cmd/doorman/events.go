package main

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/wire"
)

// eventsGroup is the queue group the control plane receives device events
// in; all nodes share it, so each event goes to one of them.
const eventsGroup = "doorman-control-plane"

// consumeEvents starts recording device events in the store, retrying
// until the event service starts or ctx ends; it then runs until ctx
// ends.
func (m *Main) consumeEvents(ctx context.Context) {
	for {
		err := m.Bus.ConsumeEvents(ctx, eventsGroup, m.recordEvent)
		if err == nil || ctx.Err() != nil {
			return
		}
		m.Logger.Warn("device event service did not start; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// recordEvent hands one device event to the devices service, as the
// device whose subject it arrived on. An error has the device send the
// event again; events the service refuses for good (EFORBIDDEN, ENOTFOUND,
// EINVALID) are logged and acknowledged.
func (m *Main) recordEvent(ctx context.Context, doorID, deviceID string, ev *wire.Event) error {
	if m.deviceEvents != nil {
		kind := ev.Kind
		if !wire.ValidEventKind(kind) {
			kind = "other"
		}
		m.deviceEvents.WithLabelValues(kind).Inc()
	}
	ctx = doorman.NewContextWithPrincipal(ctx, app.DevicePrincipal(doorID, deviceID))
	err := m.App.Devices.RecordEvent(ctx, ev)
	switch doorman.ErrorCode(err) {
	case "":
		return nil
	case doorman.ENOTFOUND, doorman.EFORBIDDEN, doorman.EINVALID:
		m.Logger.Warn("device event refused", "door", doorID, "device", deviceID, "event", ev.ID, "kind", ev.Kind, "err", doorman.ErrorMessage(err))
		return nil
	}
	return err
}

// pruneEvery is how often serve forgets device events past their
// retention (doorman.DeviceEventRetention).
const pruneEvery = time.Hour

// sweepEventCounts chains, every minute until ctx ends, the counts of
// device event floods in buildings that went silent after them (the
// building's next event chains them otherwise), and every pruneEvery
// forgets device events past their retention.
func (m *Main) sweepEventCounts(ctx context.Context) {
	t := time.NewTicker(doorman.DeviceEventWindow)
	defer t.Stop()
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(pruned) >= pruneEvery {
			pruned = time.Now()
			if n, err := m.App.Devices.PruneEvents(systemContext(ctx)); err != nil && ctx.Err() == nil {
				m.Logger.Warn("pruning device events", "err", err)
			} else if n > 0 {
				m.Logger.Info("forgot device events past their retention", "events", n)
			}
		}
		if n, err := m.App.Devices.ChainEventCounts(systemContext(ctx)); err != nil && ctx.Err() == nil {
			m.Logger.Warn("chaining device event counts", "err", err)
		} else if n > 0 {
			m.Logger.Info("chained device event counts of silent buildings", "counts", n)
		}
	}
}
