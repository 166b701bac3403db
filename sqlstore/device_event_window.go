package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/doorman-dev/doorman"
)

// A device's event rate limit (doorman.DeviceEventWindow and
// doorman.DeviceEventBurst) is kept in device_event_windows: one row per
// device and event kind, holding the window its events are counted in.
// Times there are the store's times of receipt, never the device's, so a
// device cannot open a new window by dating its events.

// takeEventWindow decides whether e, an event just kept in device_events
// at now, is chained one by one (true) or counted in its device's window
// for its kind (false, and counted). It locks the window's row first (an
// upsert, which takes the row lock in every engine), so that concurrent
// events of one device and kind are decided one after the other, and then
// chains the counts of the building's closed windows, this one's included,
// so that a count is chained before the next event of its kind.
func (s *Store) takeEventWindow(tx *wtx, e *doorman.DeviceEvent, buildingID string, now time.Time) (bool, error) {
	if _, err := tx.Exec(`INSERT INTO device_event_windows (device_id, kind, building_id, door_id, opened_at)
		VALUES ($1, $2, $3, $4, 0)
		ON CONFLICT (device_id, kind) DO UPDATE SET opened_at = device_event_windows.opened_at`,
		e.DeviceID, e.Kind, buildingID, e.DoorID); err != nil {
		return false, err
	}
	if err := s.chainCounts(tx, buildingID, e.ID, now); err != nil {
		return false, err
	}
	var opened, chained int64
	if err := tx.QueryRow(`SELECT opened_at, chained FROM device_event_windows WHERE device_id = $1 AND kind = $2`,
		e.DeviceID, e.Kind).Scan(&opened, &chained); err != nil {
		return false, err
	}
	switch {
	case opened <= micros(now.Add(-doorman.DeviceEventWindow)): // closed, or never opened
		_, err := tx.Exec(`UPDATE device_event_windows SET opened_at = $1, chained = 1 WHERE device_id = $2 AND kind = $3`,
			micros(now), e.DeviceID, e.Kind)
		return true, err
	case chained < doorman.DeviceEventBurst:
		_, err := tx.Exec(`UPDATE device_event_windows SET chained = chained + 1 WHERE device_id = $1 AND kind = $2`,
			e.DeviceID, e.Kind)
		return true, err
	}
	_, err := tx.Exec(`UPDATE device_event_windows SET counted = counted + 1,
		first_counted_at = CASE WHEN counted = 0 THEN $1 ELSE first_counted_at END, last_counted_at = $1
		WHERE device_id = $2 AND kind = $3`, micros(now), e.DeviceID, e.Kind)
	return false, err
}

// closedWindow is a window whose count is due to be chained.
type closedWindow struct {
	deviceID, kind, doorID string
	counted                int64
	first, last            int64
}

// chainCounts appends to the building's chain, in one entry each, the
// counts of its device event windows that have closed by now, and makes
// the counted events' rows in device_events name that entry (all but
// except, the event being recorded, which is not counted yet). Windows
// another transaction holds are skipped where the engine can lock rows:
// that transaction chains them, or a later one does.
func (s *Store) chainCounts(tx *wtx, buildingID, except string, now time.Time) error {
	rows, err := tx.Query(`SELECT device_id, kind, door_id, counted, first_counted_at, last_counted_at
		FROM device_event_windows WHERE building_id = $1 AND counted > 0 AND opened_at <= $2
		ORDER BY device_id, kind`+s.dialect.SkipLocked, buildingID, micros(now.Add(-doorman.DeviceEventWindow)))
	if err != nil {
		return err
	}
	var due []closedWindow
	for rows.Next() {
		var w closedWindow
		if err := rows.Scan(&w.deviceID, &w.kind, &w.doorID, &w.counted, &w.first, &w.last); err != nil {
			_ = rows.Close()
			return err
		}
		due = append(due, w)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, w := range due {
		first, last := fromMicros(w.first), fromMicros(w.last)
		a := &doorman.AuditEntry{Chain: chainOf(buildingID), At: last, Action: doorman.DeviceEventAction(w.kind),
			Actor: deviceActor(w.deviceID), BuildingID: buildingID, DoorID: w.doorID, Count: w.counted,
			Detail: fmt.Sprintf("%d more %s events received from %s to %s, beyond %d in %s: kept and counted, not chained one by one",
				w.counted, w.kind, first.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano),
				doorman.DeviceEventBurst, doorman.DeviceEventWindow)}
		if err := s.appendAudit(tx, a); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE device_events SET audit_id = $1
			WHERE device_id = $2 AND kind = $3 AND audit_id = '' AND id <> $4`, a.ID, w.deviceID, w.kind, except); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE device_event_windows SET counted = 0, first_counted_at = 0, last_counted_at = 0
			WHERE device_id = $1 AND kind = $2`, w.deviceID, w.kind); err != nil {
			return err
		}
	}
	return nil
}

// ChainEventCounts chains the counts of every closed device event window,
// each building in a write of its own keyed by its chain.
func (s *Store) ChainEventCounts(ctx context.Context) (int, error) {
	now := s.clock()
	buildings, err := collect(ctx, s.rdb, `SELECT DISTINCT building_id FROM device_event_windows
		WHERE counted > 0 AND opened_at <= $1 ORDER BY building_id`,
		[]any{micros(now.Add(-doorman.DeviceEventWindow))}, func(sc scanner) (string, error) {
			var id string
			return id, sc.Scan(&id)
		})
	if err != nil {
		return 0, s.translate("chain event counts", err)
	}
	chained := 0
	for _, b := range buildings {
		var n int
		err := s.write(ctx, "chain event counts", chainOf(b), func(tx *wtx) error {
			before, err := s.chainLength(tx, chainOf(b))
			if err != nil {
				return err
			}
			if err := s.chainCounts(tx, b, "", now); err != nil {
				return err
			}
			after, err := s.chainLength(tx, chainOf(b))
			n = int(after - before)
			return err
		})
		if err != nil {
			return chained, err
		}
		chained += n
	}
	return chained, nil
}

// chainLength returns the seq of a chain's head (0 for an empty chain).
func (s *Store) chainLength(tx *wtx, chain string) (int64, error) {
	var seq int64
	err := tx.QueryRow(`SELECT seq FROM audit_heads WHERE chain = $1`, chain).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}
