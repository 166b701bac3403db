package sqlstore

import (
	"context"

	"github.com/doorman-dev/doorman"
)

const enrollmentColumns = `id, door_id, building_id, code_hash, created_at, expires_at, used_at`

// CreateEnrollment stores a one-time enrollment code for a door: only its
// hash (the SHA-256 hex of the code, as doorman.HashToken gives), never
// the code. It sets ID, BuildingID (from the door), CreatedAt and UsedAt
// (nil), and ExpiresAt to doorman.EnrollmentTTL from now when zero; a
// later expiry than that is refused, so a code is never usable for longer.
// The creation is recorded in the building's audit chain (the enrollment
// ID as detail, never the hash). Returns EINVALID, ENOTFOUND for an
// unknown door or, when e.BuildingID is set, a door of another building,
// and ECONFLICT if the code hash is in use.
func (s *Store) CreateEnrollment(ctx context.Context, e *doorman.Enrollment) error {
	if !validTokenHash(e.CodeHash) {
		return doorman.Errorf(doorman.EINVALID, "An enrollment needs the SHA-256 hex of its code.")
	}
	now := s.clock()
	expires := exact(e.ExpiresAt)
	if e.ExpiresAt.IsZero() {
		expires = now.Add(doorman.EnrollmentTTL)
	} else if !expires.After(now) {
		return doorman.Errorf(doorman.EINVALID, "An enrollment must expire in the future.")
	} else if expires.After(now.Add(doorman.EnrollmentTTL)) {
		return doorman.Errorf(doorman.EINVALID, "An enrollment code may be valid for at most %s.", doorman.EnrollmentTTL)
	}
	// The door's building decides the audit chain, and so the batch key;
	// the write checks the door again.
	door, err := s.door(ctx, s.rdb, e.DoorID)
	if err != nil {
		return s.translate("create enrollment", err)
	} else if e.BuildingID != "" && e.BuildingID != door.BuildingID {
		return notFound("Door")
	}
	id := s.ids.Next(doorman.PrefixEnrollment)
	a := s.entry(ctx, doorman.ActionDeviceEnrollmentCreated, door.BuildingID)
	a.At, a.DoorID, a.Detail = now, door.ID, id
	err = s.write(ctx, "create enrollment", a.Chain, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM doors WHERE id = $1 AND building_id = $2`, door.ID, door.BuildingID); err != nil {
			return notFoundIf(err, "Door")
		}
		_, err := tx.Exec(`INSERT INTO enrollments (`+enrollmentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
			id, door.ID, door.BuildingID, e.CodeHash, micros(now), micros(expires))
		if s.dialect.classify(err) == ErrUnique {
			return doorman.Errorf(doorman.ECONFLICT, "The enrollment code is in use.")
		} else if err != nil {
			return err
		}
		return s.appendAudit(tx, a)
	})
	if err != nil {
		return err
	}
	e.ID, e.BuildingID, e.CreatedAt, e.ExpiresAt, e.UsedAt = id, door.BuildingID, now, expires, nil
	return nil
}
