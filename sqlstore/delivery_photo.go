package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/doorman-dev/doorman"
)

var _ doorman.DeliveryPhotoStore = (*Store)(nil)

// PutDeliveryPhoto stores the parcel's photo, replacing any. Returns
// ENOTFOUND unless the parcel is addressed to p.BuildingID.
func (s *Store) PutDeliveryPhoto(ctx context.Context, p *doorman.DeliveryPhoto) error {
	p.CreatedAt = s.clock()
	return s.write(ctx, "put delivery photo", p.BuildingID, func(tx *wtx) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM parcels WHERE id = $1 AND building_id = $2`,
			p.ParcelID, p.BuildingID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return doorman.Errorf(doorman.ENOTFOUND, "Parcel not found.")
		}
		if _, err := tx.Exec(`DELETE FROM delivery_photos WHERE parcel_id = $1`, p.ParcelID); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO delivery_photos (parcel_id, building_id, unit_id, content_type, data, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, p.ParcelID, p.BuildingID, p.UnitID, p.ContentType, p.Data, micros(p.CreatedAt))
		return err
	})
}

// DeliveryPhoto returns the parcel's photo. Returns ENOTFOUND.
func (s *Store) DeliveryPhoto(ctx context.Context, parcelID string) (*doorman.DeliveryPhoto, error) {
	p := &doorman.DeliveryPhoto{}
	var at int64
	err := s.rdb.QueryRowContext(ctx, `SELECT parcel_id, building_id, unit_id, content_type, data, created_at
		FROM delivery_photos WHERE parcel_id = $1`, parcelID).
		Scan(&p.ParcelID, &p.BuildingID, &p.UnitID, &p.ContentType, &p.Data, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, doorman.Errorf(doorman.ENOTFOUND, "Photo not found.")
	} else if err != nil {
		return nil, s.translate("delivery photo", err)
	}
	p.CreatedAt = fromMicros(at)
	return p, nil
}

// DeliveryPhotoParcels says which of the building's parcels have a photo.
func (s *Store) DeliveryPhotoParcels(ctx context.Context, buildingID string, parcelIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	const chunk = 500
	for len(parcelIDs) > 0 {
		n := min(chunk, len(parcelIDs))
		var a args
		rows, err := s.rdb.QueryContext(ctx, `SELECT parcel_id FROM delivery_photos
			WHERE building_id = `+a.add(buildingID)+` AND parcel_id IN `+a.in(parcelIDs[:n]), a...)
		if err != nil {
			return nil, s.translate("delivery photo parcels", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, s.translate("delivery photo parcels", err)
			}
			out[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, s.translate("delivery photo parcels", err)
		}
		if err := rows.Err(); err != nil {
			return nil, s.translate("delivery photo parcels", err)
		}
		parcelIDs = parcelIDs[n:]
	}
	return out, nil
}

// DeleteDeliveryPhotosBefore removes the building's photos taken before
// the time; the retention hook RetentionDeliveryPhotos.
func (s *Store) DeleteDeliveryPhotosBefore(ctx context.Context, buildingID string, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "delete delivery photos", buildingID, func(tx *wtx) error {
		res, err := tx.Exec(`DELETE FROM delivery_photos WHERE building_id = $1 AND created_at < $2`,
			buildingID, micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
