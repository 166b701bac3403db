package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"time"

	"github.com/doorman-dev/doorman"
)

// Limits of a device event's fields, generous beside what the device
// protocol allows.
const (
	maxEventIDLength     = 64
	maxEventReasonLength = 64
	maxEventDetailLength = 1024
)

// validateDeviceEvent returns EINVALID if e cannot be recorded.
func validateDeviceEvent(e *doorman.DeviceEvent) error {
	switch {
	case e.ID == "" || len(e.ID) > maxEventIDLength:
		return doorman.Errorf(doorman.EINVALID, "A device event needs an ID of at most %d characters.", maxEventIDLength)
	case !doorman.ValidDeviceEventKind(e.Kind):
		return doorman.Errorf(doorman.EINVALID, "Unknown device event kind.")
	case e.DoorID == "":
		return doorman.Errorf(doorman.EINVALID, "A device event names its door.")
	case e.DeviceID == "":
		return doorman.Errorf(doorman.EINVALID, "A device event names the device that sent it.")
	case e.At.IsZero():
		return doorman.Errorf(doorman.EINVALID, "A device event needs a time.")
	case len(e.GrantID) > maxEventIDLength || len(e.Reason) > maxEventReasonLength ||
		len(e.JTI) > maxEventIDLength || len(e.CourierID) > maxEventIDLength || len(e.ParcelsDigest) > maxEventIDLength:
		return doorman.Errorf(doorman.EINVALID, "Device event grant ID or reason too long.")
	case len(e.Detail) > maxEventDetailLength:
		return doorman.Errorf(doorman.EINVALID, "Device event detail is longer than %d bytes.", maxEventDetailLength)
	}
	return nil
}

// RecordDeviceEvent records what a device reported, once per event ID, in
// one write transaction. e.DeviceID is the device the bus says sent the
// event (the event subject names it, and only that device may publish on
// it); the rules are:
//
//   - the door and the device must exist (else ENOTFOUND) and the device
//     must be bound to e.DoorID (else EFORBIDDEN: a device never speaks
//     for another door);
//   - the event's time is the device's, if the store can believe it: not
//     more than doorman.DeviceEventMaxSkew after the store receives it
//     and not more than doorman.DeviceEventMaxAge before (the oldest event
//     a device may still be delivering after an outage). A time up to
//     the skew ahead is taken as the time of receipt, as a clock a little
//     ahead; a time beyond either bound is replaced by the time of
//     receipt, and the device's claim is kept in the audit entry's
//     ClaimedAt. Everything below that speaks of "the event's time"
//     means this time; device_events keeps the device's claim as sent;
//   - an event of the door's active device is recorded as that device's;
//   - an event of a device revoked since (by a manager, or replaced by a
//     new enrollment of its door) is still recorded, as that device's, if
//     the event's time is before the revocation: it reports what happened
//     while the device was the door's, typically events it queued through
//     an outage, and the evidence is kept. Dated at or after the
//     revocation it is refused (EFORBIDDEN) and nothing is recorded. The
//     time is the device's own claim, so a revoked device that still
//     reaches the bus (an external NATS account where revocation is done
//     with NATS tools) could backdate events, by at most
//     DeviceEventMaxAge; they are still attributed to it, never to its
//     successor, and its successor's events are never attributed to it.
//     Such an event does not move the door's last-seen time, which tells
//     whether the door's current device is heard;
//   - the device row is share-locked where the engine needs it, so a
//     concurrent revocation either waits for the event or is seen by it;
//   - any event but a heartbeat is inserted into device_events (with
//     the offline grant fields of an offline event) keyed by
//     its ID (ON CONFLICT DO NOTHING: no row inserted means it was
//     recorded before, and the call reports false having changed
//     nothing). This comes first, so a redelivered event is never
//     counted twice;
//   - an unlock_executed event of a command from the bus, for a grant of
//     its door, stands for the grant's grant.used entry (see grantUse):
//     the one the door's ack chained, or one it chains now, marking the
//     grant used; it is kept beside it, neither chained nor counted;
//   - any other event is then chained or counted, by the device's event rate limit
//     (the window of the device and the event's kind, in
//     device_event_windows, locked first): the first
//     doorman.DeviceEventBurst events of a kind that a device reports
//     within doorman.DeviceEventWindow of the first (by the time of
//     receipt, which the device cannot choose) are each appended to the
//     building's audit chain as action doorman.DeviceEventAction(kind),
//     actor "device:<id>", with the event's door, grant, reason and
//     detail; further ones within the window are kept in device_events
//     without an audit entry and counted in the window. Either way the
//     event is recorded and the call reports true;
//   - every event of a building, heartbeats included, first chains the
//     counts of the building's windows that have closed: one entry per
//     window, of the action of its kind, with Count set to how many
//     events it stands for and the time the last of them was received;
//     those events' rows in device_events then name that entry. So a
//     flood becomes a handful of entries and a count, and the count
//     reaches the chain within a minute of the window's end while the
//     building's devices send their heartbeats; the next event of the
//     kind after the window is chained one by one again;
//   - an event of the active device moves the door's last-seen time
//     forward to the device's time, but never beyond the moment of
//     recording: a buffered event delivered late shows when the door was
//     last heard of, and a device with a clock in the future cannot make
//     itself look online for longer;
//   - a heartbeat of the active device does only that (and chains closed
//     counts), sets the door's device status (clock_synced,
//     storage_fault) unless a later heartbeat set it already, and reports
//     true: heartbeats come every minute and say only "alive", so they are
//     neither kept nor audited, which keeps the audit chain about what
//     happened at the door. A repeated heartbeat cannot move the
//     last-seen time again. A heartbeat of a revoked device dated before
//     its revocation changes nothing and reports false.
//
// The audit entry's time is the event's time, because that is when the
// door opened or was forced, also for events the device buffered through
// an outage; the chain's order is its sequence, not its times. The store's
// own time of recording is kept beside the device's in device_events,
// with the ID of the audit entry that chained or counted it.
func (s *Store) RecordDeviceEvent(ctx context.Context, e *doorman.DeviceEvent) (bool, error) {
	if err := validateDeviceEvent(e); err != nil {
		return false, err
	}
	// A read finds the building, whose chain keys the batch; the write
	// checks door and device again.
	buildingID, ok := s.deviceBuildings.get(e.DeviceID)
	if !ok {
		err := s.rdb.QueryRowContext(ctx, `SELECT building_id FROM devices WHERE id = $1`, e.DeviceID).Scan(&buildingID)
		if err != nil {
			return false, s.translate("record device event", notFoundIf(err, "Device"))
		}
		s.deviceBuildings.put(e.DeviceID, buildingID)
	}
	var recorded bool
	err := s.write(ctx, "record device event", chainOf(buildingID), func(tx *wtx) error {
		recorded = false // the batch may run this again
		now := s.clock()
		at, claimed := eventTime(exact(e.At), now)
		if err := s.exists(tx, `SELECT 1 FROM doors WHERE id = $1`, e.DoorID); err != nil {
			return notFoundIf(err, "Door")
		}
		var active bool
		var err error
		if buildingID, active, err = s.eventDevice(tx, e, at); err != nil {
			return err
		}
		if !active && e.Kind == doorman.EventHeartbeat {
			return nil
		}

		if e.Kind == doorman.EventHeartbeat {
			if err := s.chainCounts(tx, buildingID, "", now); err != nil {
				return err
			}
		} else {
			res, err := tx.Exec(`INSERT INTO device_events (id, device_id, door_id, building_id, kind, at, recorded_at,
				grant_id, reason, detail, offline, jti, courier_id, parcels_digest)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING`,
				e.ID, e.DeviceID, e.DoorID, buildingID, e.Kind, micros(exact(e.At)), micros(now), e.GrantID, e.Reason, e.Detail,
				e.Offline, e.JTI, e.CourierID, e.ParcelsDigest)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return nil // recorded before: change nothing
			}
			use := ""
			if e.Kind == doorman.EventUnlockExecuted && !e.Offline && e.GrantID != "" {
				if use, err = s.grantUse(tx, e, now); err != nil {
					return err
				}
			}
			chain := false
			if use != "" {
				// The grant's use is chained once, as grant.used; the door's
				// event is kept beside that entry.
				if _, err := tx.Exec(`UPDATE device_events SET audit_id = $1 WHERE id = $2`, use, e.ID); err != nil {
					return err
				}
			} else if chain, err = s.takeEventWindow(tx, e, buildingID, now); err != nil {
				return err
			}
			if chain {
				a := &doorman.AuditEntry{Chain: chainOf(buildingID), At: at, ClaimedAt: claimed,
					Action: doorman.DeviceEventAction(e.Kind), Actor: deviceActor(e.DeviceID), BuildingID: buildingID,
					DoorID: e.DoorID, GrantID: e.GrantID, Reason: e.Reason, Detail: e.Detail}
				if err := s.appendAudit(tx, a); err != nil {
					return err
				}
				if _, err := tx.Exec(`UPDATE device_events SET audit_id = $1 WHERE id = $2`, a.ID, e.ID); err != nil {
					return err
				}
			}
		}
		// Heartbeats are not kept, so nothing stops a broker replaying an
		// old one: one whose time the store does not believe (claimed !=
		// nil) says nothing about when the door was last heard of, and must
		// not bring a dead door back to life. Other events are recorded
		// once by ID, so a replay changes nothing.
		believed := claimed == nil || e.Kind != doorman.EventHeartbeat
		if active && believed {
			if _, err := tx.Exec(`UPDATE doors SET last_seen_at = $1
				WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)`, micros(at), e.DoorID); err != nil {
				return err
			}
		}
		if active && believed && e.Kind == doorman.EventHeartbeat {
			// The door shows the device's state as its latest heartbeat
			// said; a heartbeat delivered late does not overwrite it.
			if _, err := tx.Exec(`UPDATE doors SET clock_synced = $1, storage_fault = $2, device_status_at = $3,
				clock_synced_at = $5, offline_grants_until = $6
				WHERE id = $4 AND (device_status_at IS NULL OR device_status_at <= $3)`,
				e.ClockSynced, e.StorageFault, micros(at), e.DoorID, nullTime(e.ClockSyncedAt), nullTime(e.OfflineUntil)); err != nil {
				return err
			}
			// The largest checkpoint the door's device witnessed (size 0:
			// a witness that keeps none yet, to be sent the first).
			if e.AuditWitness && e.AuditSize >= 0 && (e.AuditSize == 0) == (len(e.AuditRoot) == 0) {
				if _, err := tx.Exec(`UPDATE doors SET audit_witness_device = $1, audit_witness_size = $2, audit_witness_root = $3, audit_witness_at = $4
					WHERE id = $5 AND (audit_witness_size IS NULL OR audit_witness_size <= $2)`,
					e.DeviceID, e.AuditSize, base64.StdEncoding.EncodeToString(e.AuditRoot), micros(at), e.DoorID); err != nil {
					return err
				}
			}
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return recorded, nil
}

// grantUse returns the grant.used entry that e, an unlock_executed event
// of a command from the bus, stands for: the entry the door's ack chained
// (MarkGrantAcked; the grant's use_audit_id, which it empties: a second report of the
// grant is chained as itself, for the log to show), or one it appends now,
// marking the grant used, when the ack was lost or is still on its way
// (the ack's mark then finds the grant used). It returns "" when e is to
// be chained as itself: a grant that is not its door's, or that could not
// be marked (revoked before, expired), or one marked before use_audit_id
// was kept.
func (s *Store) grantUse(tx *wtx, e *doorman.DeviceEvent, now time.Time) (string, error) {
	// Twice at most: on PostgreSQL the ack's mark may commit on another
	// node while this transaction waits to mark the grant, which it then
	// finds marked, with the ack's entry to take.
	for attempt := 0; ; attempt++ {
		var doorID, useAuditID string
		var issued int64
		var used sql.NullInt64
		err := tx.QueryRow(`SELECT door_id, issued_at, used_at, use_audit_id FROM grants WHERE id = $1`, e.GrantID).
			Scan(&doorID, &issued, &used, &useAuditID)
		switch {
		case err == sql.ErrNoRows || (err == nil && doorID != e.DoorID):
			return "", nil
		case err != nil:
			return "", err
		case used.Valid && useAuditID == "":
			return "", nil
		case used.Valid:
			// Taken by one report only, also when two nodes record two
			// reports of the grant at once (PostgreSQL).
			res, err := tx.Exec(`UPDATE grants SET use_audit_id = '' WHERE id = $1 AND use_audit_id = $2`, e.GrantID, useAuditID)
			if err != nil {
				return "", err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return "", err
			}
			return useAuditID, nil
		}
		a := &doorman.AuditEntry{At: now, Action: doorman.ActionGrantUsed, Actor: deviceActor(e.DeviceID)}
		marked, err := s.markUsed(tx, e.GrantID, clampUse(exact(e.At), issued, now), a, false)
		if err != nil || marked || attempt > 0 {
			if !marked {
				return "", err
			}
			return a.ID, err
		}
	}
}

// eventTime returns the time to record for an event a device dates
// claimed and the store receives at now, and the device's claim when the
// store does not believe it: a claim more than DeviceEventMaxSkew ahead or
// DeviceEventMaxAge behind is replaced by now and returned; one a little
// ahead is taken as now.
func eventTime(claimed, now time.Time) (time.Time, *time.Time) {
	switch {
	case claimed.After(now.Add(doorman.DeviceEventMaxSkew)) || claimed.Before(now.Add(-doorman.DeviceEventMaxAge)):
		return now, &claimed
	case claimed.After(now):
		return now, nil
	}
	return claimed, nil
}

// eventDevice checks that e.DeviceID may report e, an event of time at
// (see eventTime), and returns the device's building and whether it is the
// door's active device. The row is share-locked where the dialect asks for
// it, so that a concurrent revocation waits for the event or is seen by
// it. Returns ENOTFOUND for an unknown device and EFORBIDDEN for one of
// another door or one revoked at or before at.
func (s *Store) eventDevice(tx *wtx, e *doorman.DeviceEvent, at time.Time) (buildingID string, active bool, err error) {
	var doorID string
	var revoked sql.NullInt64
	err = tx.QueryRow(`SELECT door_id, building_id, revoked_at FROM devices WHERE id = $1`+s.dialect.ShareLock,
		e.DeviceID).Scan(&doorID, &buildingID, &revoked)
	switch {
	case err != nil:
		return "", false, notFoundIf(err, "Device")
	case doorID != e.DoorID:
		return "", false, doorman.Errorf(doorman.EFORBIDDEN, "The device is not bound to this door.")
	case revoked.Valid && micros(at) >= revoked.Int64:
		return "", false, doorman.Errorf(doorman.EFORBIDDEN, "The device was revoked before this event.")
	}
	return buildingID, !revoked.Valid, nil
}
