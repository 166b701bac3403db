package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/doorman-dev/doorman"
)

// AbandonedClaimAge is how long an unfinished Idempotency-Key claim holds.
// A request that crashed between BeginIdempotent and FinishIdempotent
// would otherwise block its key for good; after this age the next request
// with the same key and body takes the claim over.
const AbandonedClaimAge = 5 * time.Minute

// BeginIdempotent claims key for scope with requestHash. The claim is an
// INSERT that only one of two concurrent requests can make. It returns nil
// for a fresh claim, which the caller must settle with FinishIdempotent;
// if the key was used before it returns the stored response (Done false
// while the first request is still running). Returns EPRECONDITION if the
// key was used with another request, EINVALID for an empty or overlong key.
func (s *Store) BeginIdempotent(ctx context.Context, scope, key, requestHash string) (*doorman.IdempotentResponse, error) {
	if scope == "" || key == "" || len(key) > 255 || requestHash == "" {
		return nil, doorman.Errorf(doorman.EINVALID, "An Idempotency-Key is 1 to 255 characters.")
	}
	now := s.clock()
	var out *doorman.IdempotentResponse
	err := s.write(ctx, "begin idempotent", scope, func(tx *wtx) error {
		out = nil
		res, err := tx.Exec(`INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, body, done, created_at, updated_at)
			VALUES ($1, $2, $3, 0, NULL, $4, $5, $5) ON CONFLICT (scope, idem_key) DO NOTHING`,
			scope, key, requestHash, false, micros(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var r doorman.IdempotentResponse
		var updated int64
		if err := tx.QueryRow(`SELECT request_hash, status, body, done, updated_at FROM idempotency_keys
			WHERE scope = $1 AND idem_key = $2`, scope, key).Scan(&r.RequestHash, &r.Status, &r.Body, &r.Done, &updated); err != nil {
			return err
		}
		if r.RequestHash != requestHash {
			return doorman.Errorf(doorman.EPRECONDITION, "This Idempotency-Key was used with another request.")
		}
		if !r.Done && now.Sub(fromMicros(updated)) > AbandonedClaimAge {
			_, err := tx.Exec(`UPDATE idempotency_keys SET updated_at = $1 WHERE scope = $2 AND idem_key = $3`,
				micros(now), scope, key)
			return err
		}
		out = &r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FinishIdempotent stores the response for a claimed key; a status of 0
// releases the claim (the request failed before producing an answer).
// Returns ENOTFOUND if the key is not claimed and ECONFLICT if it was
// finished already.
func (s *Store) FinishIdempotent(ctx context.Context, scope, key string, status int, body []byte) error {
	now := s.clock()
	return s.write(ctx, "finish idempotent", scope, func(tx *wtx) error {
		var res sql.Result
		var err error
		if status == 0 {
			res, err = tx.Exec(`DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND done = $3`, scope, key, false)
		} else {
			if body == nil {
				body = []byte{}
			}
			res, err = tx.Exec(`UPDATE idempotency_keys SET status = $1, body = $2, done = $3, updated_at = $4
				WHERE scope = $5 AND idem_key = $6 AND done = $7`, status, body, true, micros(now), scope, key, false)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		err = s.exists(tx, `SELECT 1 FROM idempotency_keys WHERE scope = $1 AND idem_key = $2`, scope, key)
		if errors.Is(err, sql.ErrNoRows) {
			return doorman.Errorf(doorman.ENOTFOUND, "The Idempotency-Key is not claimed.")
		} else if err != nil {
			return err
		}
		return doorman.Errorf(doorman.ECONFLICT, "The Idempotency-Key has its answer already.")
	})
}
