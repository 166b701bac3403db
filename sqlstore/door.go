package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/doorman-dev/doorman"
)

const doorColumns = `id, building_id, name, latitude, longitude, pulse_millis, locked_down, last_seen_at, created_at, updated_at, clock_synced, storage_fault, clock_synced_at, offline_grants_until`

func scanDoor(sc scanner) (*doorman.Door, error) {
	var d doorman.Door
	var lat, lng sql.NullFloat64
	var seen, synced, until sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&d.ID, &d.BuildingID, &d.Name, &lat, &lng, &d.PulseMillis, &d.LockedDown, &seen, &created, &updated, &d.ClockSynced, &d.StorageFault,
		&synced, &until); err != nil {
		return nil, err
	}
	d.Latitude, d.Longitude = floatPtr(lat), floatPtr(lng)
	d.LastSeenAt = timePtr(seen)
	d.ClockSyncedAt, d.OfflineGrantsUntil = timePtr(synced), timePtr(until)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

// CreateDoor sets d.ID and timestamps; a zero PulseMillis becomes
// doorman.DefaultPulseMillis. Returns EINVALID or ENOTFOUND (no such
// building).
func (s *Store) CreateDoor(ctx context.Context, d *doorman.Door) error {
	if d.PulseMillis == 0 {
		d.PulseMillis = doorman.DefaultPulseMillis
	}
	if err := d.Validate(); err != nil {
		return err
	}
	id := s.ids.Next(doorman.PrefixDoor)
	now := s.clock()
	e := s.entry(ctx, doorman.ActionDoorCreated, d.BuildingID)
	e.DoorID = id
	e.Detail = d.Name
	err := s.write(ctx, "create door", e.Chain, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM buildings WHERE id = $1`, d.BuildingID); err != nil {
			return notFoundIf(err, "Building")
		}
		if _, err := tx.Exec(`INSERT INTO doors (`+doorColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13)`,
			id, d.BuildingID, d.Name, nullFloat(d.Latitude), nullFloat(d.Longitude), d.PulseMillis, d.LockedDown,
			nullMicros(d.LastSeenAt), micros(now), d.ClockSynced, d.StorageFault, nullMicros(d.ClockSyncedAt), nullMicros(d.OfflineGrantsUntil)); err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
	if err != nil {
		return err
	}
	d.ID, d.CreatedAt, d.UpdatedAt = id, now, now
	d.LastSeenAt = exactPtr(d.LastSeenAt)
	return nil
}

// Door returns ENOTFOUND.
func (s *Store) Door(ctx context.Context, id string) (*doorman.Door, error) {
	d, err := s.door(ctx, s.rdb, id)
	return d, s.translate("door", err)
}

func (s *Store) door(ctx context.Context, q querier, id string) (*doorman.Door, error) {
	d, err := scanDoor(q.QueryRowContext(ctx, `SELECT `+doorColumns+` FROM doors WHERE id = $1`, id))
	if err != nil {
		return nil, notFoundIf(err, "Door")
	}
	return d, nil
}

// ListDoors lists a building's doors.
func (s *Store) ListDoors(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Door, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixDoor)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(ctx, s.rdb, `SELECT `+doorColumns+` FROM doors WHERE building_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		[]any{buildingID, after, limit + 1}, scanDoor)
	if err != nil {
		return nil, "", s.translate("list doors", err)
	}
	list, next := trim(list, limit, func(d *doorman.Door) string { return d.ID })
	return list, next, nil
}

// UpdateDoor changes the fields of upd that are not nil. Setting
// LockedDown to true revokes, in the same transaction, every unused and
// unexpired grant of the door, so no grant issued before the lockdown can
// be executed after it. Returns ENOTFOUND or EINVALID.
func (s *Store) UpdateDoor(ctx context.Context, id string, upd doorman.DoorUpdate) (*doorman.Door, error) {
	actor := doorman.ActorFromContext(ctx)
	cur, err := s.Door(ctx, id) // for the batch key; the write reads it again
	if err != nil {
		return nil, err
	}
	var out *doorman.Door
	err = s.write(ctx, "update door", cur.BuildingID, func(tx *wtx) error {
		bg := context.Background()
		d, err := s.door(bg, tx, id)
		if err != nil {
			return err
		}
		was := d.LockedDown
		if upd.Name != nil {
			d.Name = *upd.Name
		}
		if upd.PulseMillis != nil {
			d.PulseMillis = *upd.PulseMillis
		}
		if upd.Latitude != nil {
			d.Latitude = *upd.Latitude
		}
		if upd.Longitude != nil {
			d.Longitude = *upd.Longitude
		}
		if upd.LockedDown != nil {
			d.LockedDown = *upd.LockedDown
		}
		if err := d.Validate(); err != nil {
			return err
		}
		now := s.clock()
		d.UpdatedAt = now
		if _, err := tx.Exec(`UPDATE doors SET name = $1, latitude = $2, longitude = $3, pulse_millis = $4,
			locked_down = $5, updated_at = $6 WHERE id = $7`,
			d.Name, nullFloat(d.Latitude), nullFloat(d.Longitude), d.PulseMillis, d.LockedDown, micros(now), id); err != nil {
			return err
		}

		e := &doorman.AuditEntry{Chain: chainOf(d.BuildingID), At: now, Action: doorman.ActionDoorUpdated,
			Actor: actor, BuildingID: d.BuildingID, DoorID: d.ID, Detail: d.Name}
		switch {
		case d.LockedDown:
			res, err := tx.Exec(`UPDATE grants SET revoked_at = $1
				WHERE door_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1`, micros(now), id)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if !was || n > 0 {
				e.Action = doorman.ActionDoorLockdown
				e.Detail = fmt.Sprintf("%d unused grants revoked", n)
			}
		case was:
			e.Action = doorman.ActionDoorLockdownLift
		}
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
