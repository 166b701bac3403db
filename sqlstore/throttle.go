package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/doorman-dev/doorman"
)

// throttlePrune is the most expired throttle rows one ThrottleFail
// deletes. Each call adds at most one row and deletes up to this many
// expired ones, so expired rows cannot pile up, and no single failure
// pays for a large clean-up.
const throttlePrune = 64

// Throttle returns the failures counted for key in its current window and
// when that window ends, or zero and the zero time if no window is current
// at now. Returns EINVALID for an empty key.
func (s *Store) Throttle(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	if key == "" {
		return 0, time.Time{}, errEmptyThrottleKey()
	}
	var n int
	var end int64
	err := s.rdb.QueryRowContext(ctx, `SELECT failures, window_end FROM throttles
		WHERE key_hash = $1 AND window_end > $2`, throttleHash(key), micros(now)).Scan(&n, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	} else if err != nil {
		return 0, time.Time{}, s.translate("throttle", err)
	}
	return n, fromMicros(end), nil
}

// ThrottleFail counts one failure for key at now and returns the count and
// the end of the key's window. One upsert does the counting: it starts a
// window (count 1, ending at now+window) for a new key or one whose window
// ended at or before now, and otherwise adds one to the count and keeps the
// window's end. The engine runs it atomically against the key's row, so
// concurrent calls from any number of nodes are all counted. Before
// counting it deletes up to throttlePrune expired rows of any key. Returns
// EINVALID for an empty key or a window shorter than a microsecond.
func (s *Store) ThrottleFail(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if key == "" {
		return 0, time.Time{}, errEmptyThrottleKey()
	}
	if window < time.Microsecond {
		return 0, time.Time{}, doorman.Errorf(doorman.EINVALID, "A throttle window is at least a microsecond.")
	}
	hash, at, end := throttleHash(key), micros(now), micros(now.Add(window))
	var n int
	var until int64
	err := s.write(ctx, "throttle fail", "throttle "+hash, func(tx *wtx) error {
		if _, err := tx.Exec(`DELETE FROM throttles WHERE key_hash IN (SELECT key_hash FROM throttles
			WHERE window_end <= $1 LIMIT $2`+s.dialect.SkipLocked+`)`, at, throttlePrune); err != nil {
			return err
		}
		return tx.QueryRow(`INSERT INTO throttles (key_hash, failures, window_end) VALUES ($1, 1, $2)
			ON CONFLICT (key_hash) DO UPDATE SET
				failures = CASE WHEN throttles.window_end <= $3 THEN 1 ELSE throttles.failures + 1 END,
				window_end = CASE WHEN throttles.window_end <= $3 THEN excluded.window_end ELSE throttles.window_end END
			RETURNING failures, window_end`, hash, end, at).Scan(&n, &until)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return n, fromMicros(until), nil
}

// ThrottleReset forgets key. Forgetting an unknown key is not an error.
// Returns EINVALID for an empty key.
func (s *Store) ThrottleReset(ctx context.Context, key string) error {
	if key == "" {
		return errEmptyThrottleKey()
	}
	hash := throttleHash(key)
	return s.write(ctx, "throttle reset", "throttle "+hash, func(tx *wtx) error {
		_, err := tx.Exec(`DELETE FROM throttles WHERE key_hash = $1`, hash)
		return err
	})
}

// throttleHash returns the hex SHA-256 of a throttle key, which is all the
// store keeps of it: keys are email and client addresses.
func throttleHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func errEmptyThrottleKey() error {
	return doorman.Errorf(doorman.EINVALID, "A throttle key must not be empty.")
}
