package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

var _ doorman.AlertStore = (*Store)(nil)

// AlertSettings returns the building's settings, the defaults until its
// managers change them. Returns ENOTFOUND.
func (s *Store) AlertSettings(ctx context.Context, buildingID string) (*doorman.AlertSettings, error) {
	st, err := alertSettings(ctx, s.rdb, buildingID)
	return st, s.translate("alert settings", err)
}

// alertSettings reads the building's settings through q.
func alertSettings(ctx context.Context, q querier, buildingID string) (*doorman.AlertSettings, error) {
	var disabled sql.NullString
	var minutes, days sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT a.disabled, a.offline_minutes, a.retention_days
		FROM buildings b LEFT JOIN building_alert_settings a ON a.building_id = b.id WHERE b.id = $1`,
		buildingID).Scan(&disabled, &minutes, &days)
	if err != nil {
		return nil, notFoundIf(err, "Building")
	}
	st := doorman.DefaultAlertSettings()
	if minutes.Valid {
		st.OfflineMinutes, st.RetentionDays = int(minutes.Int64), int(days.Int64)
		if disabled.String != "" {
			st.Disabled = strings.Split(disabled.String, ",")
		}
	}
	return st, nil
}

// SetAlertSettings validates and stores the building's settings; a change
// appends building.updated to its chain in the same transaction. Returns
// EINVALID or ENOTFOUND.
func (s *Store) SetAlertSettings(ctx context.Context, buildingID string, st *doorman.AlertSettings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	e := s.entry(ctx, doorman.ActionBuildingUpdated, buildingID)
	e.Detail = fmt.Sprintf("alerts off: %s; offline after %d min; personal data kept %d days",
		orNone(strings.Join(st.Disabled, ", ")), st.OfflineMinutes, st.RetentionDays)
	return s.write(ctx, "set alert settings", buildingID, func(tx *wtx) error {
		was, err := alertSettings(ctx, tx, buildingID)
		if err != nil {
			return err
		}
		if slices.Equal(was.Disabled, st.Disabled) && was.OfflineMinutes == st.OfflineMinutes && was.RetentionDays == st.RetentionDays {
			return nil
		}
		if _, err := tx.Exec(`INSERT INTO building_alert_settings (building_id, disabled, offline_minutes, retention_days, updated_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (building_id) DO UPDATE SET disabled = $2,
			offline_minutes = $3, retention_days = $4, updated_at = $5`,
			buildingID, strings.Join(st.Disabled, ","), st.OfflineMinutes, st.RetentionDays, micros(e.At)); err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
}

// orNone is s, or "none" when s is empty.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// BuildingManagerEmails lists the email addresses of the building's
// managers, sorted.
func (s *Store) BuildingManagerEmails(ctx context.Context, buildingID string) ([]string, error) {
	emails, err := collect(ctx, s.rdb, `SELECT m.email FROM managers m
		JOIN manager_buildings mb ON mb.manager_id = m.id WHERE mb.building_id = $1 ORDER BY m.email`,
		[]any{buildingID}, func(sc scanner) (string, error) {
			var e string
			return e, sc.Scan(&e)
		})
	return emails, s.translate("building manager emails", err)
}

// doorSweep is a door the status sweep looks at.
type doorSweep struct {
	id, buildingID string
	lastSeen       int64
	offlineSince   sql.NullInt64
	minutes        int64
}

// SweepDoorStatus marks doors offline and online again, one audit entry
// each per outage (see doorman.AlertStore).
func (s *Store) SweepDoorStatus(ctx context.Context, now time.Time) (offline, online int, err error) {
	doors, err := collect(ctx, s.rdb, `SELECT d.id, d.building_id, d.last_seen_at, d.offline_since,
		COALESCE(a.offline_minutes, $1)
		FROM doors d LEFT JOIN building_alert_settings a ON a.building_id = d.building_id
		WHERE d.last_seen_at IS NOT NULL
		AND (d.offline_since IS NOT NULL OR EXISTS (SELECT 1 FROM devices v WHERE v.door_id = d.id AND v.revoked_at IS NULL))
		ORDER BY d.id`, []any{doorman.DefaultOfflineMinutes}, func(sc scanner) (doorSweep, error) {
		var d doorSweep
		return d, sc.Scan(&d.id, &d.buildingID, &d.lastSeen, &d.offlineSince, &d.minutes)
	})
	if err != nil {
		return 0, 0, s.translate("sweep door status", err)
	}
	now = exact(now)
	for _, d := range doors {
		switch {
		case !d.offlineSince.Valid && now.Sub(fromMicros(d.lastSeen)) > time.Duration(d.minutes)*time.Minute:
			e := s.entry(ctx, doorman.ActionDoorOffline, d.buildingID)
			e.At, e.DoorID = now, d.id
			e.Detail = fmt.Sprintf("No report from the door's device since %s (more than %d minutes).",
				fromMicros(d.lastSeen).Format(time.RFC3339), d.minutes)
			done, err := s.markDoor(ctx, e, `UPDATE doors SET offline_since = last_seen_at
				WHERE id = $1 AND offline_since IS NULL AND last_seen_at = $2`, d.id, d.lastSeen)
			if err != nil {
				return offline, online, err
			} else if done {
				offline++
			}
		case d.offlineSince.Valid && d.lastSeen > d.offlineSince.Int64:
			e := s.entry(ctx, doorman.ActionDoorOnline, d.buildingID)
			e.At, e.DoorID = now, d.id
			e.Detail = fmt.Sprintf("The door's device reported again at %s.", fromMicros(d.lastSeen).Format(time.RFC3339))
			done, err := s.markDoor(ctx, e, `UPDATE doors SET offline_since = NULL
				WHERE id = $1 AND offline_since = $2 AND last_seen_at > offline_since`, d.id, d.offlineSince.Int64)
			if err != nil {
				return offline, online, err
			} else if done {
				online++
			}
		}
	}
	return offline, online, nil
}

// markDoor runs update and, if it changed the door (no other sweep did
// first), appends e, in one transaction.
func (s *Store) markDoor(ctx context.Context, e *doorman.AuditEntry, update string, a ...any) (bool, error) {
	var done bool
	err := s.write(ctx, "mark door", e.Chain, func(tx *wtx) error {
		done = false
		res, err := tx.Exec(update, a...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		done = true
		return s.appendAudit(tx, e)
	})
	return done, err
}

// MarkChainBroken appends audit.chain_broken once per break. Returns
// ENOTFOUND.
func (s *Store) MarkChainBroken(ctx context.Context, buildingID, detail string) (bool, error) {
	e := s.entry(ctx, doorman.ActionAuditChainBroken, buildingID)
	e.Detail = detail
	var appended bool
	err := s.write(ctx, "mark chain broken", buildingID, func(tx *wtx) error {
		appended = false
		if _, err := alertSettings(ctx, tx, buildingID); err != nil {
			return err
		}
		res, err := tx.Exec(`INSERT INTO building_alert_settings (building_id, offline_minutes, retention_days, chain_broken_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT (building_id) DO UPDATE SET chain_broken_at = $4
			WHERE building_alert_settings.chain_broken_at IS NULL`,
			buildingID, doorman.DefaultOfflineMinutes, doorman.DefaultRetentionDays, micros(e.At))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		appended = true
		return s.appendAudit(tx, e)
	})
	return appended, err
}

// MarkChainVerified clears the building's broken mark. Returns ENOTFOUND.
func (s *Store) MarkChainVerified(ctx context.Context, buildingID string) error {
	return s.write(ctx, "mark chain verified", buildingID, func(tx *wtx) error {
		if _, err := alertSettings(ctx, tx, buildingID); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE building_alert_settings SET chain_broken_at = NULL WHERE building_id = $1`, buildingID)
		return err
	})
}

// CountDenials counts the access.denied entries c selects.
func (s *Store) CountDenials(ctx context.Context, c doorman.DenialCount) (int, error) {
	var a args
	conds := []string{"action = " + a.add(doorman.ActionAccessDenied), "at >= " + a.add(micros(c.Since)),
		"chain = " + a.add(c.Chain), "seq <= " + a.add(c.UpToSeq)}
	switch {
	case c.CourierID != "" && c.DoorID == "":
		conds = append(conds, "courier_id = "+a.add(c.CourierID))
	case c.DoorID != "" && c.CourierID == "":
		conds = append(conds, "door_id = "+a.add(c.DoorID))
	default:
		return 0, doorman.Errorf(doorman.EINVALID, "Count the denials of a courier or of a door.")
	}
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_entries`+where(conds), a...).Scan(&n)
	return n, s.translate("count denials", err)
}

// ClaimRetentionRun records the retention job's run for the building
// unless it ran after since. Returns ENOTFOUND.
func (s *Store) ClaimRetentionRun(ctx context.Context, buildingID string, now, since time.Time) (bool, error) {
	var claimed bool
	err := s.write(ctx, "claim retention run", buildingID, func(tx *wtx) error {
		claimed = false
		if _, err := alertSettings(ctx, tx, buildingID); err != nil {
			return err
		}
		res, err := tx.Exec(`INSERT INTO building_alert_settings (building_id, offline_minutes, retention_days, retention_run_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT (building_id) DO UPDATE SET retention_run_at = $4
			WHERE building_alert_settings.retention_run_at IS NULL OR building_alert_settings.retention_run_at <= $5`,
			buildingID, doorman.DefaultOfflineMinutes, doorman.DefaultRetentionDays, micros(now), micros(since))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
}

// ClearDeliveryNotesBefore clears the notes of the building's parcels
// delivered before before.
func (s *Store) ClearDeliveryNotesBefore(ctx context.Context, buildingID string, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "clear delivery notes", buildingID, func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE parcels SET delivery_note = NULL
			WHERE building_id = $1 AND delivery_note IS NOT NULL AND delivered_at < $2`, buildingID, micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
