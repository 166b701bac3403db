package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/doorman-dev/doorman"
)

var _ doorman.ReturnStore = (*Store)(nil)

const returnColumns = `id, building_id, unit_id, resident_id, carrier_id, tracking_number, place, status,
	created_at, collected_at, collected_by, overdue_at`

func scanReturn(sc scanner) (*doorman.Return, error) {
	var r doorman.Return
	var created int64
	var collectedAt, overdueAt sql.NullInt64
	var collectedBy sql.NullString
	if err := sc.Scan(&r.ID, &r.BuildingID, &r.UnitID, &r.ResidentID, &r.CarrierID, &r.TrackingNumber, &r.Place, &r.Status,
		&created, &collectedAt, &collectedBy, &overdueAt); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMicros(created)
	r.CollectedAt, r.OverdueAt = timePtr(collectedAt), timePtr(overdueAt)
	r.CollectedBy = collectedBy.String
	return &r, nil
}

// returnDetail is what a return's audit entries say: no personal data.
func returnDetail(tx *wtx, r *doorman.Return) (string, error) {
	var unit, carrier string
	if err := tx.QueryRow(`SELECT label FROM units WHERE id = $1`, r.UnitID).Scan(&unit); err != nil {
		return "", notFoundIf(err, "Unit")
	}
	if err := tx.QueryRow(`SELECT name FROM carriers WHERE id = $1`, r.CarrierID).Scan(&carrier); err != nil {
		return "", notFoundIf(err, "Carrier")
	}
	return "Unit " + unit + ", " + carrier + " " + r.TrackingNumber, nil
}

// RegisterReturn stores r (setting ID, Status and CreatedAt) with its
// return.registered audit entry.
func (s *Store) RegisterReturn(ctx context.Context, r *doorman.Return) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if !doorman.HasPrefix(r.BuildingID, doorman.PrefixBuilding) || r.UnitID == "" || r.ResidentID == "" {
		return doorman.Errorf(doorman.EINVALID, "Return building, unit and resident required.")
	}
	e := s.entry(ctx, doorman.ActionReturnRegistered, r.BuildingID)
	return s.write(ctx, "register return", r.BuildingID, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM residents WHERE id = $1 AND building_id = $2 AND unit_id = $3`,
			r.ResidentID, r.BuildingID, r.UnitID); err != nil {
			return notFoundIf(err, "Resident")
		}
		err := s.exists(tx, `SELECT 1 FROM returns WHERE carrier_id = $1 AND tracking_number = $2 AND status = `+sqlRegistered,
			r.CarrierID, r.TrackingNumber)
		if err == nil {
			return doorman.Errorf(doorman.ECONFLICT, "A return with tracking number %s is already registered for this carrier.", r.TrackingNumber)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		detail, err := returnDetail(tx, r)
		if err != nil {
			return err
		}
		r.ID = s.ids.Next(doorman.PrefixReturn)
		r.Status, r.CreatedAt = doorman.ReturnRegistered, s.clock()
		r.CollectedAt, r.CollectedBy, r.OverdueAt = nil, "", nil
		if _, err := tx.Exec(`INSERT INTO returns (id, building_id, unit_id, resident_id, carrier_id, tracking_number, place, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.ID, r.BuildingID, r.UnitID, r.ResidentID, r.CarrierID, r.TrackingNumber, r.Place, r.Status, micros(r.CreatedAt)); err != nil {
			return err
		}
		e.At, e.CarrierID, e.ParcelIDs, e.Detail = r.CreatedAt, r.CarrierID, []string{r.ID}, detail
		return s.appendAudit(tx, e)
	})
}

// Return returns a return.
func (s *Store) Return(ctx context.Context, id string) (*doorman.Return, error) {
	r, err := scanReturn(s.rdb.QueryRowContext(ctx, `SELECT `+returnColumns+` FROM returns WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("return", notFoundIf(err, "Return"))
	}
	return r, nil
}

// ResidentReturns lists the resident's returns, newest first.
func (s *Store) ResidentReturns(ctx context.Context, residentID string) ([]*doorman.Return, error) {
	list, err := collect(ctx, s.rdb, `SELECT `+returnColumns+` FROM returns WHERE resident_id = $1 ORDER BY id DESC`,
		[]any{residentID}, scanReturn)
	if err != nil {
		return nil, s.translate("resident returns", err)
	}
	return list, nil
}

// sqlRegistered is doorman.ReturnRegistered as an SQL literal. Queries
// name the status as a literal, not a bound parameter: the partial indexes
// on returns hold registered ones only, and a parameter compared with a
// partial index's condition makes SQLite compile the statement again at
// every execution (its plan depends on the value bound).
const sqlRegistered = "'" + doorman.ReturnRegistered + "'"

// ReturnsByTracking returns the registered returns with those tracking
// numbers.
func (s *Store) ReturnsByTracking(ctx context.Context, tracking []string) ([]*doorman.Return, error) {
	if len(tracking) == 0 {
		return []*doorman.Return{}, nil
	}
	var a args
	q := `SELECT ` + returnColumns + ` FROM returns WHERE status = ` + sqlRegistered +
		` AND tracking_number IN ` + a.in(tracking) + ` ORDER BY id`
	list, err := collect(ctx, s.rdb, q, a, scanReturn)
	if err != nil {
		return nil, s.translate("returns by tracking", err)
	}
	return list, nil
}

// PendingReturns lists the carrier's registered returns at buildings that
// allow it, oldest first.
func (s *Store) PendingReturns(ctx context.Context, carrierID string) ([]*doorman.Return, error) {
	list, err := collect(ctx, s.rdb, `SELECT `+prefixed("r.", returnColumns)+` FROM returns r
		JOIN building_carriers bc ON bc.building_id = r.building_id AND bc.carrier_id = r.carrier_id
		WHERE r.carrier_id = $1 AND r.status = `+sqlRegistered+` ORDER BY r.id`,
		[]any{carrierID}, scanReturn)
	if err != nil {
		return nil, s.translate("pending returns", err)
	}
	return list, nil
}

// CollectReturn marks the carrier's open return collected by the courier.
func (s *Store) CollectReturn(ctx context.Context, carrierID, tracking, courierID string) (*doorman.Return, error) {
	// The latest return of the carrier with the tracking number, open or
	// not, for the batch key and the answer to a second collection.
	cur, err := scanReturn(s.rdb.QueryRowContext(ctx, `SELECT `+returnColumns+` FROM returns
		WHERE carrier_id = $1 AND tracking_number = $2 ORDER BY id DESC LIMIT 1`, carrierID, tracking))
	if err != nil {
		return nil, s.translate("collect return", notFoundIf(err, "Return"))
	}
	e := s.entry(ctx, doorman.ActionPickupCollected, cur.BuildingID)
	var out *doorman.Return
	err = s.write(ctx, "collect return", cur.BuildingID, func(tx *wtx) error {
		r, err := scanReturn(tx.QueryRow(`SELECT `+returnColumns+` FROM returns WHERE id = $1`, cur.ID))
		if err != nil {
			return notFoundIf(err, "Return")
		}
		if r.Status != doorman.ReturnRegistered {
			return doorman.Errorf(doorman.ECONFLICT, "Return %s is already %s.", r.TrackingNumber, r.Status)
		}
		if err := s.exists(tx, `SELECT 1 FROM building_carriers WHERE building_id = $1 AND carrier_id = $2`, r.BuildingID, carrierID); err != nil {
			return notFoundIf(err, "Return")
		}
		if err := s.exists(tx, `SELECT 1 FROM couriers WHERE id = $1 AND carrier_id = $2`, courierID, carrierID); err != nil {
			return notFoundIf(err, "Courier")
		}
		detail, err := returnDetail(tx, r)
		if err != nil {
			return err
		}
		now := s.clock()
		res, err := tx.Exec(`UPDATE returns SET status = $1, collected_at = $2, collected_by = $3 WHERE id = $4 AND status = `+sqlRegistered,
			doorman.ReturnCollected, micros(now), courierID, r.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return doorman.Errorf(doorman.ECONFLICT, "Return %s changed meanwhile.", r.TrackingNumber)
		}
		r.Status, r.CollectedAt, r.CollectedBy = doorman.ReturnCollected, &now, courierID
		e.At, e.CarrierID, e.CourierID, e.ParcelIDs, e.Detail = now, carrierID, courierID, []string{r.ID}, detail
		if err := s.appendAudit(tx, e); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkOverdueReturns marks each registered return older than its
// building's return_overdue_days once, with a return.overdue entry.
func (s *Store) MarkOverdueReturns(ctx context.Context) (int, error) {
	now := s.clock()
	list, err := collect(ctx, s.rdb, `SELECT `+prefixed("r.", returnColumns)+` FROM returns r
		JOIN buildings b ON b.id = r.building_id
		WHERE r.status = `+sqlRegistered+` AND r.overdue_at IS NULL AND r.created_at + b.return_overdue_days * 86400000000 <= $1
		ORDER BY r.id`, []any{micros(now)}, scanReturn)
	if err != nil {
		return 0, s.translate("overdue returns", err)
	}
	marked := 0
	for _, r := range list {
		e := s.entry(ctx, doorman.ActionReturnOverdue, r.BuildingID)
		did := false
		err := s.write(ctx, "mark return overdue", r.BuildingID, func(tx *wtx) error {
			at := s.clock()
			res, err := tx.Exec(`UPDATE returns SET overdue_at = $1 WHERE id = $2 AND status = `+sqlRegistered+` AND overdue_at IS NULL`,
				micros(at), r.ID)
			if err != nil {
				return err
			}
			did = false
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return nil // collected, or another node marked it
			}
			detail, err := returnDetail(tx, r)
			if err != nil {
				return err
			}
			e.At, e.CarrierID, e.ParcelIDs, e.Detail = at, r.CarrierID, []string{r.ID}, detail
			if err := s.appendAudit(tx, e); err != nil {
				return err
			}
			did = true
			return nil
		})
		if err != nil {
			return marked, err
		}
		if did {
			marked++
		}
	}
	return marked, nil
}

// prefixed qualifies each of a comma-separated column list with p.
func prefixed(p, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
