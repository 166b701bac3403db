package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/doorman-dev/doorman"
)

const courierColumns = `id, carrier_id, external_id, name, status, background_check_until, created_at, updated_at`

func scanCourier(sc scanner) (*doorman.Courier, error) {
	var c doorman.Courier
	var until sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.CarrierID, &c.ExternalID, &c.Name, &c.Status, &until, &created, &updated); err != nil {
		return nil, err
	}
	c.BackgroundCheckVerifiedUntil = timePtr(until)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

// UpsertCourier creates the courier or updates the one with the same
// carrier and external ID; it sets c.ID and timestamps and reports whether
// it created. Returns EINVALID, or ENOTFOUND if the carrier does not exist.
func (s *Store) UpsertCourier(ctx context.Context, c *doorman.Courier) (bool, error) {
	if err := c.Validate(); err != nil {
		return false, err
	}
	newID := s.ids.Next(doorman.PrefixCourier)
	now := s.clock()
	until := exactPtr(c.BackgroundCheckVerifiedUntil)
	var id string
	var createdAt time.Time
	var created bool
	err := s.write(ctx, "upsert courier", c.CarrierID, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM carriers WHERE id = $1`, c.CarrierID); err != nil {
			return notFoundIf(err, "Carrier")
		}
		err := tx.QueryRow(`INSERT INTO couriers (`+courierColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (carrier_id, external_id) DO NOTHING RETURNING id`,
			newID, c.CarrierID, c.ExternalID, c.Name, c.Status, nullMicros(until), micros(now)).Scan(&id)
		if err == nil {
			created, createdAt = true, now
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var at int64
		if err := tx.QueryRow(`UPDATE couriers SET name = $1, status = $2, background_check_until = $3, updated_at = $4
			WHERE carrier_id = $5 AND external_id = $6 RETURNING id, created_at`,
			c.Name, c.Status, nullMicros(until), micros(now), c.CarrierID, c.ExternalID).Scan(&id, &at); err != nil {
			return err
		}
		created, createdAt = false, fromMicros(at)
		return nil
	})
	if err != nil {
		return false, err
	}
	c.ID, c.CreatedAt, c.UpdatedAt = id, createdAt, now
	c.BackgroundCheckVerifiedUntil = until
	return created, nil
}

// Courier returns ENOTFOUND.
func (s *Store) Courier(ctx context.Context, id string) (*doorman.Courier, error) {
	c, err := scanCourier(s.rdb.QueryRowContext(ctx, `SELECT `+courierColumns+` FROM couriers WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("courier", notFoundIf(err, "Courier"))
	}
	return c, nil
}

// CourierByExternalID returns ENOTFOUND.
func (s *Store) CourierByExternalID(ctx context.Context, carrierID, externalID string) (*doorman.Courier, error) {
	c, err := scanCourier(s.rdb.QueryRowContext(ctx, `SELECT `+courierColumns+` FROM couriers
		WHERE carrier_id = $1 AND external_id = $2`, carrierID, externalID))
	if err != nil {
		return nil, s.translate("courier by external id", notFoundIf(err, "Courier"))
	}
	return c, nil
}

// ListCouriers lists a carrier's couriers.
func (s *Store) ListCouriers(ctx context.Context, carrierID string, p doorman.Page) ([]*doorman.Courier, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixCourier)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(ctx, s.rdb, `SELECT `+courierColumns+` FROM couriers WHERE carrier_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		[]any{carrierID, after, limit + 1}, scanCourier)
	if err != nil {
		return nil, "", s.translate("list couriers", err)
	}
	list, next := trim(list, limit, func(c *doorman.Courier) string { return c.ID })
	return list, next, nil
}
