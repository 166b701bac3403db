package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/doorman-dev/doorman"
)

// MaxUnitBatch is the most units one CreateUnits call may carry.
const MaxUnitBatch = 5000

const unitColumns = `id, building_id, label, floor, created_at`

func scanUnit(sc scanner) (*doorman.Unit, error) {
	var u doorman.Unit
	var created int64
	if err := sc.Scan(&u.ID, &u.BuildingID, &u.Label, &u.Floor, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

// CreateUnits creates all units or none, and records the import in each
// building's audit chain. Returns EINVALID, ENOTFOUND (no such building),
// ECONFLICT (a label already used in the building, or twice in units), or
// ETOOLARGE above MaxUnitBatch units.
func (s *Store) CreateUnits(ctx context.Context, units []*doorman.Unit) error {
	if len(units) == 0 {
		return doorman.Errorf(doorman.EINVALID, "No units given.")
	} else if len(units) > MaxUnitBatch {
		return doorman.Errorf(doorman.ETOOLARGE, "At most %d units at once.", MaxUnitBatch)
	}
	type key struct{ building, label string }
	seen := make(map[key]bool, len(units))
	perBuilding := map[string]int{}
	var buildings []string
	for i, u := range units {
		if u == nil {
			return doorman.Errorf(doorman.EINVALID, "Unit %d is empty.", i+1)
		}
		if err := u.Validate(); err != nil {
			return err
		}
		k := key{u.BuildingID, u.Label}
		if seen[k] {
			return doorman.Errorf(doorman.ECONFLICT, "Unit %q is listed twice.", u.Label)
		}
		seen[k] = true
		if perBuilding[u.BuildingID] == 0 {
			buildings = append(buildings, u.BuildingID)
		}
		perBuilding[u.BuildingID]++
	}

	ids := make([]string, len(units))
	for i := range units {
		ids[i] = s.ids.Next(doorman.PrefixUnit)
	}
	now := s.clock()
	entries := make([]*doorman.AuditEntry, len(buildings))
	for i, b := range buildings {
		entries[i] = s.entry(ctx, doorman.ActionUnitsImported, b)
		entries[i].Detail = fmt.Sprintf("%d units", perBuilding[b])
	}
	err := s.write(ctx, "create units", buildings[0], func(tx *wtx) error {
		for _, b := range buildings {
			if err := s.exists(tx, `SELECT 1 FROM buildings WHERE id = $1`, b); err != nil {
				return notFoundIf(err, "Building")
			}
		}
		for _, u := range units {
			err := s.exists(tx, `SELECT 1 FROM units WHERE building_id = $1 AND label = $2`, u.BuildingID, u.Label)
			if err == nil {
				return doorman.Errorf(doorman.ECONFLICT, "Unit %q already exists in the building.", u.Label)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		for i, u := range units {
			if _, err := tx.Exec(`INSERT INTO units (`+unitColumns+`) VALUES ($1, $2, $3, $4, $5)`, ids[i], u.BuildingID, u.Label, u.Floor, micros(now)); err != nil {
				if s.dialect.classify(err) == ErrUnique {
					return doorman.Errorf(doorman.ECONFLICT, "Unit %q already exists in the building.", u.Label)
				}
				return err
			}
		}
		for _, e := range entries {
			if err := s.appendAudit(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, u := range units {
		u.ID, u.CreatedAt = ids[i], now
	}
	return nil
}

// Unit returns ENOTFOUND unless the unit exists in the building.
func (s *Store) Unit(ctx context.Context, buildingID, id string) (*doorman.Unit, error) {
	u, err := scanUnit(s.rdb.QueryRowContext(ctx, `SELECT `+unitColumns+` FROM units WHERE id = $1 AND building_id = $2`, id, buildingID))
	if err != nil {
		return nil, s.translate("unit", notFoundIf(err, "Unit"))
	}
	return u, nil
}

// ListUnits lists a building's units.
func (s *Store) ListUnits(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Unit, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixUnit)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(ctx, s.rdb, `SELECT `+unitColumns+` FROM units WHERE building_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		[]any{buildingID, after, limit + 1}, scanUnit)
	if err != nil {
		return nil, "", s.translate("list units", err)
	}
	list, next := trim(list, limit, func(u *doorman.Unit) string { return u.ID })
	return list, next, nil
}

// DeleteUnit returns ENOTFOUND, or ECONFLICT while residents or parcels
// still refer to the unit.
func (s *Store) DeleteUnit(ctx context.Context, buildingID, id string) error {
	return s.write(ctx, "delete unit", buildingID, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM units WHERE id = $1 AND building_id = $2`, id, buildingID); err != nil {
			return notFoundIf(err, "Unit")
		}
		if err := s.exists(tx, `SELECT 1 FROM residents WHERE unit_id = $1`, id); err == nil {
			return doorman.Errorf(doorman.ECONFLICT, "The unit still has residents.")
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := s.exists(tx, `SELECT 1 FROM parcels WHERE unit_id = $1`, id); err == nil {
			return doorman.Errorf(doorman.ECONFLICT, "Parcels are addressed to the unit.")
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err := tx.Exec(`DELETE FROM units WHERE id = $1`, id)
		if s.dialect.classify(err) == ErrForeignKey {
			return doorman.Errorf(doorman.ECONFLICT, "The unit is still referred to.")
		}
		return err
	})
}

// exists returns nil if the query finds a row, sql.ErrNoRows if not. It is
// for use inside a write, which is never cut short by a caller's context.
func (s *Store) exists(tx querier, query string, args ...any) error {
	return existsCtx(context.Background(), tx, query, args...)
}

// existsCtx is exists for reads outside a write.
func existsCtx(ctx context.Context, q querier, query string, args ...any) error {
	var one int
	return q.QueryRowContext(ctx, query+` LIMIT 1`, args...).Scan(&one)
}

// notFoundIf turns sql.ErrNoRows into ENOTFOUND for the named kind.
func notFoundIf(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what)
	}
	return err
}
