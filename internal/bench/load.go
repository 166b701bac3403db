package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Do makes request number i and returns "" when it succeeded, or why it
// did not (a denial reason, an HTTP status, a transport error's kind).
type Do func(ctx context.Context, i int) (reason string)

// Window is the part of a run that counts: requests that start before
// From warm the system up and are not recorded; none start at or after
// Until.
type Window struct {
	From, Until time.Time
}

// Closed runs a closed loop: inFlight workers, each sending its next
// request as soon as the last one is answered, until the window ends.
// With a fixed number in flight the mean latency is that number divided
// by the throughput: use Open to see latency at a given load.
func Closed(ctx context.Context, inFlight int, w Window, rec *Recorder, do Do) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				start := time.Now()
				if !start.Before(w.Until) {
					return
				}
				reason := do(ctx, int(next.Add(1)-1))
				end := time.Now()
				if start.Before(w.From) {
					continue
				}
				if reason == "" {
					rec.OK(end, end.Sub(start))
				} else {
					rec.Fail(end, reason)
				}
			}
		}()
	}
	wg.Wait()
}

// ReasonOverload is recorded for an arrival that found maxOutstanding
// requests still unanswered and was not sent.
const ReasonOverload = "overload: too many requests unanswered"

// Open runs an open loop: requests arrive at rate per second, on a fixed
// schedule, whether or not earlier ones were answered, so a slow answer
// does not hold back the next arrival (no coordinated omission). Each
// request's latency counts from when it was due, not from when it was
// sent. At most maxOutstanding are unanswered at once; an arrival beyond
// that is recorded as ReasonOverload.
func Open(ctx context.Context, rate float64, maxOutstanding int, w Window, rec *Recorder, do Do) {
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	var outstanding atomic.Int64
	var wg sync.WaitGroup
	for i := 0; ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if !due.Before(w.Until) {
			break
		}
		if d := time.Until(due); d > 0 {
			// Sleep only when the next arrival is far enough away to be
			// worth it; arrivals that are due go out in a burst.
			if d > 500*time.Microsecond {
				time.Sleep(d)
			}
		}
		counted := !due.Before(w.From)
		if outstanding.Load() >= int64(maxOutstanding) {
			if counted {
				rec.Fail(time.Now(), ReasonOverload)
			}
			continue
		}
		outstanding.Add(1)
		wg.Add(1)
		go func(i int, due time.Time) {
			defer wg.Done()
			defer outstanding.Add(-1)
			reason := do(ctx, i)
			end := time.Now()
			if !counted {
				return
			}
			if reason == "" {
				rec.OK(end, end.Sub(due))
			} else {
				rec.Fail(end, reason)
			}
		}(i, due)
	}
	wg.Wait()
}
