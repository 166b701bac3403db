package sqlstore

import (
	"context"
	"database/sql"

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
	err := s.write(ctx, "init command key", "command_keys", func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO command_keys (kid, position, registered_at) VALUES ($1, 0, $2)
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
