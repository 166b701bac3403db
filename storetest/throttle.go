package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// throttleStart is a fixed instant the throttle tests count from, to the
// microsecond, so that expected window ends are exact.
var throttleStart = time.Date(2031, 3, 4, 5, 6, 7, 8000, time.UTC)

// testThrottles checks the failure counts of doorman.ThrottleStore: a
// window starts at a key's first failure and keeps its end however many
// failures follow; it ends exactly at its end; a reset forgets the key;
// concurrent failures are all counted; expired rows do not pile up; and
// the keys are not stored in clear.
func testThrottles(t *testing.T, open Opener) {
	t.Run("Window", func(t *testing.T) {
		s, _ := open(t)
		ctx := context.Background()
		const key, window = "login:alice@example.org", 10 * time.Minute
		t0 := throttleStart
		end := t0.Add(window)

		wantThrottle(t, s, key, t0, 0, time.Time{})
		wantFail(t, s, key, t0, window, 1, end)
		wantThrottle(t, s, key, t0, 1, end)
		// Later failures count in the first failure's window, whatever
		// window they ask for.
		wantFail(t, s, key, t0.Add(5*time.Minute), time.Hour, 2, end)
		wantFail(t, s, key, t0.Add(9*time.Minute), time.Second, 3, end)
		wantThrottle(t, s, key, t0.Add(5*time.Minute), 3, end)
		wantThrottle(t, s, key, end.Add(-time.Microsecond), 3, end)
		// Other keys count on their own, also ones that differ only in case.
		wantThrottle(t, s, "login:bob@example.org", t0, 0, time.Time{})
		wantThrottle(t, s, "login:Alice@example.org", t0, 0, time.Time{})
		wantFail(t, s, "login:Alice@example.org", t0, window, 1, end)
		wantThrottle(t, s, key, t0, 3, end)

		// The window ends at its end: the count is gone then, and the next
		// failure starts a new window.
		wantThrottle(t, s, key, end, 0, time.Time{})
		wantThrottle(t, s, key, end.Add(time.Hour), 0, time.Time{})
		wantFail(t, s, key, end, window, 1, end.Add(window))
		wantFail(t, s, key, end.Add(time.Minute), window, 2, end.Add(window))
		// A failure long after the window also starts afresh.
		later := end.Add(24 * time.Hour)
		wantFail(t, s, key, later, time.Minute, 1, later.Add(time.Minute))

		// Times are kept to the microsecond and handed back in UTC.
		odd := time.Date(2031, 3, 4, 6, 0, 0, 123456789, time.FixedZone("UTC+2", 2*3600))
		wantFail(t, s, "enroll:192.0.2.1", odd, window, 1, odd.Add(window).UTC().Truncate(time.Microsecond))
		n, until, err := s.Throttle(ctx, "enroll:192.0.2.1", odd)
		must(t, err)
		if n != 1 || until.Location() != time.UTC {
			t.Fatalf("Throttle = %d, %v; want 1 and a time in UTC", n, until)
		}
	})

	t.Run("Reset", func(t *testing.T) {
		s, _ := open(t)
		ctx := context.Background()
		const key, other, window = "login:carol@example.org", "login:dan@example.org", time.Minute
		t0 := throttleStart
		for i := 1; i <= 3; i++ {
			wantFail(t, s, key, t0, window, i, t0.Add(window))
		}
		wantFail(t, s, other, t0, window, 1, t0.Add(window))
		must(t, s.ThrottleReset(ctx, key))
		wantThrottle(t, s, key, t0, 0, time.Time{})
		wantThrottle(t, s, other, t0, 1, t0.Add(window))
		// After a reset the next failure starts a new window at its time.
		t1 := t0.Add(30 * time.Second)
		wantFail(t, s, key, t1, window, 1, t1.Add(window))
		// Forgetting an unknown or already forgotten key is not an error.
		must(t, s.ThrottleReset(ctx, "login:nobody@example.org"))
		must(t, s.ThrottleReset(ctx, other))
		must(t, s.ThrottleReset(ctx, other))
		wantThrottle(t, s, other, t0, 0, time.Time{})
	})

	t.Run("Invalid", func(t *testing.T) {
		s, db := open(t)
		ctx := context.Background()
		_, _, err := s.Throttle(ctx, "", throttleStart)
		wantCode(t, err, doorman.EINVALID)
		_, _, err = s.ThrottleFail(ctx, "", throttleStart, time.Minute)
		wantCode(t, err, doorman.EINVALID)
		for _, w := range []time.Duration{0, -time.Minute, time.Nanosecond, time.Microsecond - 1} {
			_, _, err = s.ThrottleFail(ctx, "login:eve@example.org", throttleStart, w)
			wantCode(t, err, doorman.EINVALID)
		}
		wantCode(t, s.ThrottleReset(ctx, ""), doorman.EINVALID)
		equal(t, "throttle rows after invalid calls", countThrottleRows(t, db), 0)
		wantThrottle(t, s, "login:eve@example.org", throttleStart, 0, time.Time{})
	})

	t.Run("Concurrent", func(t *testing.T) {
		s, _ := open(t)
		testThrottleConcurrent(t, []doorman.Store{s})
	})

	t.Run("ExpiredRowsDeleted", func(t *testing.T) {
		// Expired rows go as new failures are counted: each failure adds
		// at most its own row and deletes at least one expired row while
		// there are any, so they cannot pile up.
		s, db := open(t)
		ctx := context.Background()
		const expired, window = 100, time.Minute
		var wg sync.WaitGroup
		errs := make(chan error, expired)
		for i := range expired {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := s.ThrottleFail(ctx, fmt.Sprintf("enroll:198.51.100.%d", i), throttleStart, window)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		equal(t, "rows before expiry", countThrottleRows(t, db), expired)

		// A live count must survive the clean-up.
		live := throttleStart.Add(window - time.Second)
		wantFail(t, s, "login:frank@example.org", live, time.Hour, 1, live.Add(time.Hour))

		later := throttleStart.Add(window) // every row of throttleStart has ended
		left := expired
		for i := 0; left > 0; i++ {
			if i == expired {
				t.Fatalf("%d expired rows left after %d failures", left, i)
			}
			wantFail(t, s, fmt.Sprintf("login:new-%d@example.org", i), later, window, 1, later.Add(window))
			now := countThrottleRows(t, db) - (i + 1) - 1 // minus the new rows and the live one
			if now >= left {
				t.Fatalf("failure %d left %d expired rows of %d: none deleted", i, now, left)
			}
			left = now
		}
		wantThrottle(t, s, "login:frank@example.org", later, 1, live.Add(time.Hour))
	})

	t.Run("KeysNotInClear", func(t *testing.T) {
		s, db := open(t)
		keys := []string{"login:Grace.Hopper@example.org", "enroll:2001:db8:85a3::/64"}
		for _, k := range keys {
			wantFail(t, s, k, throttleStart, time.Minute, 1, throttleStart.Add(time.Minute))
		}
		rows := throttleRows(t, db)
		if len(rows) != len(keys) {
			t.Fatalf("%d throttle rows for %d keys", len(rows), len(keys))
		}
		for _, k := range keys {
			sum := sha256.Sum256([]byte(k))
			hashed := false
			for _, row := range rows {
				for col, v := range row {
					for _, part := range []string{k, k[strings.IndexByte(k, ':')+1:], "grace", "2001:db8"} {
						if strings.Contains(strings.ToLower(v), strings.ToLower(part)) {
							t.Fatalf("throttle column %s holds %q in clear: %q", col, part, v)
						}
					}
					if v == hex.EncodeToString(sum[:]) || v == string(sum[:]) {
						hashed = true
					}
				}
			}
			if !hashed {
				t.Fatalf("no throttle column holds the SHA-256 of %q: %v", k, rows)
			}
		}
	})
}

// testThrottleConcurrent counts failures of one key from many goroutines
// at once, spread over the stores (each standing for a node): none may be
// lost, and each caller is told a count of its own.
func testThrottleConcurrent(t *testing.T, stores []doorman.Store) {
	const n, key, window = 48, "enroll:*", time.Minute
	ctx := context.Background()
	counts := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var until time.Time
			counts[i], until, errs[i] = stores[i%len(stores)].ThrottleFail(ctx, key, throttleStart, window)
			if errs[i] == nil && !until.Equal(throttleStart.Add(window)) {
				errs[i] = fmt.Errorf("failure counted in a window ending %v, want %v", until, throttleStart.Add(window))
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Fatalf("counts told to %d concurrent failures: %v, want 1 to %d once each", n, counts, n)
		}
	}
	for _, s := range stores {
		got, _, err := s.Throttle(ctx, key, throttleStart.Add(time.Second))
		must(t, err)
		if got != n {
			t.Fatalf("Throttle after %d concurrent failures = %d", n, got)
		}
	}
}

// testThrottleShared counts failures of one key through two stores over
// one database, as two nodes would.
func testThrottleShared(t *testing.T, open SharedOpener) {
	a, b, _ := open(t)
	testThrottleConcurrent(t, []doorman.Store{a, b})
}

// wantThrottle fails unless Throttle reports n failures in a window
// ending at until.
func wantThrottle(t *testing.T, s doorman.Store, key string, now time.Time, n int, until time.Time) {
	t.Helper()
	gotN, gotUntil, err := s.Throttle(context.Background(), key, now)
	must(t, err)
	if gotN != n || !gotUntil.Equal(until) {
		t.Fatalf("Throttle(%q, %v) = %d, %v; want %d, %v", key, now, gotN, gotUntil, n, until)
	}
}

// wantFail counts a failure and fails unless the count and window end
// after it are n and until.
func wantFail(t *testing.T, s doorman.Store, key string, now time.Time, window time.Duration, n int, until time.Time) {
	t.Helper()
	gotN, gotUntil, err := s.ThrottleFail(context.Background(), key, now, window)
	must(t, err)
	if gotN != n || !gotUntil.Equal(until) {
		t.Fatalf("ThrottleFail(%q, %v, %v) = %d, %v; want %d, %v", key, now, window, gotN, gotUntil, n, until)
	}
}

// countThrottleRows counts the rows of the throttle table.
func countThrottleRows(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	must(t, db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM throttles`).Scan(&n))
	return n
}

// throttleRows reads every column of every throttle row as text, behind
// the store's back.
func throttleRows(t *testing.T, db *sql.DB) []map[string]string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT * FROM throttles`)
	must(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	must(t, err)
	var out []map[string]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...))
		row := map[string]string{}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				row[cols[i]] = string(b)
			} else {
				row[cols[i]] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	must(t, rows.Err())
	return out
}
