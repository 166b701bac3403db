package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/doorman-dev/doorman"
)

const credentialColumns = `id, role, subject_id, carrier_id, name, prefix, token_hash, created_at, expires_at, revoked_at`

func scanCredential(sc scanner) (*doorman.Credential, error) {
	var c doorman.Credential
	var created int64
	var expires, revoked sql.NullInt64
	if err := sc.Scan(&c.ID, &c.Role, &c.SubjectID, &c.CarrierID, &c.Name, &c.Prefix, &c.TokenHash,
		&created, &expires, &revoked); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	c.ExpiresAt, c.RevokedAt = timePtr(expires), timePtr(revoked)
	return &c, nil
}

// validTokenHash reports whether h looks like doorman.HashToken's output.
func validTokenHash(h string) bool {
	b, err := hex.DecodeString(h)
	return err == nil && len(b) == 32 && hex.EncodeToString(b) == h
}

// CreateCredential stores c with its TokenHash, setting ID (if empty) and
// CreatedAt. Carrier API keys are recorded in the platform audit chain;
// sessions are not. Returns EINVALID or ECONFLICT (ID or token reused).
func (s *Store) CreateCredential(ctx context.Context, c *doorman.Credential) error {
	switch c.Role {
	case doorman.RoleOperator, doorman.RoleManager, doorman.RoleCarrier, doorman.RoleCourier, doorman.RoleResident:
	default:
		return doorman.Errorf(doorman.EINVALID, "Unknown credential role %q.", c.Role)
	}
	if !validTokenHash(c.TokenHash) {
		return doorman.Errorf(doorman.EINVALID, "A credential needs the SHA-256 hex of its token.")
	} else if c.Role != doorman.RoleOperator && c.SubjectID == "" {
		return doorman.Errorf(doorman.EINVALID, "A %s credential needs a subject.", c.Role)
	} else if (c.Role == doorman.RoleCarrier || c.Role == doorman.RoleCourier) && c.CarrierID == "" {
		return doorman.Errorf(doorman.EINVALID, "A %s credential needs a carrier.", c.Role)
	} else if len(c.Name) > 200 || len(c.Prefix) > 16 {
		return doorman.Errorf(doorman.EINVALID, "Credential name or prefix too long.")
	}
	id := c.ID
	if id == "" {
		id = s.ids.Next(doorman.PrefixCredential)
	} else if !doorman.HasPrefix(id, doorman.PrefixCredential) {
		return doorman.Errorf(doorman.EINVALID, "Malformed credential ID.")
	}
	now := s.clock()
	expires := exactPtr(c.ExpiresAt)
	var e *doorman.AuditEntry
	if c.Role == doorman.RoleCarrier {
		e = s.entry(ctx, doorman.ActionAPIKeyCreated, "")
		e.CarrierID, e.Detail = c.CarrierID, id
	}
	err := s.write(ctx, "create credential", doorman.PlatformChain, func(tx *wtx) error {
		_, err := tx.Exec(`INSERT INTO credentials (`+credentialColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)`,
			id, c.Role, c.SubjectID, c.CarrierID, c.Name, c.Prefix, c.TokenHash, micros(now), nullMicros(expires))
		if s.dialect.classify(err) == ErrUnique {
			return doorman.Errorf(doorman.ECONFLICT, "The credential exists already.")
		} else if err != nil {
			return err
		}
		if e != nil {
			return s.appendAudit(tx, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.ID, c.CreatedAt, c.ExpiresAt, c.RevokedAt = id, now, expires, nil
	return nil
}

// CredentialByTokenHash returns the credential active at now, or ENOTFOUND,
// also for revoked or expired credentials.
func (s *Store) CredentialByTokenHash(ctx context.Context, hash string, now time.Time) (*doorman.Credential, error) {
	c, err := scanCredential(s.rdb.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`, hash, micros(now)))
	if err != nil {
		return nil, s.translate("credential", notFoundIf(err, "Credential"))
	}
	return c, nil
}

// ListCredentials lists credentials of a role and subject, revoked and
// expired ones included.
func (s *Store) ListCredentials(ctx context.Context, role, subjectID string, p doorman.Page) ([]*doorman.Credential, string, error) {
	after, limit, err := pageOf(p, doorman.PrefixCredential)
	if err != nil {
		return nil, "", err
	}
	list, err := collect(ctx, s.rdb, `SELECT `+credentialColumns+` FROM credentials
		WHERE role = $1 AND subject_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
		[]any{role, subjectID, after, limit + 1}, scanCredential)
	if err != nil {
		return nil, "", s.translate("list credentials", err)
	}
	list, next := trim(list, limit, func(c *doorman.Credential) string { return c.ID })
	return list, next, nil
}

// RevokeCredential returns ENOTFOUND unless a credential with that ID, role
// and subject exists. Revoking twice is not an error; the first revocation
// of a carrier API key is recorded in the platform audit chain.
func (s *Store) RevokeCredential(ctx context.Context, role, subjectID, id string) error {
	e := s.entry(ctx, doorman.ActionAPIKeyRevoked, "")
	e.Detail = id
	return s.write(ctx, "revoke credential", doorman.PlatformChain, func(tx *wtx) error {
		var carrierID string
		err := tx.QueryRow(`UPDATE credentials SET revoked_at = $1
			WHERE id = $2 AND role = $3 AND subject_id = $4 AND revoked_at IS NULL RETURNING carrier_id`,
			micros(e.At), id, role, subjectID).Scan(&carrierID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFoundIf(s.exists(tx, `SELECT 1 FROM credentials WHERE id = $1 AND role = $2 AND subject_id = $3`,
				id, role, subjectID), "Credential")
		} else if err != nil {
			return err
		}
		if role != doorman.RoleCarrier {
			return nil
		}
		e.CarrierID = carrierID
		return s.appendAudit(tx, e)
	})
}

// CountCredentials counts the credentials of a role that are active now.
func (s *Store) CountCredentials(ctx context.Context, role string) (int, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM credentials
		WHERE role = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`,
		role, micros(s.clock())).Scan(&n)
	if err != nil {
		return 0, s.translate("count credentials", err)
	}
	return n, nil
}
