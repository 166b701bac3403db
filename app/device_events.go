package app

import (
	"context"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// DevicePrincipal is the caller a bus consumer acts as for an event that
// arrived on a device's own subject: the bus authenticated the device, and
// the subject names its door and itself.
func DevicePrincipal(doorID, deviceID string) *doorman.Principal {
	return &doorman.Principal{Role: doorman.RoleDevice, SubjectID: deviceID, DoorID: doorID}
}

// RecordEvent records one event of the calling device, once (by event ID),
// as that device's, into its building's audit chain, and moves its door's
// last-seen time on. An unlock_executed event also marks its grant used,
// when the grant is of the device's door and not marked yet (the access
// service marks it when the ack arrives; the event covers a lost mark).
// Returns EFORBIDDEN (not a device; a device revoked before the event, or
// bound to another door), ENOTFOUND (door or device) or EINVALID: the
// event is refused for good. Any other error is worth trying again.
func (s *Devices) RecordEvent(ctx context.Context, ev *wire.Event) error {
	p, err := require(ctx, devicesOnly)
	if err != nil {
		return err
	}
	if _, err := s.store.RecordDeviceEvent(ctx, &doorman.DeviceEvent{
		ID:       ev.ID,
		DeviceID: p.SubjectID,
		DoorID:   p.DoorID,
		Kind:     ev.Kind,
		At:       ev.At,
		GrantID:  ev.GrantID,
		Reason:   ev.Reason,
		Detail:   ev.Detail,
		// The device's state a heartbeat reports, shown in door status.
		ClockSynced:  ev.ClockSynced,
		StorageFault: ev.StorageFault,
	}); err != nil {
		return err
	}
	if ev.Kind == wire.EventUnlockExecuted && ev.GrantID != "" {
		return s.markGrantUsed(ctx, p.DoorID, ev)
	}
	return nil
}

// markGrantUsed takes the device's word that it executed a grant of its own
// door. A grant already marked (a redelivered event), unknown, or of another
// door is left alone.
func (s *Devices) markGrantUsed(ctx context.Context, doorID string, ev *wire.Event) error {
	g, err := s.store.Grant(ctx, ev.GrantID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND || (err == nil && g.DoorID != doorID) {
		s.logger.Warn("app: device reported a grant that is not its door's", "door", doorID, "grant", ev.GrantID)
		return nil
	} else if err != nil {
		return err
	}
	if err := s.store.MarkGrantUsed(ctx, g.ID, ev.At); doorman.ErrorCode(err) == doorman.EINTERNAL {
		return err
	}
	return nil
}
