package sqlstore

import (
	"context"

	"github.com/doorman-dev/doorman"
)

// deviceEventColumns are the columns of a listed device event.
const deviceEventColumns = `id, device_id, door_id, kind, at, recorded_at, grant_id, reason, detail`

func scanDeviceEvent(sc scanner) (*doorman.DeviceEvent, error) {
	var e doorman.DeviceEvent
	var at, recorded int64
	if err := sc.Scan(&e.ID, &e.DeviceID, &e.DoorID, &e.Kind, &at, &recorded, &e.GrantID, &e.Reason, &e.Detail); err != nil {
		return nil, err
	}
	e.At, e.RecordedAt = fromMicros(at), fromMicros(recorded)
	return &e, nil
}

// OfflineActivity lists the door's events that reached the store at least
// doorman.OfflineActivityLag after they happened, and its reader's (offline
// grants) whenever they arrived, newest first (see
// doorman.DeviceStore). It walks the door's events by ID (the device's
// time order) from the newest.
func (s *Store) OfflineActivity(ctx context.Context, doorID string, p doorman.Page) ([]*doorman.DeviceEvent, string, error) {
	before, limit, err := pageOf(p, "evt")
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + deviceEventColumns + ` FROM device_events
		WHERE door_id = $1 AND (recorded_at - at >= $2 OR offline = $3)`
	args := []any{doorID, doorman.OfflineActivityLag.Microseconds(), true, limit + 1}
	if before != "" {
		q += ` AND id < $5`
		args = append(args, before)
	}
	q += ` ORDER BY id DESC LIMIT $4`
	list, err := collect(ctx, s.rdb, q, args, scanDeviceEvent)
	if err != nil {
		return nil, "", s.translate("offline activity", err)
	}
	list, next := trim(list, limit, func(e *doorman.DeviceEvent) string { return e.ID })
	return list, next, nil
}
