package sqlstore

import (
	"context"

	"github.com/doorman-dev/doorman"
)

const residentColumns = `id, building_id, unit_id, name, email, created_at`

func scanResident(sc scanner) (*doorman.Resident, error) {
	var r doorman.Resident
	var created int64
	if err := sc.Scan(&r.ID, &r.BuildingID, &r.UnitID, &r.Name, &r.Email, &created); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicros(created)
	return &r, nil
}

// CreateResident sets r.ID and CreatedAt. The audit entry names the
// resident by ID only, so that deleting the resident deletes their personal
// data while the append-only log stays whole. Returns EINVALID, or
// ENOTFOUND if the unit is not in the resident's building.
func (s *Store) CreateResident(ctx context.Context, r *doorman.Resident) error {
	if r.BuildingID == "" {
		return doorman.Errorf(doorman.EINVALID, "Resident building required.")
	} else if err := r.Validate(); err != nil {
		return err
	}
	id := s.ids.Next(doorman.PrefixResident)
	now := s.clock()
	e := s.entry(ctx, doorman.ActionResidentAdded, r.BuildingID)
	e.Detail = id
	err := s.write(ctx, "create resident", e.Chain, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM units WHERE id = $1 AND building_id = $2`, r.UnitID, r.BuildingID); err != nil {
			return notFoundIf(err, "Unit")
		}
		if _, err := tx.Exec(`INSERT INTO residents (`+residentColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, r.BuildingID, r.UnitID, r.Name, r.Email, micros(now)); err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
	if err != nil {
		return err
	}
	r.ID, r.CreatedAt = id, now
	return nil
}

// ListResidents lists a building's residents.
func (s *Store) ListResidents(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Resident, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixResident)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(ctx, s.rdb, `SELECT `+residentColumns+` FROM residents WHERE building_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		[]any{buildingID, after, limit + 1}, scanResident)
	if err != nil {
		return nil, "", s.translate("list residents", err)
	}
	list, next := trim(list, limit, func(r *doorman.Resident) string { return r.ID })
	return list, next, nil
}

// DeleteResident removes a resident and their data. Returns ENOTFOUND.
func (s *Store) DeleteResident(ctx context.Context, buildingID, id string) error {
	e := s.entry(ctx, doorman.ActionResidentRemoved, buildingID)
	e.Detail = id
	return s.write(ctx, "delete resident", e.Chain, func(tx *wtx) error {
		if err := removeResident(tx, buildingID, id, e.At); err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
}
