package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/doorman-dev/doorman"
)

const buildingColumns = `id, name, address, timezone, delivery_hours, max_distance_meters, offline_delivery_days, created_at, updated_at`

func scanBuilding(sc scanner) (*doorman.Building, error) {
	var b doorman.Building
	var hours sql.NullString
	var created, updated int64
	if err := sc.Scan(&b.ID, &b.Name, &b.Address, &b.Timezone, &hours, &b.MaxDistanceMeters, &b.OfflineDeliveryDays, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if b.DeliveryHours, err = decodeHours(hours); err != nil {
		return nil, err
	}
	b.CreatedAt, b.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &b, nil
}

// CreateBuilding sets b.ID and timestamps and starts the building's audit
// chain with its creation. Returns EINVALID.
func (s *Store) CreateBuilding(ctx context.Context, b *doorman.Building) error {
	if err := b.Validate(); err != nil {
		return err
	}
	hours, err := encodeHours(b.DeliveryHours)
	if err != nil {
		return doorman.Errorf(doorman.EINVALID, "Delivery hours cannot be stored.")
	}
	id := s.ids.Next(doorman.PrefixBuilding)
	now := s.clock()
	e := s.entry(ctx, doorman.ActionBuildingCreated, id)
	e.Detail = b.Name
	err = s.write(ctx, "create building", e.Chain, func(tx *wtx) error {
		if _, err := tx.Exec(`INSERT INTO buildings (`+buildingColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			id, b.Name, b.Address, b.Timezone, hours, b.MaxDistanceMeters, b.OfflineDeliveryDays, micros(now)); err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
	if err != nil {
		return err
	}
	b.ID, b.CreatedAt, b.UpdatedAt = id, now, now
	return nil
}

// Building returns ENOTFOUND if there is no such building.
func (s *Store) Building(ctx context.Context, id string) (*doorman.Building, error) {
	b, err := s.building(ctx, s.rdb, id)
	return b, s.translate("building", err)
}

func (s *Store) building(ctx context.Context, q querier, id string) (*doorman.Building, error) {
	b, err := scanBuilding(q.QueryRowContext(ctx, `SELECT `+buildingColumns+` FROM buildings WHERE id = $1`, id))
	if err != nil {
		return nil, notFoundIf(err, "Building")
	}
	return b, nil
}

// ListBuildings lists buildings, only those in ids when ids is not nil.
func (s *Store) ListBuildings(ctx context.Context, ids []string, p doorman.Page) ([]*doorman.Building, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixBuilding)
	if err != nil {
		return nil, "", err
	}
	if ids != nil && len(ids) == 0 {
		return []*doorman.Building{}, "", nil
	}
	var a args
	var conds []string
	if ids != nil {
		conds = append(conds, "id IN "+a.in(ids))
	}
	if after != "" {
		conds = append(conds, "id > "+a.add(after))
	}
	q := `SELECT ` + buildingColumns + ` FROM buildings` + where(conds) + ` ORDER BY id LIMIT ` + a.add(limit+1)
	list, err := collect(ctx, s.rdb, q, a, scanBuilding)
	if err != nil {
		return nil, "", s.translate("list buildings", err)
	}
	list, next := trim(list, limit, func(b *doorman.Building) string { return b.ID })
	return list, next, nil
}

// UpdateBuilding changes the fields of upd that are not nil. Returns
// ENOTFOUND or EINVALID.
func (s *Store) UpdateBuilding(ctx context.Context, id string, upd doorman.BuildingUpdate) (*doorman.Building, error) {
	e := s.entry(ctx, doorman.ActionBuildingUpdated, id)
	var out *doorman.Building
	err := s.write(ctx, "update building", e.Chain, func(tx *wtx) error {
		b, err := s.building(context.Background(), tx, id)
		if err != nil {
			return err
		}
		if upd.Name != nil {
			b.Name = *upd.Name
		}
		if upd.Address != nil {
			b.Address = *upd.Address
		}
		if upd.Timezone != nil {
			b.Timezone = *upd.Timezone
		}
		oldHours := b.DeliveryHours
		if upd.DeliveryHours != nil {
			b.DeliveryHours = *upd.DeliveryHours
		}
		if upd.MaxDistanceMeters != nil {
			b.MaxDistanceMeters = *upd.MaxDistanceMeters
		}
		if upd.OfflineDeliveryDays != nil {
			b.OfflineDeliveryDays = *upd.OfflineDeliveryDays
		}
		if err := b.Validate(); err != nil {
			return err
		}
		hours, err := encodeHours(b.DeliveryHours)
		if err != nil {
			return doorman.Errorf(doorman.EINVALID, "Delivery hours cannot be stored.")
		}
		b.UpdatedAt = s.clock()
		if _, err := tx.Exec(`UPDATE buildings SET name = $1, address = $2, timezone = $3, delivery_hours = $4,
			max_distance_meters = $5, offline_delivery_days = $6, updated_at = $7 WHERE id = $8`,
			b.Name, b.Address, b.Timezone, hours, b.MaxDistanceMeters, b.OfflineDeliveryDays, micros(b.UpdatedAt), id); err != nil {
			return err
		}
		e.Detail = b.Name
		if err := s.appendAudit(tx, e); err != nil {
			return err
		}
		if b.DeliveryHours.Widens(oldHours) {
			// Residents are told (app.Notices); the entry is the cause.
			w := s.entry(ctx, doorman.ActionBuildingHoursWidened, id)
			w.At = e.At
			detail, err := json.Marshal(struct {
				Old *doorman.WeeklyHours `json:"old"`
				New *doorman.WeeklyHours `json:"new"`
			}{oldHours, b.DeliveryHours})
			if err != nil {
				return err
			}
			w.Detail = string(detail)
			if err := s.appendAudit(tx, w); err != nil {
				return err
			}
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
