package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/doorman-dev/doorman"
)

// maxKeyIDLength bounds a command key ID; a PASERK k4.pid is 51 characters.
const maxKeyIDLength = 128

// InitCommandKey registers kid as the deployment's command key unless a
// key is registered already, and returns the registered keys, oldest
// first. The first key takes position 0; the uniqueness of position makes
// the registration atomic, so of several nodes starting at once exactly
// one key is registered. Returns EINVALID for an empty, overlong or
// non-printable key ID.
func (s *Store) InitCommandKey(ctx context.Context, kid string) ([]string, error) {
	if !validKeyID(kid) {
		return nil, doorman.Errorf(doorman.EINVALID, "A command key ID is 1 to %d printable characters.", maxKeyIDLength)
	}
	now := s.clock()
	var keys []string
	err := s.write(ctx, "init command key", "command_keys", func(tx *wtx) error {
		if _, err := tx.Exec(`INSERT INTO command_keys (kid, position, registered_at, activates_at) VALUES ($1, 0, $2, $2)
			ON CONFLICT DO NOTHING`, kid, micros(now)); err != nil {
			return err
		}
		var err error
		keys, err = commandKeys(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// CommandKeys lists the registered command key IDs, oldest first.
func (s *Store) CommandKeys(ctx context.Context) ([]string, error) {
	keys, err := commandKeys(ctx, s.rdb)
	if err != nil {
		return nil, s.translate("command keys", err)
	}
	return keys, nil
}

func commandKeys(ctx context.Context, q querier) ([]string, error) {
	return collect(ctx, q, `SELECT kid FROM command_keys ORDER BY position`, nil, func(sc scanner) (string, error) {
		var kid string
		err := sc.Scan(&kid)
		return kid, err
	})
}

// validKeyID reports whether kid is 1 to maxKeyIDLength printable ASCII
// characters without spaces.
func validKeyID(kid string) bool {
	if kid == "" || len(kid) > maxKeyIDLength {
		return false
	}
	for i := 0; i < len(kid); i++ {
		if kid[i] <= ' ' || kid[i] > '~' {
			return false
		}
	}
	return true
}

const commandKeyColumns = `kid, public_key, registered_at, activates_at, retires_at, revoked_at`

func scanCommandKey(sc scanner) (*doorman.CommandKey, error) {
	var k doorman.CommandKey
	var registered, activates int64
	var retires, revoked sql.NullInt64
	if err := sc.Scan(&k.KeyID, &k.PublicKey, &registered, &activates, &retires, &revoked); err != nil {
		return nil, err
	}
	k.RegisteredAt, k.ActivatesAt = fromMicros(registered), fromMicros(activates)
	if retires.Valid {
		k.RetiresAt = fromMicros(retires.Int64)
	}
	if revoked.Valid {
		k.RevokedAt = fromMicros(revoked.Int64)
	}
	return &k, nil
}

// CommandKeySet returns every registered key, oldest first, and the set's
// sequence number.
func (s *Store) CommandKeySet(ctx context.Context) (*doorman.CommandKeySet, error) {
	set, err := commandKeySet(ctx, s.rdb)
	if err != nil {
		return nil, s.translate("command key set", err)
	}
	return set, nil
}

func commandKeySet(ctx context.Context, q querier) (*doorman.CommandKeySet, error) {
	set := &doorman.CommandKeySet{}
	if err := q.QueryRowContext(ctx, `SELECT seq FROM command_key_set WHERE id = 1`).Scan(&set.Seq); err != nil {
		return nil, err
	}
	keys, err := collect(ctx, q, `SELECT `+commandKeyColumns+` FROM command_keys ORDER BY position`, nil, scanCommandKey)
	if err != nil {
		return nil, err
	}
	set.Keys = keys
	return set, nil
}

// SetCommandKeyPublic records the public key of a key registered without
// one. It does not move the sequence: the set devices are sent only
// gains what they pinned at enrollment already.
func (s *Store) SetCommandKeyPublic(ctx context.Context, kid, publicKey string) error {
	if !validKeyID(kid) || !validKeyID(publicKey) {
		return doorman.Errorf(doorman.EINVALID, "A command key needs its ID and public key.")
	}
	return s.write(ctx, "set command key public", "command_keys", func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE command_keys SET public_key = $1 WHERE kid = $2 AND public_key = ''`, publicKey, kid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		var found int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM command_keys WHERE kid = $1`, kid).Scan(&found); err != nil {
			return err
		} else if found == 0 {
			return doorman.Errorf(doorman.ENOTFOUND, "Command key not found.")
		}
		return nil
	})
}

// AddCommandKey registers k as the next key. The sequence is moved on
// first: its row lock serialises every change of the ring, so two
// rotations at once cannot both find no waiting key.
func (s *Store) AddCommandKey(ctx context.Context, k *doorman.CommandKey, now, retireAt time.Time) (*doorman.CommandKeySet, error) {
	now, activates, retireAt := exact(now), exact(k.ActivatesAt), exact(retireAt)
	if !validKeyID(k.KeyID) || !validKeyID(k.PublicKey) {
		return nil, doorman.Errorf(doorman.EINVALID, "A command key needs its ID and public key.")
	} else if activates.Before(now) || retireAt.Before(activates) {
		return nil, doorman.Errorf(doorman.EINVALID, "A new command key activates from now on, and the old one retires after that.")
	}
	var set *doorman.CommandKeySet
	err := s.write(ctx, "add command key", "command_keys", func(tx *wtx) error {
		cur, err := bumpKeySet(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Key(k.KeyID) != nil {
			return doorman.Errorf(doorman.ECONFLICT, "The command key is registered already.")
		}
		for _, o := range cur.Keys {
			if cur.Status(o, now) == doorman.KeyNext {
				return doorman.Errorf(doorman.ECONFLICT, "Command key %s waits to activate: activate or revoke it first.", o.KeyID)
			}
		}
		if a := cur.Active(now); a != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE command_keys SET retires_at = $1 WHERE kid = $2`, micros(retireAt), a.KeyID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO command_keys (kid, position, registered_at, public_key, activates_at)
			VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM command_keys), $2, $3, $4)`,
			k.KeyID, micros(now), k.PublicKey, micros(activates)); err != nil {
			return err
		}
		set, err = commandKeySet(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// ActivateCommandKey makes the next key kid active at now.
func (s *Store) ActivateCommandKey(ctx context.Context, kid string, now, retireAt time.Time) (*doorman.CommandKeySet, error) {
	now, retireAt = exact(now), exact(retireAt)
	if retireAt.Before(now) {
		return nil, doorman.Errorf(doorman.EINVALID, "The old command key retires after the new one activates.")
	}
	var set *doorman.CommandKeySet
	err := s.write(ctx, "activate command key", "command_keys", func(tx *wtx) error {
		cur, err := bumpKeySet(ctx, tx)
		if err != nil {
			return err
		}
		k := cur.Key(kid)
		if k == nil {
			return doorman.Errorf(doorman.ENOTFOUND, "Command key not found.")
		} else if st := cur.Status(k, now); st != doorman.KeyNext {
			return doorman.Errorf(doorman.ECONFLICT, "Command key %s is %s, not next.", kid, st)
		}
		if a := cur.Active(now); a != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE command_keys SET retires_at = $1 WHERE kid = $2`, micros(retireAt), a.KeyID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE command_keys SET activates_at = $1 WHERE kid = $2`, micros(now), kid); err != nil {
			return err
		}
		set, err = commandKeySet(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// RevokeCommandKey revokes kid at now.
func (s *Store) RevokeCommandKey(ctx context.Context, kid string, now time.Time) (*doorman.CommandKeySet, error) {
	now = exact(now)
	var set *doorman.CommandKeySet
	err := s.write(ctx, "revoke command key", "command_keys", func(tx *wtx) error {
		cur, err := commandKeySet(ctx, tx)
		if err != nil {
			return err
		}
		k := cur.Key(kid)
		if k == nil {
			return doorman.Errorf(doorman.ENOTFOUND, "Command key not found.")
		} else if !k.RevokedAt.IsZero() {
			set = cur
			return nil
		}
		if _, err := bumpKeySet(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE command_keys SET revoked_at = $1 WHERE kid = $2`, micros(now), kid); err != nil {
			return err
		}
		set, err = commandKeySet(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// bumpKeySet moves the key set's sequence on, taking the row's lock, and
// returns the set as it stands under that lock.
func bumpKeySet(ctx context.Context, tx *wtx) (*doorman.CommandKeySet, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE command_key_set SET seq = seq + 1 WHERE id = 1`); err != nil {
		return nil, err
	}
	return commandKeySet(ctx, tx)
}
