package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/doorman-dev/doorman"
)

const deviceColumns = `id, door_id, building_id, public_key, enrolled_at, revoked_at`

func scanDevice(sc scanner) (*doorman.Device, error) {
	var d doorman.Device
	var enrolled int64
	var revoked sql.NullInt64
	if err := sc.Scan(&d.ID, &d.DoorID, &d.BuildingID, &d.PublicKey, &enrolled, &revoked); err != nil {
		return nil, err
	}
	d.EnrolledAt, d.RevokedAt = fromMicros(enrolled), timePtr(revoked)
	return &d, nil
}

// deviceActor is the audit actor of a device.
func deviceActor(id string) string { return "device:" + id }

// validPublicKey reports whether k has the shape of a public NATS user
// NKey: "U" and 55 more characters of base32 (A–Z, 2–7), 56 in all. The
// checksum is the API's to verify; the store keeps malformed keys out.
func validPublicKey(k string) bool {
	if len(k) != 56 || k[0] != 'U' {
		return false
	}
	for i := 1; i < len(k); i++ {
		if c := k[i]; (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// errBadCode is the one answer to an enrollment code that cannot be used,
// whether unknown, used or expired, so a guesser learns nothing more.
func errBadCode() error {
	return doorman.Errorf(doorman.ENOTFOUND, "The enrollment code is unknown, used or expired.")
}

// EnrollDevice consumes the enrollment with that code hash and registers d
// (its PublicKey) for the enrollment's door, all in one write transaction:
//
//   - the enrollment is claimed by a single conditional UPDATE (unused and
//     unexpired at now), so of two concurrent calls with the same code
//     exactly one succeeds and the other gets ENOTFOUND;
//   - the door's row is locked, so that enrollments of one door made
//     through several processes follow one another;
//   - every device of the door that is not revoked is revoked at now and
//     returned, each with a device.revoked audit entry (reason
//     "replaced"): a door has one active device;
//   - d is inserted with a new ID, the door, the building and EnrolledAt
//     = now, and a device.enrolled entry (actor "device:<id>" unless ctx
//     carries a principal) is appended to the building's chain.
//
// Returns EINVALID for a malformed public key, ENOTFOUND for an unknown,
// used or expired code (one message for all three), and ECONFLICT if the
// key was ever registered before, revoked or not. A refused enrollment
// leaves the code unused.
func (s *Store) EnrollDevice(ctx context.Context, codeHash string, d *doorman.Device, now time.Time) ([]*doorman.Device, error) {
	if !validPublicKey(d.PublicKey) {
		return nil, doorman.Errorf(doorman.EINVALID, "A device needs a public NATS user key.")
	}
	now = exact(now)
	// A read finds the building, whose chain keys the batch; the write
	// claims the code for real. Most bad codes stop here, without a write.
	var buildingID string
	err := s.rdb.QueryRowContext(ctx, `SELECT building_id FROM enrollments
		WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2`, codeHash, micros(now)).Scan(&buildingID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBadCode()
	} else if err != nil {
		return nil, s.translate("enroll device", err)
	}

	id := s.ids.Next(doorman.PrefixDevice)
	actor := doorman.ActorFromContext(ctx)
	if doorman.PrincipalFromContext(ctx) == nil {
		actor = deviceActor(id)
	}
	var enrolled *doorman.Device
	var revoked []*doorman.Device
	err = s.write(ctx, "enroll device", chainOf(buildingID), func(tx *wtx) error {
		enrolled, revoked = nil, nil // the batch may run this again
		var enrollmentID, doorID string
		err := tx.QueryRow(`UPDATE enrollments SET used_at = $1
			WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING id, door_id, building_id`,
			micros(now), codeHash).Scan(&enrollmentID, &doorID, &buildingID)
		if errors.Is(err, sql.ErrNoRows) {
			return errBadCode()
		} else if err != nil {
			return err
		}
		// Lock the door row (a no-op update), so that enrollments of one
		// door from several processes run one after the other, each
		// revoking the device the one before it enrolled.
		if _, err := tx.Exec(`UPDATE doors SET updated_at = updated_at WHERE id = $1`, doorID); err != nil {
			return err
		}
		if err := s.exists(tx, `SELECT 1 FROM devices WHERE public_key = $1`, d.PublicKey); err == nil {
			return doorman.Errorf(doorman.ECONFLICT, "This device key was registered before; a device makes a new key to enroll.")
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}

		list, err := collect(context.Background(), tx, `UPDATE devices SET revoked_at = $1
			WHERE door_id = $2 AND revoked_at IS NULL RETURNING `+deviceColumns, []any{micros(now), doorID}, scanDevice)
		if err != nil {
			return err
		}
		for _, old := range list {
			e := &doorman.AuditEntry{Chain: chainOf(buildingID), At: now, Action: doorman.ActionDeviceRevoked,
				Actor: actor, BuildingID: buildingID, DoorID: doorID, Reason: "replaced", Detail: old.ID}
			if err := s.appendAudit(tx, e); err != nil {
				return err
			}
		}

		_, err = tx.Exec(`INSERT INTO devices (id, door_id, building_id, enrollment_id, public_key, enrolled_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, NULL)`, id, doorID, buildingID, enrollmentID, d.PublicKey, micros(now))
		if s.dialect.classify(err) == ErrUnique {
			// Another process registered the same key at the same moment.
			// Nothing is kept; the code stays usable.
			return doorman.Errorf(doorman.ECONFLICT, "This device key was registered at the same time.")
		} else if err != nil {
			return err
		}
		e := &doorman.AuditEntry{Chain: chainOf(buildingID), At: now, Action: doorman.ActionDeviceEnrolled,
			Actor: actor, BuildingID: buildingID, DoorID: doorID, Detail: id + " key " + d.PublicKey}
		if err := s.appendAudit(tx, e); err != nil {
			return err
		}
		enrolled = &doorman.Device{ID: id, DoorID: doorID, BuildingID: buildingID, PublicKey: d.PublicKey, EnrolledAt: now}
		revoked = list
		return nil
	})
	if err != nil {
		return nil, err
	}
	*d = *enrolled
	return revoked, nil
}

// Device returns ENOTFOUND.
func (s *Store) Device(ctx context.Context, id string) (*doorman.Device, error) {
	d, err := scanDevice(s.rdb.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("device", notFoundIf(err, "Device"))
	}
	return d, nil
}

// ActiveDevice returns the door's active device. Returns ENOTFOUND when
// the door has none (or does not exist).
func (s *Store) ActiveDevice(ctx context.Context, doorID string) (*doorman.Device, error) {
	d, err := scanDevice(s.rdb.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices
		WHERE door_id = $1 AND revoked_at IS NULL`, doorID))
	if err != nil {
		return nil, s.translate("active device", notFoundIf(err, "Active device"))
	}
	return d, nil
}

// ListDevices lists a building's devices, revoked ones included, in
// enrollment order.
func (s *Store) ListDevices(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Device, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixDevice)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(ctx, s.rdb, `SELECT `+deviceColumns+` FROM devices
		WHERE building_id = $1 AND id > $2 ORDER BY id LIMIT $3`, []any{buildingID, after, limit + 1}, scanDevice)
	if err != nil {
		return nil, "", s.translate("list devices", err)
	}
	list, next := trim(list, limit, func(d *doorman.Device) string { return d.ID })
	return list, next, nil
}

// RevokeDevice revokes a device of the building at now and records it in
// the building's audit chain. Revoking a revoked device changes nothing,
// appends nothing and returns it as it is. Returns ENOTFOUND unless the
// device is in the building.
func (s *Store) RevokeDevice(ctx context.Context, buildingID, id string, now time.Time) (*doorman.Device, error) {
	now = exact(now)
	e := s.entry(ctx, doorman.ActionDeviceRevoked, buildingID)
	e.At, e.Detail = now, id
	var out *doorman.Device
	err := s.write(ctx, "revoke device", e.Chain, func(tx *wtx) error {
		d, err := scanDevice(tx.QueryRow(`UPDATE devices SET revoked_at = $1
			WHERE id = $2 AND building_id = $3 AND revoked_at IS NULL RETURNING `+deviceColumns,
			micros(now), id, buildingID))
		if errors.Is(err, sql.ErrNoRows) {
			d, err = scanDevice(tx.QueryRow(`SELECT `+deviceColumns+` FROM devices WHERE id = $1 AND building_id = $2`,
				id, buildingID))
			out = d
			return notFoundIf(err, "Device")
		} else if err != nil {
			return err
		}
		e.DoorID = d.DoorID
		if err := s.appendAudit(tx, e); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
