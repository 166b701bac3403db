package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/doorman-dev/doorman"
)

const carrierColumns = `id, name, created_at`

func scanCarrier(sc scanner) (*doorman.Carrier, error) {
	var c doorman.Carrier
	var created int64
	if err := sc.Scan(&c.ID, &c.Name, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// CreateCarrier sets c.ID and CreatedAt and records it in the platform
// audit chain. Returns EINVALID or ECONFLICT (name taken).
func (s *Store) CreateCarrier(ctx context.Context, c *doorman.Carrier) error {
	if err := c.Validate(); err != nil {
		return err
	}
	id := s.ids.Next(doorman.PrefixCarrier)
	now := s.clock()
	e := s.entry(ctx, doorman.ActionCarrierCreated, "")
	e.CarrierID = id
	e.Detail = c.Name
	err := s.write(ctx, "create carrier", e.Chain, func(tx *wtx) error {
		_, err := tx.Exec(`INSERT INTO carriers (`+carrierColumns+`) VALUES ($1, $2, $3)`, id, c.Name, micros(now))
		if s.dialect.classify(err) == ErrUnique {
			return doorman.Errorf(doorman.ECONFLICT, "A carrier named %q exists.", c.Name)
		} else if err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
	if err != nil {
		return err
	}
	c.ID, c.CreatedAt = id, now
	return nil
}

// Carrier returns ENOTFOUND.
func (s *Store) Carrier(ctx context.Context, id string) (*doorman.Carrier, error) {
	c, err := scanCarrier(s.rdb.QueryRowContext(ctx, `SELECT `+carrierColumns+` FROM carriers WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("carrier", notFoundIf(err, "Carrier"))
	}
	return c, nil
}

// ListCarriers lists all carriers.
func (s *Store) ListCarriers(ctx context.Context, p doorman.Page) ([]*doorman.Carrier, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixCarrier)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(ctx, s.rdb, `SELECT `+carrierColumns+` FROM carriers WHERE id > $1 ORDER BY id LIMIT $2`,
		[]any{after, limit + 1}, scanCarrier)
	if err != nil {
		return nil, "", s.translate("list carriers", err)
	}
	list, next := trim(list, limit, func(c *doorman.Carrier) string { return c.ID })
	return list, next, nil
}

// AllowCarrier lets a carrier's couriers into a building. Allowing an
// allowed carrier is not an error and records nothing. Returns ENOTFOUND.
func (s *Store) AllowCarrier(ctx context.Context, buildingID, carrierID string) error {
	e := s.entry(ctx, doorman.ActionCarrierAllowed, buildingID)
	e.CarrierID = carrierID
	return s.write(ctx, "allow carrier", e.Chain, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM buildings WHERE id = $1`, buildingID); err != nil {
			return notFoundIf(err, "Building")
		}
		if err := s.exists(tx, `SELECT 1 FROM carriers WHERE id = $1`, carrierID); err != nil {
			return notFoundIf(err, "Carrier")
		}
		res, err := tx.Exec(`INSERT INTO building_carriers (building_id, carrier_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (building_id, carrier_id) DO NOTHING`, buildingID, carrierID, micros(e.At))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if err := s.appendAudit(tx, e); err != nil {
			return err
		}
		// The entry is what the residents' notices are produced from:
		// access waits for them (doorman.CarrierAllowance.Active).
		_, err = tx.Exec(`UPDATE building_carriers SET notice_source = $1 WHERE building_id = $2 AND carrier_id = $3`,
			e.ID, buildingID, carrierID)
		return err
	})
}

// DisallowCarrier returns ENOTFOUND if the carrier was not allowed.
func (s *Store) DisallowCarrier(ctx context.Context, buildingID, carrierID string) error {
	e := s.entry(ctx, doorman.ActionCarrierRemoved, buildingID)
	e.CarrierID = carrierID
	return s.write(ctx, "disallow carrier", e.Chain, func(tx *wtx) error {
		res, err := tx.Exec(`DELETE FROM building_carriers WHERE building_id = $1 AND carrier_id = $2`, buildingID, carrierID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return doorman.Errorf(doorman.ENOTFOUND, "The carrier is not allowed at this building.")
		}
		return s.appendAudit(tx, e)
	})
}

// AllowedCarriers lists the carriers a building allows, by ID.
func (s *Store) AllowedCarriers(ctx context.Context, buildingID string) ([]*doorman.Carrier, error) {
	list, err := collect(ctx, s.rdb, `SELECT c.id, c.name, c.created_at FROM carriers c
		JOIN building_carriers bc ON bc.carrier_id = c.id WHERE bc.building_id = $1 ORDER BY c.id`,
		[]any{buildingID}, scanCarrier)
	if err != nil {
		return nil, s.translate("allowed carriers", err)
	}
	return list, nil
}

// CarrierBuildings lists the buildings that allow a carrier.
func (s *Store) CarrierBuildings(ctx context.Context, carrierID string, p doorman.Page) ([]*doorman.Building, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixBuilding)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(ctx, s.rdb, `SELECT b.id, b.name, b.address, b.timezone, b.delivery_hours,
		b.max_distance_meters, b.offline_delivery_days, b.created_at, b.updated_at FROM buildings b
		JOIN building_carriers bc ON bc.building_id = b.id
		WHERE bc.carrier_id = $1 AND b.id > $2 ORDER BY b.id LIMIT $3`,
		[]any{carrierID, after, limit + 1}, scanBuilding)
	if err != nil {
		return nil, "", s.translate("carrier buildings", err)
	}
	list, next := trim(list, limit, func(b *doorman.Building) string { return b.ID })
	return list, next, nil
}

// CarrierAllowed reports whether the building allows the carrier.
func (s *Store) CarrierAllowed(ctx context.Context, buildingID, carrierID string) (bool, error) {
	err := existsCtx(ctx, s.rdb, `SELECT 1 FROM building_carriers WHERE building_id = $1 AND carrier_id = $2`, buildingID, carrierID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, s.translate("carrier allowed", err)
	}
	return true, nil
}
