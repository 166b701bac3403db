package app

import (
	"context"
	"strings"
	"sync"
	"time"

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
// last-seen time on. An unlock_executed event of a grant of the device's
// door is the grant's use: the store chains it once, as grant.used, with
// the ack's mark (see access.Service) or, when the ack was lost, by itself.
// Before anything is recorded, the event must be signed by the device the
// caller names, with the key it registered at enrollment (wire.Event.Sign):
// the bus authenticates connections, not messages, so a second connection
// with a door's credentials could otherwise write the door's history.
// Unsigned events are refused too: agents and control plane ship together.
// The store then applies the device's event rate limit (beyond
// doorman.DeviceEventBurst events of a kind per doorman.DeviceEventWindow,
// events are kept and counted, and the count is chained once) and
// replaces a time it cannot believe by the time of receipt, keeping the
// device's claim (see doorman.DeviceStore.RecordDeviceEvent).
// Returns EFORBIDDEN (not a device; not signed by it; a device revoked
// before the event, or bound to another door), ENOTFOUND (door or device)
// or EINVALID: the event is refused for good. Any other error is worth
// trying again.
func (s *Devices) RecordEvent(ctx context.Context, ev *wire.Event) error {
	p, err := require(ctx, devicesOnly)
	if err != nil {
		return err
	}
	if err := s.verifyEvent(ctx, p.SubjectID, ev); err != nil {
		return err
	}
	root, err := wire.DecodeAuditRoot(ev.AuditRoot)
	if err != nil {
		return err
	}
	synced, until := syncReport(ev.ClockSyncedAt, ev.OfflineUntil, s.now())
	detail := ev.Detail
	if ev.Offline && ev.Kind == wire.EventUnlockExecuted {
		// The chain says the door opened for an offline grant, not a
		// command from the bus.
		detail = strings.TrimSpace("offline grant " + ev.JTI + " shown to the door's reader. " + detail)
		if len(detail) > maxOfflineDetail {
			detail = detail[:maxOfflineDetail]
		}
	}
	recorded, err := s.store.RecordDeviceEvent(ctx, &doorman.DeviceEvent{
		ID:       ev.ID,
		DeviceID: p.SubjectID,
		DoorID:   p.DoorID,
		Kind:     ev.Kind,
		At:       ev.At,
		GrantID:  ev.GrantID,
		Reason:   ev.Reason,
		Detail:   detail,
		// What an offline grant's token carried, checked below.
		Offline:       ev.Offline,
		JTI:           ev.JTI,
		CourierID:     ev.CourierID,
		ParcelsDigest: ev.Parcels,
		// The device's state a heartbeat reports, shown in door status.
		ClockSynced:   ev.ClockSynced,
		StorageFault:  ev.StorageFault,
		ClockSyncedAt: synced,
		OfflineUntil:  until,
		AuditWitness:  ev.AuditWitness,
		AuditSize:     ev.AuditSize,
		AuditRoot:     root,
	})
	if err != nil {
		return err
	}
	if ev.Kind == wire.EventHeartbeat && ev.AuditWitness && recorded {
		s.sendCheckpoint(ctx, p.DoorID, ev.AuditSize, ev.At)
	}
	if ev.Kind == wire.EventHeartbeat {
		s.commandKeys.CatchUp(p.DoorID, ev.KeySeq)
	}
	if ev.Kind == wire.EventUnlockExecuted && ev.Offline {
		if !recorded {
			return nil // told before: checked then
		}
		return s.offlineUsed(ctx, p.DoorID, ev)
	}
	return nil
}

// ChainEventCounts chains the counts of device event floods whose window
// has closed in buildings that have gone silent since (Doorman itself
// calls it, periodically). Returns how many counts it chained.
func (s *Devices) ChainEventCounts(ctx context.Context) (int, error) {
	if p := caller(ctx); p.Role != doorman.RoleSystem {
		return 0, doorman.Errorf(doorman.EFORBIDDEN, "Only Doorman itself sweeps event counts.")
	}
	return s.store.ChainEventCounts(ctx)
}

// pruneBatch is how many device events PruneEvents forgets per write, so
// that pruning a backlog never holds the writer for long.
const pruneBatch = 1000

// PruneEvents forgets the device events recorded more than
// doorman.DeviceEventRetention ago whose audit entries are written (the
// entries stay; see doorman.DeviceEventRetention), in batches, until none
// is left or ctx ends (Doorman itself calls it, periodically). Returns how
// many it forgot.
func (s *Devices) PruneEvents(ctx context.Context) (int, error) {
	if p := caller(ctx); p.Role != doorman.RoleSystem {
		return 0, doorman.Errorf(doorman.EFORBIDDEN, "Only Doorman itself prunes device events.")
	}
	before := s.now().Add(-doorman.DeviceEventRetention)
	total := 0
	for ctx.Err() == nil {
		n, err := s.store.PruneDeviceEvents(ctx, before, pruneBatch)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}

// verifyEvent checks that ev is signed by the device deviceID with its
// registered key. Returns ENOTFOUND (device) or EFORBIDDEN.
func (s *Devices) verifyEvent(ctx context.Context, deviceID string, ev *wire.Event) error {
	pub, err := s.deviceKey(ctx, deviceID)
	if err != nil {
		return err
	}
	if err := ev.Verify(deviceID, pub); err != nil {
		s.logger.Warn("app: device event not signed by its device; refused", "device", deviceID, "door", ev.DoorID, "event", ev.ID, "kind", ev.Kind, "err", doorman.ErrorMessage(err))
		return doorman.Errorf(doorman.EFORBIDDEN, "The event is not signed by the device that reports it.")
	}
	return nil
}

// syncReport is what a heartbeat's time-sync report is taken for: a sync
// claimed ahead of now (beyond the event skew) or an offline window longer
// than the protocol allows cannot be true, so such a report counts as no
// sync rather than showing a door as fresher than it is.
func syncReport(synced, until, now time.Time) (time.Time, time.Time) {
	if synced.IsZero() || synced.After(now.Add(doorman.DeviceEventMaxSkew)) {
		return time.Time{}, time.Time{}
	}
	if until.Before(synced) || until.Sub(synced) > wire.MaxOfflineWindow {
		until = time.Time{}
	}
	return synced, until
}

// deviceKey returns the public key device deviceID enrolled with. A
// device's key never changes (a new key is a new enrollment, a new
// device), so it is read once and cached; whether the device may still
// report is the store's check, at every event.
func (s *Devices) deviceKey(ctx context.Context, deviceID string) (string, error) {
	if pub, ok := s.deviceKeys.get(deviceID); ok {
		return pub, nil
	}
	d, err := s.store.Device(ctx, deviceID)
	if err != nil {
		return "", err
	}
	s.deviceKeys.put(deviceID, d.PublicKey)
	return d.PublicKey, nil
}

// maxCachedDeviceKeys bounds deviceKeyCache: past it the cache starts
// again empty (a fleet larger than this reads some keys more than once).
const maxCachedDeviceKeys = 1 << 17

// deviceKeyCache maps device IDs to their public keys.
type deviceKeyCache struct {
	mu   sync.RWMutex
	keys map[string]string
}

func (c *deviceKeyCache) get(deviceID string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	pub, ok := c.keys[deviceID]
	return pub, ok
}

func (c *deviceKeyCache) put(deviceID, pub string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) >= maxCachedDeviceKeys {
		c.keys = make(map[string]string)
	}
	c.keys[deviceID] = pub
}
