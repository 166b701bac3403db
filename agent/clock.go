package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/wire"
)

// Time sync limits.
const (
	// DefaultTimeSyncInterval is how often the agent asks for the control
	// plane's time (and at every (re)connect).
	DefaultTimeSyncInterval = 5 * time.Minute
	// maxSyncRoundTrip discards time replies that took longer than this:
	// the round trip bounds the error of the estimate.
	maxSyncRoundTrip   = 2 * time.Second
	timeRequestTimeout = 3 * time.Second
)

// clock is the device's clock corrected by the offset to the control
// plane's clock, learned from signed time replies. Commands are judged on
// it, so a device without a real-time clock (which boots in 1970) refuses
// every command until its first sync.
type clock struct {
	raw    func() time.Time
	mu     sync.Mutex
	offset time.Duration
	synced bool
}

// Now returns the corrected time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return c.raw().Add(off)
}

// Offset returns the correction and whether a sync ever succeeded.
func (c *clock) Offset() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset, c.synced
}

func (c *clock) set(offset time.Duration) {
	c.mu.Lock()
	c.offset, c.synced = offset, true
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
	t0 := a.clock.raw()
	msg, err := nc.RequestWithContext(ctx, wire.TimeSubject(a.id.DoorID), req)
	t1 := a.clock.raw()
	if err != nil {
		return err
	}
	server, err := a.verifier.VerifyTime(msg.Data, nonce)
	if err != nil {
		a.log.Warn("time reply refused", "err", err)
		return err
	}
	rtt := t1.Sub(t0)
	if rtt > maxSyncRoundTrip {
		return nil
	}
	offset := server.Add(rtt / 2).Sub(t1)
	a.clock.set(offset)
	a.log.Debug("clock synced", "offset", offset, "rtt", rtt)
	return nil
}
