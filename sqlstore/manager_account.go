package sqlstore

import (
	"context"
	"database/sql"

	"github.com/doorman-dev/doorman"
)

var _ doorman.ManagerAccountStore = (*Store)(nil)

// Manager returns ENOTFOUND.
func (s *Store) Manager(ctx context.Context, id string) (*doorman.Manager, error) {
	m, err := scanManager(s.rdb.QueryRowContext(ctx, `SELECT `+managerColumns+` FROM managers WHERE id = $1`, id))
	if err != nil {
		return nil, s.translate("manager", notFoundIf(err, "Manager"))
	}
	return m, nil
}

// ManagerTOTP returns the manager's TOTP factor, a zero one when there is
// none. Returns ENOTFOUND.
func (s *Store) ManagerTOTP(ctx context.Context, managerID string) (*doorman.ManagerTOTP, error) {
	var secret sql.NullString
	var enabled sql.NullInt64
	var t doorman.ManagerTOTP
	err := s.rdb.QueryRowContext(ctx, `SELECT totp_secret, totp_enabled_at, totp_last_step FROM managers WHERE id = $1`,
		managerID).Scan(&secret, &enabled, &t.LastStep)
	if err != nil {
		return nil, s.translate("manager totp", notFoundIf(err, "Manager"))
	}
	t.Secret, t.EnabledAt = secret.String, timePtr(enabled)
	return &t, nil
}

// SetManagerTOTP replaces the manager's TOTP factor; a zero one removes
// it. Returns ENOTFOUND.
func (s *Store) SetManagerTOTP(ctx context.Context, managerID string, t *doorman.ManagerTOTP) error {
	var secret any
	if t.Secret != "" {
		secret = t.Secret
	}
	return s.write(ctx, "set manager totp", "", func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE managers SET totp_secret = $1, totp_enabled_at = $2, totp_last_step = $3 WHERE id = $4`,
			secret, nullMicros(exactPtr(t.EnabledAt)), t.LastStep, managerID)
		return oneRow(res, err, "Manager")
	})
}

// UseManagerTOTPStep records step as the last accepted one if it is later
// than the recorded one, in one conditional UPDATE, and reports whether it
// was. Returns ENOTFOUND.
func (s *Store) UseManagerTOTPStep(ctx context.Context, managerID string, step int64) (bool, error) {
	used := false
	err := s.write(ctx, "use manager totp step", "", func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE managers SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, managerID)
		if err := oneRow(res, err, "Manager"); err == nil {
			used = true
			return nil
		} else if doorman.ErrorCode(err) != doorman.ENOTFOUND {
			return err
		}
		return notFoundIf(s.exists(tx, `SELECT 1 FROM managers WHERE id = $1`, managerID), "Manager")
	})
	return used, err
}

// RevokeCredentials revokes every credential of the role and subject not
// revoked yet and returns how many it revoked.
func (s *Store) RevokeCredentials(ctx context.Context, role, subjectID string) (int, error) {
	var n int64
	err := s.write(ctx, "revoke credentials", "", func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE credentials SET revoked_at = $1 WHERE role = $2 AND subject_id = $3 AND revoked_at IS NULL`,
			micros(s.clock()), role, subjectID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// oneRow turns an UPDATE's result into ENOTFOUND when it changed no row.
func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	} else if n == 0 {
		return doorman.Errorf(doorman.ENOTFOUND, "%s not found.", what)
	}
	return nil
}
