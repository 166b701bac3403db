package sqlstore

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
)

// The rate limits are counted in rate_counts: one row per subject (a
// courier's requests, a door's grants) and bucket of
// doorman.RateResolution, holding how many were recorded in it. A check
// adds the record to its bucket and sums the subject's buckets that
// overlap the window before the record, at most RateWindow/RateResolution
// + 1 rows read through the primary key, however busy the subject: a
// request counts for RateWindow to RateWindow + RateResolution (its
// bucket stays counted until the whole bucket has left the window), so a
// limit is never exceeded within any RateWindow.
//
// Concurrent checks of one subject cannot all slip under a limit. With
// SQLite the writer is single. In PostgreSQL RecordAccess locks its
// building's audit chain head before it counts, so the records of one
// building, the
// door's grants among them, are counted one after another on every node;
// and a check adds before it sums, so a courier's requests at two
// buildings at once wait for each other on the bucket's row (the upsert
// locks it until commit; the sum, a statement of its own, then sees the
// other's count). Only two such requests on two nodes in different
// buckets, a bucket boundary between them at that instant, may each miss
// the other: a courier's limit can then be passed by one.

// Kinds of rate count subjects.
const (
	rateCourier = "courier" // a courier's access requests, granted or denied
	rateDoor    = "door"    // a door's grants
)

// rateSweepBatch is the most old rate count rows one sweep deletes.
const rateSweepBatch = 1000

// Statements of the rate counts.
const (
	sqlCountRate = `INSERT INTO rate_counts (kind, subject_id, bucket, n) VALUES ($1, $2, $3, 1)
		ON CONFLICT (kind, subject_id, bucket) DO UPDATE SET n = rate_counts.n + 1`
	// sqlSumRates sums a courier's and a door's counts from a bucket on,
	// with the oldest bucket counted of each (every row counts one or more).
	sqlSumRates = `SELECT
		(SELECT COALESCE(SUM(n), 0) FROM rate_counts WHERE kind = $1 AND subject_id = $2 AND bucket >= $5),
		(SELECT COALESCE(MIN(bucket), 0) FROM rate_counts WHERE kind = $1 AND subject_id = $2 AND bucket >= $5),
		(SELECT COALESCE(SUM(n), 0) FROM rate_counts WHERE kind = $3 AND subject_id = $4 AND bucket >= $5),
		(SELECT COALESCE(MIN(bucket), 0) FROM rate_counts WHERE kind = $3 AND subject_id = $4 AND bucket >= $5)`
	// sqlSweepRates has the dialect's SkipLocked inserted before its
	// closing parenthesis.
	sqlSweepRates = `DELETE FROM rate_counts WHERE (kind, subject_id, bucket) IN (
		SELECT kind, subject_id, bucket FROM rate_counts WHERE bucket < $1 LIMIT $2`
)

// rateBucket returns the bucket a time falls in.
func rateBucket(t time.Time) int64 {
	return t.UnixMicro() / doorman.RateResolution.Microseconds()
}

// countAccess adds a record to its courier's count and, for a grant, to
// its door's, and then, if either has a limit, sums both windows in one
// statement and refuses the record (rate_limited, saying when to retry;
// the courier's limit first) when that makes more than the limit within
// the window before at. The caller's write undoes the counts when it fails.
func (s *Store) countAccess(tx *wtx, rec *doorman.AccessRecord, at time.Time, granted bool) error {
	bucket := rateBucket(at)
	if _, err := tx.Exec(sqlCountRate, rateCourier, rec.CourierID, bucket); err != nil {
		return err
	}
	courierLimit, doorLimit := rec.CourierLimit, 0
	if granted {
		if _, err := tx.Exec(sqlCountRate, rateDoor, rec.DoorID, bucket); err != nil {
			return err
		}
		doorLimit = rec.DoorLimit
	}
	if courierLimit <= 0 && doorLimit <= 0 {
		return nil
	}
	var courier, courierOldest, door, doorOldest int64
	if err := tx.QueryRow(sqlSumRates, rateCourier, rec.CourierID, rateDoor, rec.DoorID,
		rateBucket(at.Add(-doorman.RateWindow))).Scan(&courier, &courierOldest, &door, &doorOldest); err != nil {
		return err
	}
	switch {
	case courierLimit > 0 && courier > int64(courierLimit):
		return rateLimited(courierOldest, at)
	case doorLimit > 0 && door > int64(doorLimit):
		return rateLimited(doorOldest, at)
	}
	return nil
}

// rateLimited is the refusal of a record at time at whose oldest counted
// bucket is oldest: there is room again when that bucket's end leaves the
// window.
func rateLimited(oldest int64, at time.Time) error {
	leaves := fromMicros((oldest + 1) * doorman.RateResolution.Microseconds()).Add(doorman.RateWindow)
	return &doorman.Error{Code: doorman.ECONFLICT, Reason: doorman.ReasonRateLimited,
		Message: "Too many access requests; try again later.", RetryAfter: max(leaves.Sub(at), time.Second)}
}

// sweepRates deletes, at most once per bucket while there is little to
// delete, rate counts of buckets that no longer overlap any window. Run
// within the writes that add counts, it keeps the table at about the rows
// of one window however long the store runs.
func (s *Store) sweepRates(tx *wtx) error {
	now := s.clock()
	if s.rateSwept.Load() >= rateBucket(now) {
		return nil
	}
	n, err := s.deleteOldRates(tx, now)
	if err == nil && n < rateSweepBatch {
		s.rateSwept.Store(rateBucket(now)) // done until the next bucket
	}
	return err
}

// deleteOldRates deletes up to rateSweepBatch rate counts of buckets that
// end a bucket or more before the window before now, and returns how many
// it deleted. In PostgreSQL it skips rows another transaction holds.
func (s *Store) deleteOldRates(tx *wtx, now time.Time) (int, error) {
	before := rateBucket(now.Add(-doorman.RateWindow)) - 1
	res, err := tx.Exec(sqlSweepRates+s.dialect.SkipLocked+`)`, before, rateSweepBatch)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// SweepRateCounts deletes every rate count that no longer overlaps any
// rate window, in writes of a bounded size, and returns how many it
// deleted. Access requests sweep as they come, once per
// doorman.RateResolution, so there is no need to call it; it is for
// maintenance and for tests, which cannot wait for the next bucket.
func (s *Store) SweepRateCounts(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := s.write(ctx, "sweep rate counts", "", func(tx *wtx) (err error) {
			n, err = s.deleteOldRates(tx, s.clock())
			return err
		})
		total += n
		if err != nil || n < rateSweepBatch {
			return total, err
		}
	}
}
