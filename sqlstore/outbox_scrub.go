package sqlstore

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
)

// ScrubMessagesBefore empties the bodies of a building's delivered or dead
// messages created before before, in one write.
func (s *Store) ScrubMessagesBefore(ctx context.Context, buildingID string, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "scrub messages", "", func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE outbox SET subject = '', text_body = '', html_body = '', payload = NULL
			WHERE building_id = $1 AND created_at < $2 AND status IN ($3, $4)
			AND (subject <> '' OR text_body <> '' OR html_body <> '' OR payload IS NOT NULL)`,
			buildingID, micros(before), doorman.MessageSent, doorman.MessageDead)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
