package sqlstore

import (
	"context"

	"github.com/doorman-dev/doorman"
)

var _ doorman.DeliveryNoteStore = (*Store)(nil)

// SetDeliveryNote stores where the parcel was left ("" clears the note).
// Returns ENOTFOUND.
func (s *Store) SetDeliveryNote(ctx context.Context, parcelID, note string) error {
	p, err := s.Parcel(ctx, parcelID) // for the batch key
	if err != nil {
		return err
	}
	return s.write(ctx, "set delivery note", p.BuildingID, func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE parcels SET delivery_note = $1, updated_at = $2 WHERE id = $3`,
			nullString(note), micros(s.clock()), parcelID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return doorman.Errorf(doorman.ENOTFOUND, "Parcel not found.")
		}
		return nil
	})
}

// DeliveryNotes returns the notes of those of the parcels that are
// addressed to the building and have one.
func (s *Store) DeliveryNotes(ctx context.Context, buildingID string, parcelIDs []string) (map[string]string, error) {
	out := map[string]string{}
	const chunk = 500
	for len(parcelIDs) > 0 {
		n := min(chunk, len(parcelIDs))
		var a args
		rows, err := s.rdb.QueryContext(ctx, `SELECT id, delivery_note FROM parcels
			WHERE building_id = `+a.add(buildingID)+` AND delivery_note IS NOT NULL AND id IN `+a.in(parcelIDs[:n]), a...)
		if err != nil {
			return nil, s.translate("delivery notes", err)
		}
		for rows.Next() {
			var id, note string
			if err := rows.Scan(&id, &note); err != nil {
				rows.Close()
				return nil, s.translate("delivery notes", err)
			}
			out[id] = note
		}
		if err := rows.Close(); err != nil {
			return nil, s.translate("delivery notes", err)
		}
		if err := rows.Err(); err != nil {
			return nil, s.translate("delivery notes", err)
		}
		parcelIDs = parcelIDs[n:]
	}
	return out, nil
}
