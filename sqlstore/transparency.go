package sqlstore

import (
	"context"

	"github.com/doorman-dev/doorman"
)

var _ doorman.TransparencyStore = (*Store)(nil)

// SetBuildingTransparent turns the building's transparency page on or
// off; a change appends building.updated to the building's chain in the
// same transaction. Returns ENOTFOUND.
func (s *Store) SetBuildingTransparent(ctx context.Context, buildingID string, on bool) error {
	e := s.entry(ctx, doorman.ActionBuildingUpdated, buildingID)
	e.Detail = "transparency page off"
	if on {
		e.Detail = "transparency page on"
	}
	return s.write(ctx, "set building transparent", buildingID, func(tx *wtx) error {
		var was bool
		if err := tx.QueryRow(`SELECT transparent FROM buildings WHERE id = $1`, buildingID).Scan(&was); err != nil {
			return notFoundIf(err, "Building")
		}
		if was == on {
			return nil
		}
		if _, err := tx.Exec(`UPDATE buildings SET transparent = $1, updated_at = $2 WHERE id = $3`,
			on, micros(e.At), buildingID); err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
}

// BuildingTransparent reports whether the building's transparency page is
// on. Returns ENOTFOUND.
func (s *Store) BuildingTransparent(ctx context.Context, buildingID string) (bool, error) {
	var on bool
	err := s.rdb.QueryRowContext(ctx, `SELECT transparent FROM buildings WHERE id = $1`, buildingID).Scan(&on)
	if err != nil {
		return false, s.translate("building transparent", notFoundIf(err, "Building"))
	}
	return on, nil
}
