package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

const (
	managerColumns = `id, email, name, password_hash, created_at`
	inviteColumns  = `id, building_id, email, token_hash, created_at, expires_at, used_at`
)

func scanManager(sc scanner) (*doorman.Manager, error) {
	var m doorman.Manager
	var created int64
	if err := sc.Scan(&m.ID, &m.Email, &m.Name, &m.PasswordHash, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

// emailKey is how emails are compared: case does not tell two managers
// apart.
func emailKey(email string) string { return strings.ToLower(email) }

// CreateInvite stores an invitation, setting ID and CreatedAt, and
// ExpiresAt (doorman.InviteTTL from now) when zero. Returns EINVALID or
// ENOTFOUND (building).
func (s *Store) CreateInvite(ctx context.Context, inv *doorman.ManagerInvite) error {
	if !doorman.ValidEmail(inv.Email) {
		return doorman.Errorf(doorman.EINVALID, "A valid email is required.")
	} else if !validTokenHash(inv.TokenHash) {
		return doorman.Errorf(doorman.EINVALID, "An invitation needs the SHA-256 hex of its token.")
	}
	id := s.ids.Next(doorman.PrefixInvite)
	now := s.clock()
	expires := exact(inv.ExpiresAt)
	if inv.ExpiresAt.IsZero() {
		expires = now.Add(doorman.InviteTTL)
	} else if !expires.After(now) {
		return doorman.Errorf(doorman.EINVALID, "An invitation must expire in the future.")
	}
	e := s.entry(ctx, doorman.ActionManagerInvited, inv.BuildingID)
	e.Detail = inv.Email
	err := s.write(ctx, "create invite", e.Chain, func(tx *wtx) error {
		if err := s.exists(tx, `SELECT 1 FROM buildings WHERE id = $1`, inv.BuildingID); err != nil {
			return notFoundIf(err, "Building")
		}
		_, err := tx.Exec(`INSERT INTO invites (`+inviteColumns+`) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
			id, inv.BuildingID, inv.Email, inv.TokenHash, micros(now), micros(expires))
		if s.dialect.classify(err) == ErrUnique {
			return doorman.Errorf(doorman.ECONFLICT, "The invitation token is in use.")
		} else if err != nil {
			return err
		}
		return s.appendAudit(tx, e)
	})
	if err != nil {
		return err
	}
	inv.ID, inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = id, now, expires, nil
	return nil
}

// AcceptInvite consumes the invitation with that token hash, once: the
// claim is a single conditional UPDATE, so of two concurrent accepts one
// wins and the other gets ENOTFOUND. It creates the manager (name and
// password hash required) or, if a manager with the invite's email exists
// and passwordHash is "", attaches them; either way they join the
// building. Returns ENOTFOUND for an unknown, used or expired invitation,
// ECONFLICT when the email has an account but passwordHash is given, and
// EINVALID for a new account without name or password hash. A refused
// accept leaves the invitation unused.
func (s *Store) AcceptInvite(ctx context.Context, tokenHash, name, passwordHash string, now time.Time) (*doorman.Manager, error) {
	now = exact(now)
	actor := doorman.ActorFromContext(ctx)
	newID := s.ids.Next(doorman.PrefixManager)
	var out *doorman.Manager
	err := s.write(ctx, "accept invite", "", func(tx *wtx) error {
		var inviteID, buildingID, email string
		err := tx.QueryRow(`UPDATE invites SET used_at = $1
			WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING id, building_id, email`,
			micros(now), tokenHash).Scan(&inviteID, &buildingID, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return doorman.Errorf(doorman.ENOTFOUND, "The invitation is unknown, used or expired.")
		} else if err != nil {
			return err
		}

		m, err := scanManager(tx.QueryRow(`SELECT `+managerColumns+` FROM managers WHERE email_key = $1`, emailKey(email)))
		switch {
		case err == nil && passwordHash != "":
			return doorman.Errorf(doorman.ECONFLICT, "An account with this email exists: accept the invitation again without a password, and the building is added to that account.")
		case err == nil:
		case !errors.Is(err, sql.ErrNoRows):
			return err
		case passwordHash == "" || name == "":
			return doorman.Errorf(doorman.EINVALID, "A name and a password are required.")
		default:
			m = &doorman.Manager{ID: newID, Email: email, Name: name, PasswordHash: passwordHash, CreatedAt: now}
			if _, err := tx.Exec(`INSERT INTO managers (id, email, email_key, name, password_hash, created_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, m.ID, m.Email, emailKey(m.Email), m.Name, m.PasswordHash, micros(now)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(`INSERT INTO manager_buildings (manager_id, building_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (manager_id, building_id) DO NOTHING`, m.ID, buildingID, micros(now)); err != nil {
			return err
		}
		e := &doorman.AuditEntry{Chain: chainOf(buildingID), At: now, Action: doorman.ActionManagerJoined,
			Actor: actor, BuildingID: buildingID, Detail: m.ID}
		if actor == "system" {
			e.Actor = doorman.RoleManager + ":" + m.ID
		}
		if err := s.appendAudit(tx, e); err != nil {
			return err
		}
		out = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ManagerByEmail returns ENOTFOUND. Case does not matter.
func (s *Store) ManagerByEmail(ctx context.Context, email string) (*doorman.Manager, error) {
	m, err := scanManager(s.rdb.QueryRowContext(ctx, `SELECT `+managerColumns+` FROM managers WHERE email_key = $1`, emailKey(email)))
	if err != nil {
		return nil, s.translate("manager by email", notFoundIf(err, "Manager"))
	}
	return m, nil
}

// ManagerBuildingIDs lists the buildings a manager manages, by ID.
func (s *Store) ManagerBuildingIDs(ctx context.Context, managerID string) ([]string, error) {
	ids, err := collect(ctx, s.rdb, `SELECT building_id FROM manager_buildings WHERE manager_id = $1 ORDER BY building_id`,
		[]any{managerID}, func(sc scanner) (string, error) {
			var id string
			return id, sc.Scan(&id)
		})
	if err != nil {
		return nil, s.translate("manager buildings", err)
	}
	return ids, nil
}

// SetManagerPasswordHash replaces a manager's password hash (a rehash on
// sign-in with new cost parameters). Returns ENOTFOUND or EINVALID.
func (s *Store) SetManagerPasswordHash(ctx context.Context, managerID, passwordHash string) error {
	if !strings.HasPrefix(passwordHash, "$argon2id$") {
		return doorman.Errorf(doorman.EINVALID, "A password hash must be an argon2id PHC string.")
	}
	return s.write(ctx, "set manager password hash", "", func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE managers SET password_hash = $1 WHERE id = $2`, passwordHash, managerID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return doorman.Errorf(doorman.ENOTFOUND, "Manager not found.")
		}
		return nil
	})
}
