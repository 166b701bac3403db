package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

var _ doorman.ResidentStore = (*Store)(nil)

// Resident returns ENOTFOUND.
func (s *Store) Resident(ctx context.Context, id string) (*doorman.Resident, error) {
	r, err := scanResident(s.rdb.QueryRowContext(ctx, `SELECT `+residentColumns+` FROM residents WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("resident", notFoundIf(err, "Resident"))
	}
	return r, nil
}

// ResidentsByEmail returns the residents with that email, in every
// building, compared without regard to (ASCII) case.
func (s *Store) ResidentsByEmail(ctx context.Context, email string) ([]*doorman.Resident, error) {
	list, err := collect(ctx, s.rdb, `SELECT `+residentColumns+` FROM residents WHERE lower(email) = $1 ORDER BY id LIMIT 100`,
		[]any{strings.ToLower(email)}, scanResident)
	if err != nil {
		return nil, s.translate("residents by email", err)
	}
	return list, nil
}

// CreateResidentLink stores l and queues m in one transaction. Returns
// ENOTFOUND (resident) or EINVALID.
func (s *Store) CreateResidentLink(ctx context.Context, l *doorman.ResidentLink, m *doorman.Message) error {
	if !validTokenHash(l.TokenHash) {
		return doorman.Errorf(doorman.EINVALID, "A link needs the SHA-256 hex of its token.")
	} else if !l.ExpiresAt.After(l.CreatedAt) {
		return doorman.Errorf(doorman.EINVALID, "A link must expire after it is made.")
	} else if err := validMessage(m); err != nil {
		return err
	}
	id, mailID := s.ids.Next(doorman.PrefixResidentLink), s.ids.Next(doorman.PrefixMessage)
	created, expires := exact(l.CreatedAt), exact(l.ExpiresAt)
	now := s.clock()
	err := s.write(ctx, "create resident link", l.ResidentID, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM residents WHERE id = $1`, l.ResidentID); err != nil {
			return notFoundIf(err, "Resident")
		}
		if _, err := tx.Exec(`INSERT INTO resident_links (id, resident_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			id, l.ResidentID, l.TokenHash, micros(created), micros(expires)); err != nil {
			return err
		}
		_, err := insertMessage(tx, mailID, m, now)
		return err
	})
	if err != nil {
		return err
	}
	l.ID, l.CreatedAt, l.ExpiresAt, l.UsedAt = id, created, expires, nil
	queuedAs(m, mailID, now)
	return nil
}

// UseResidentLink marks the link used and returns it, once. Returns
// ENOTFOUND for an unknown, used or expired link.
func (s *Store) UseResidentLink(ctx context.Context, tokenHash string, now time.Time) (*doorman.ResidentLink, error) {
	var l *doorman.ResidentLink
	at := exact(now)
	err := s.write(ctx, "use resident link", tokenHash, func(tx *wtx) error {
		var created, expires int64
		var link doorman.ResidentLink
		err := tx.QueryRow(`UPDATE resident_links SET used_at = $1
			WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
			RETURNING id, resident_id, token_hash, created_at, expires_at`, micros(at), tokenHash).
			Scan(&link.ID, &link.ResidentID, &link.TokenHash, &created, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Link")
		} else if err != nil {
			return err
		}
		link.CreatedAt, link.ExpiresAt, link.UsedAt = fromMicros(created), fromMicros(expires), &at
		l = &link
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ResidentPreferences returns ENOTFOUND.
func (s *Store) ResidentPreferences(ctx context.Context, residentID string) (doorman.ResidentPreferences, error) {
	var p doorman.ResidentPreferences
	err := s.rdb.QueryRowContext(ctx, `SELECT notify_delivery, notify_entry FROM residents WHERE id = $1`, residentID).
		Scan(&p.NotifyDelivery, &p.NotifyEntry)
	if err != nil {
		return p, s.translate("resident preferences", notFoundIf(err, "Resident"))
	}
	return p, nil
}

// SetResidentPreferences returns ENOTFOUND.
func (s *Store) SetResidentPreferences(ctx context.Context, residentID string, p doorman.ResidentPreferences) error {
	return s.write(ctx, "set resident preferences", residentID, func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE residents SET notify_delivery = $1, notify_entry = $2 WHERE id = $3`,
			p.NotifyDelivery, p.NotifyEntry, residentID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("Resident")
		}
		return nil
	})
}

// UnitParcels lists the newest parcels addressed to a unit of the
// building.
func (s *Store) UnitParcels(ctx context.Context, buildingID, unitID string, limit int) ([]*doorman.Parcel, error) {
	list, err := collect(ctx, s.rdb, `SELECT `+parcelColumns+` FROM parcels WHERE building_id = $1 AND unit_id = $2
		ORDER BY id DESC LIMIT $3`, []any{buildingID, unitID, clampLimit(limit)}, scanParcel)
	if err != nil {
		return nil, s.translate("unit parcels", err)
	}
	return list, nil
}

// BuildingEntries lists the newest entries of the building's chain with
// one of the actions.
func (s *Store) BuildingEntries(ctx context.Context, buildingID string, actions []string, limit int) ([]*doorman.AuditEntry, error) {
	if len(actions) == 0 {
		return []*doorman.AuditEntry{}, nil
	}
	var a args
	q := `SELECT ` + auditColumns + ` FROM audit_entries WHERE chain = ` + a.add(buildingID) +
		` AND action IN ` + a.in(actions) + ` ORDER BY id DESC LIMIT ` + a.add(clampLimit(limit))
	list, err := collect(ctx, s.rdb, q, a, scanAudit)
	if err != nil {
		return nil, s.translate("building entries", err)
	}
	return list, nil
}

// EraseResident deletes the resident and everything of theirs (links and
// mail go with the row), revokes their sessions and records the deletion
// by the resident's ID only. Returns ENOTFOUND.
func (s *Store) EraseResident(ctx context.Context, buildingID, residentID string) error {
	e := s.entry(ctx, doorman.ActionResidentDataDeleted, buildingID)
	e.Detail = residentID
	return s.write(ctx, "erase resident", e.Chain, func(tx *wtx) error {
		if err := removeResident(tx, buildingID, residentID, e.At); err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
}

// removeResident deletes a resident of the building with everything of
// theirs (mail and links) and revokes their sessions, in tx: the one way a
// resident leaves, whether they erase their data or a manager removes
// them. Returns ENOTFOUND.
func removeResident(tx *wtx, buildingID, residentID string, at time.Time) error {
	if _, err := tx.Exec(`DELETE FROM outbox WHERE resident_id = $1`, residentID); err != nil {
		return err
	}
	if _, err := tx.Exec(`DELETE FROM resident_links WHERE resident_id = $1`, residentID); err != nil {
		return err
	}
	res, err := tx.Exec(`DELETE FROM residents WHERE id = $1 AND building_id = $2`, residentID, buildingID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("Resident")
	}
	_, err = tx.Exec(`UPDATE credentials SET revoked_at = $1 WHERE role = $2 AND subject_id = $3 AND revoked_at IS NULL`,
		micros(at), doorman.RoleResident, residentID)
	return err
}

// clampLimit bounds a list's limit to 1..MaxPageLimit.
func clampLimit(limit int) int {
	return doorman.Page{Limit: limit}.Normalize().Limit
}
