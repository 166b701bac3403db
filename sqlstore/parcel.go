package sqlstore

import (
	"context"
	"database/sql"

	"github.com/doorman-dev/doorman"
)

const parcelColumns = `id, carrier_id, tracking_number, building_id, unit_id, courier_id, status, delivered_at, created_at, updated_at`

func scanParcel(sc scanner) (*doorman.Parcel, error) {
	var p doorman.Parcel
	var courier sql.NullString
	var delivered sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.CarrierID, &p.TrackingNumber, &p.BuildingID, &p.UnitID, &courier, &p.Status,
		&delivered, &created, &updated); err != nil {
		return nil, err
	}
	p.CourierID = courier.String
	p.DeliveredAt = timePtr(delivered)
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

// Parcel returns ENOTFOUND.
func (s *Store) Parcel(ctx context.Context, id string) (*doorman.Parcel, error) {
	p, err := scanParcel(s.rdb.QueryRowContext(ctx, `SELECT `+parcelColumns+` FROM parcels WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("parcel", notFoundIf(err, "Parcel"))
	}
	return p, nil
}

// ParcelByTracking returns the carrier's parcel, or ENOTFOUND.
func (s *Store) ParcelByTracking(ctx context.Context, carrierID, tracking string) (*doorman.Parcel, error) {
	p, err := s.parcelByTracking(ctx, s.rdb, carrierID, tracking)
	return p, s.translate("parcel by tracking", err)
}

func (s *Store) parcelByTracking(ctx context.Context, q querier, carrierID, tracking string) (*doorman.Parcel, error) {
	p, err := scanParcel(q.QueryRowContext(ctx, `SELECT `+parcelColumns+` FROM parcels
		WHERE carrier_id = $1 AND tracking_number = $2`, carrierID, tracking))
	if err != nil {
		return nil, notFoundIf(err, "Parcel")
	}
	return p, nil
}

// ParcelsByTracking returns every parcel of any carrier with one of the
// tracking numbers, ordered by ID.
func (s *Store) ParcelsByTracking(ctx context.Context, tracking []string) ([]*doorman.Parcel, error) {
	const chunk = 500
	out := []*doorman.Parcel{}
	for len(tracking) > 0 {
		n := min(chunk, len(tracking))
		var a args
		list, err := collect(ctx, s.rdb, `SELECT `+parcelColumns+` FROM parcels WHERE tracking_number IN `+
			a.in(tracking[:n])+` ORDER BY id`, a, scanParcel)
		if err != nil {
			return nil, s.translate("parcels by tracking", err)
		}
		out = append(out, list...)
		tracking = tracking[n:]
	}
	return out, nil
}

// ListParcels lists parcels matching f.
func (s *Store) ListParcels(ctx context.Context, f doorman.ParcelFilter, p doorman.Page) ([]*doorman.Parcel, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixParcel)
	if err != nil {
		return nil, "", err
	}
	var a args
	var conds []string
	if f.CarrierID != "" {
		conds = append(conds, "carrier_id = "+a.add(f.CarrierID))
	}
	if f.BuildingID != "" {
		conds = append(conds, "building_id = "+a.add(f.BuildingID))
	}
	if f.CourierID != "" {
		conds = append(conds, "courier_id = "+a.add(f.CourierID))
	}
	if f.Status != "" {
		conds = append(conds, "status = "+a.add(f.Status))
	}
	if after != "" {
		conds = append(conds, "id > "+a.add(after))
	}
	list, err := collect(ctx, s.rdb, `SELECT `+parcelColumns+` FROM parcels`+where(conds)+
		` ORDER BY id LIMIT `+a.add(limit+1), a, scanParcel)
	if err != nil {
		return nil, "", s.translate("list parcels", err)
	}
	list, next := trim(list, limit, func(p *doorman.Parcel) string { return p.ID })
	return list, next, nil
}

// SetParcelStatus moves a carrier's parcel to status, checking the
// transition, and optionally (re)assigns its courier (courierID "" keeps
// the current one). Marking delivered sets DeliveredAt and appends a
// parcel.delivered entry to the building's audit chain. Returns ENOTFOUND
// (parcel, or a courier not of this carrier), EINVALID or ECONFLICT.
func (s *Store) SetParcelStatus(ctx context.Context, carrierID, tracking, status, courierID string) (*doorman.Parcel, error) {
	return s.setParcelStatus(ctx, carrierID, tracking, status, courierID, nil)
}

// setParcelStatus is SetParcelStatus; note, when not nil, is the delivery
// note written with a delivery, in the same transaction.
func (s *Store) setParcelStatus(ctx context.Context, carrierID, tracking, status, courierID string, note *string) (*doorman.Parcel, error) {
	if !doorman.ValidParcelStatus(status) {
		return nil, doorman.Errorf(doorman.EINVALID, "Unknown parcel status %q.", status)
	}
	cur, err := s.ParcelByTracking(ctx, carrierID, tracking) // for the batch key; the write reads it again
	if err != nil {
		return nil, err
	}
	e := s.entry(ctx, doorman.ActionParcelDelivered, cur.BuildingID)
	var out *doorman.Parcel
	err = s.write(ctx, "set parcel status", cur.BuildingID, func(tx *wtx) error {
		p, err := s.parcelByTracking(context.Background(), tx, carrierID, tracking)
		if err != nil {
			return err
		}
		if p.Status == doorman.ParcelDelivered && status == doorman.ParcelDelivered {
			// Checked here, in the write, so that two marks at once
			// cannot both succeed.
			return &doorman.Error{Code: doorman.ECONFLICT, Reason: doorman.ReasonParcelAlreadyDelivered,
				Message: "Parcel " + p.TrackingNumber + " is already delivered."}
		}
		if err := doorman.CanTransition(p.Status, status); err != nil {
			return err
		}
		if courierID != "" && courierID != p.CourierID {
			if err := s.exists(tx, `SELECT 1 FROM couriers WHERE id = $1 AND carrier_id = $2`, courierID, carrierID); err != nil {
				return notFoundIf(err, "Courier")
			}
			p.CourierID = courierID
		}
		now := s.clock()
		delivered := status == doorman.ParcelDelivered && p.Status != doorman.ParcelDelivered
		if delivered {
			p.DeliveredAt = &now
		}
		old := p.Status
		p.Status, p.UpdatedAt = status, now
		if err := updateParcel(tx, p, old); err != nil {
			return err
		}
		if delivered && note != nil {
			if _, err := tx.Exec(`UPDATE parcels SET delivery_note = $1 WHERE id = $2`, nullString(*note), p.ID); err != nil {
				return err
			}
		}
		if delivered {
			e.At, e.ParcelIDs = now, []string{p.ID}
			e.CarrierID, e.CourierID = p.CarrierID, p.CourierID
			if err := s.appendAudit(tx, e); err != nil {
				return err
			}
		}
		out = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateParcel writes p over the stored parcel, provided its status is
// still old; ECONFLICT if another write changed it meanwhile.
func updateParcel(tx *wtx, p *doorman.Parcel, old string) error {
	res, err := tx.Exec(`UPDATE parcels SET building_id = $1, unit_id = $2, courier_id = $3, status = $4,
		delivered_at = $5, updated_at = $6 WHERE id = $7 AND status = $8`,
		p.BuildingID, p.UnitID, nullString(p.CourierID), p.Status, nullMicros(p.DeliveredAt), micros(p.UpdatedAt), p.ID, old)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return doorman.Errorf(doorman.ECONFLICT, "Parcel %s changed meanwhile; try again.", p.TrackingNumber)
	}
	return nil
}
