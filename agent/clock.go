package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/wire"
)

// Time sync limits.
const (
	// DefaultTimeSyncInterval is how often the agent asks for the control
	// plane's time once synced (and at every (re)connect).
	DefaultTimeSyncInterval = 5 * time.Minute
	// DefaultTimeSyncRetry is how soon the agent asks again after a failed
	// time sync; each further failure doubles the wait, up to
	// maxTimeSyncRetry (or the sync interval, if shorter). Until a sync
	// succeeds the door refuses every command, so it must not wait the
	// whole interval.
	DefaultTimeSyncRetry = time.Second
	maxTimeSyncRetry     = time.Minute
	// maxSyncRoundTrip discards time replies that took longer than this:
	// the round trip bounds the error of the estimate.
	maxSyncRoundTrip   = 2 * time.Second
	timeRequestTimeout = 3 * time.Second
)

// clock is the device's clock corrected to the control plane's, learned
// from signed time replies. Commands are judged on it, and only once it
// has synced since the agent started: before that the agent refuses every
// command (fail-secure), because the device's own clock may be stale or
// set by whoever controls its network (spoofed NTP), and a clock behind
// would let a command held back past its expiry open the door.
//
// Once synced, the corrected time is the control plane's time at the last
// sync plus the time elapsed since on Go's monotonic clock, not the wall
// clock plus an offset: a step of the device's wall clock (NTP, someone
// setting the RTC) does not move it.
type clock struct {
	raw func() time.Time // the device's own wall clock (Config.Now)

	mu     sync.Mutex
	synced bool
	base   time.Time // the control plane's time at the last sync
	at     time.Time // time.Now() then; only its monotonic reading is used
}

// Now returns the corrected time: the device's own clock before the first
// sync, the synced time plus monotonic elapsed time after it.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.synced {
		return c.raw()
	}
	return c.base.Add(time.Since(c.at))
}

// Synced reports whether a signed time sync has succeeded since start.
func (c *clock) Synced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.synced
}

// SyncedNow returns the corrected time once a sync succeeded and the zero
// time before. The replay store forgets used token IDs by it: the
// device's own clock may run far ahead after a boot, and forgetting by it
// would let a captured command work twice.
func (c *clock) SyncedNow() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.synced {
		return time.Time{}
	}
	return c.base.Add(time.Since(c.at))
}

// Offset returns how far the corrected time is from the device's own clock
// now, and whether a sync ever succeeded.
func (c *clock) Offset() (time.Duration, bool) {
	c.mu.Lock()
	synced := c.synced
	c.mu.Unlock()
	if !synced {
		return 0, false
	}
	return c.Now().Sub(c.raw().Round(0)), true
}

// set records that the control plane's time was server at the instant
// time.Now() returned at.
func (c *clock) set(server, at time.Time) {
	c.mu.Lock()
	c.base, c.at, c.synced = server, at, true
	c.mu.Unlock()
}

// syncTime asks the control plane for its signed time and corrects the
// clock by it. A reply that does not verify (a forged or replayed one) is
// ignored and logged.
func (a *Agent) syncTime(ctx context.Context, nc *nats.Conn) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	nonce := hex.EncodeToString(b[:])
	req, err := wire.Encode(&wire.TimeRequest{Nonce: nonce}, wire.MaxMessageSize)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeRequestTimeout)
	defer cancel()
	t0 := time.Now()
	msg, err := nc.RequestWithContext(ctx, wire.TimeSubject(a.id.DoorID), req)
	t1 := time.Now()
	if err != nil {
		return err
	}
	reply, err := a.verifier.VerifyTimeReply(msg.Data, nonce)
	server := reply.Now
	if err != nil {
		a.log.Warn("time reply refused", "err", err)
		return err
	}
	rtt := t1.Sub(t0)
	if rtt > maxSyncRoundTrip {
		return fmt.Errorf("time reply took %s, over %s", rtt, maxSyncRoundTrip)
	}
	// The reply was signed somewhere within the round trip: assume the
	// middle, which errs by at most half of it.
	a.clock.set(server.Add(rtt/2), t1)
	if err := a.syncs.set(syncState{SyncedAt: server.Add(rtt / 2).UTC(), OfflineWindow: reply.OfflineWindow.Milliseconds()}); err != nil {
		a.log.Warn("last time sync not kept on disk", "err", err)
	}
	off, _ := a.clock.Offset()
	a.log.Debug("clock synced", "offset", off, "rtt", rtt)
	return nil
}

// nextTimeSync returns how long to wait before the next time sync: the
// interval after a success, and after the n-th failure in a row (n >= 1)
// the retry doubled n-1 times, at most maxTimeSyncRetry or the interval.
func nextTimeSync(failures int, retry, interval time.Duration) time.Duration {
	if failures == 0 {
		return interval
	}
	limit := min(maxTimeSyncRetry, interval)
	d := retry
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
