package sqlstore

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
)

// PruneDeviceEvents deletes up to limit rows of device_events recorded
// before before whose audit entry exists (audit_id set), oldest first, in
// one write. Rows still counted in an open window (audit_id empty) stay.
func (s *Store) PruneDeviceEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, doorman.Errorf(doorman.EINVALID, "Prune limit must be positive.")
	}
	var n int64
	err := s.write(ctx, "prune device events", "", func(tx *wtx) error {
		res, err := tx.Exec(`DELETE FROM device_events WHERE id IN (
			SELECT id FROM device_events WHERE audit_id <> '' AND recorded_at < $1
			ORDER BY recorded_at LIMIT $2)`, micros(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
