package sqlstore

import (
	"context"
	"database/sql"
	"errors"

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
	case e.At.IsZero():
		return doorman.Errorf(doorman.EINVALID, "A device event needs a time.")
	case len(e.GrantID) > maxEventIDLength || len(e.Reason) > maxEventReasonLength:
		return doorman.Errorf(doorman.EINVALID, "Device event grant ID or reason too long.")
	case len(e.Detail) > maxEventDetailLength:
		return doorman.Errorf(doorman.EINVALID, "Device event detail is longer than %d bytes.", maxEventDetailLength)
	}
	return nil
}

// RecordDeviceEvent records what a device reported, once per event ID, in
// one write transaction:
//
//   - the door and the device must exist (else ENOTFOUND), and the device
//     must be bound to e.DoorID and not revoked (else EFORBIDDEN, and
//     nothing is recorded). An empty e.DeviceID means the door's active
//     device, for callers that know only the door (the bus pins each
//     device to its own door's subjects); it is filled in on success,
//     and a door without an active device is EFORBIDDEN. The device row
//     is share-locked where the engine needs it, so a concurrent
//     revocation either waits for the event or is seen by it;
//   - any event but a heartbeat is inserted into device_events keyed by
//     its ID (ON CONFLICT DO NOTHING: no row inserted means it was
//     recorded before, and the call reports false having changed
//     nothing) and appended to the building's audit chain as action
//     doorman.DeviceEventAction(kind), actor "device:<id>", with the
//     event's door, grant, reason and detail;
//   - the door's last-seen time moves forward to the device's time, but
//     never beyond the moment of recording: a buffered event delivered
//     late shows when the door was last heard of, and a device with a
//     clock in the future cannot make itself look online for longer;
//   - a heartbeat does only that, and reports true: heartbeats come every
//     minute and say only "alive", so they are neither kept nor audited,
//     which keeps the audit chain about what happened at the door. A
//     repeated heartbeat cannot move the last-seen time again.
//
// The audit entry's time is the device's time of the event (clamped, as
// above, to the moment of recording), because that is when the door
// opened or was forced, also for events the device buffered through an
// outage; the chain's order is its sequence, not its times. The store's
// own time of recording is kept beside the device's in device_events,
// with the ID of the audit entry.
func (s *Store) RecordDeviceEvent(ctx context.Context, e *doorman.DeviceEvent) (bool, error) {
	if err := validateDeviceEvent(e); err != nil {
		return false, err
	}
	// A read finds the building, whose chain keys the batch; the write
	// checks door and device again.
	var buildingID string
	var err error
	if e.DeviceID != "" {
		err = s.rdb.QueryRowContext(ctx, `SELECT building_id FROM devices WHERE id = $1`, e.DeviceID).Scan(&buildingID)
		err = notFoundIf(err, "Device")
	} else {
		err = s.rdb.QueryRowContext(ctx, `SELECT building_id FROM doors WHERE id = $1`, e.DoorID).Scan(&buildingID)
		err = notFoundIf(err, "Door")
	}
	if err != nil {
		return false, s.translate("record device event", err)
	}
	at := exact(e.At)
	var recorded bool
	var deviceID string
	err = s.write(ctx, "record device event", chainOf(buildingID), func(tx *sql.Tx) error {
		recorded = false // the batch may run this again
		if err := s.exists(tx, `SELECT 1 FROM doors WHERE id = $1`, e.DoorID); err != nil {
			return notFoundIf(err, "Door")
		}
		var err error
		if deviceID, buildingID, err = s.eventDevice(tx, e); err != nil {
			return err
		}

		now := s.clock()
		seen := at
		if seen.After(now) {
			seen = now
		}
		if e.Kind != doorman.EventHeartbeat {
			res, err := tx.Exec(`INSERT INTO device_events (id, device_id, door_id, building_id, kind, at, recorded_at,
				grant_id, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
				e.ID, deviceID, e.DoorID, buildingID, e.Kind, micros(at), micros(now), e.GrantID, e.Reason, e.Detail)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return nil // recorded before: change nothing
			}
			a := &doorman.AuditEntry{Chain: chainOf(buildingID), At: seen, Action: doorman.DeviceEventAction(e.Kind),
				Actor: deviceActor(deviceID), BuildingID: buildingID, DoorID: e.DoorID, GrantID: e.GrantID,
				Reason: e.Reason, Detail: e.Detail}
			if err := s.appendAudit(tx, a); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE device_events SET audit_id = $1 WHERE id = $2`, a.ID, e.ID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(`UPDATE doors SET last_seen_at = $1
			WHERE id = $2 AND (last_seen_at IS NULL OR last_seen_at < $1)`, micros(seen), e.DoorID); err != nil {
			return err
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, err
	}
	if e.DeviceID == "" {
		e.DeviceID = deviceID
	}
	return recorded, nil
}

// eventDevice returns the ID and building of the device that may report
// e: e.DeviceID if it is bound to e.DoorID and not revoked, or, when
// e.DeviceID is empty, the door's active device. The row is share-locked
// where the dialect asks for it, so that a concurrent revocation waits for
// the event or is seen by it. Returns ENOTFOUND for an unknown device and
// EFORBIDDEN for a revoked one, one of another door, or a door without an
// active device.
func (s *Store) eventDevice(tx *sql.Tx, e *doorman.DeviceEvent) (id, buildingID string, err error) {
	if e.DeviceID == "" {
		err = tx.QueryRow(`SELECT id, building_id FROM devices WHERE door_id = $1 AND revoked_at IS NULL`+s.dialect.ShareLock,
			e.DoorID).Scan(&id, &buildingID)
		if errors.Is(err, sql.ErrNoRows) {
			return "", "", doorman.Errorf(doorman.EFORBIDDEN, "The door has no active device.")
		}
		return id, buildingID, err
	}
	var doorID string
	var revoked sql.NullInt64
	err = tx.QueryRow(`SELECT door_id, building_id, revoked_at FROM devices WHERE id = $1`+s.dialect.ShareLock,
		e.DeviceID).Scan(&doorID, &buildingID, &revoked)
	switch {
	case err != nil:
		return "", "", notFoundIf(err, "Device")
	case doorID != e.DoorID:
		return "", "", doorman.Errorf(doorman.EFORBIDDEN, "The device is not bound to this door.")
	case revoked.Valid:
		return "", "", doorman.Errorf(doorman.EFORBIDDEN, "The device is revoked.")
	}
	return e.DeviceID, buildingID, nil
}
