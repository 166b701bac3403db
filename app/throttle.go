package app

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/doorman-dev/doorman"
)

// ThrottleStore counts failed attempts per key in the store, so that every
// control-plane node sees the same counts (doorman.ThrottleStore).
type ThrottleStore interface {
	Throttle(ctx context.Context, key string, now time.Time) (failures int, until time.Time, err error)
	ThrottleFail(ctx context.Context, key string, now time.Time, window time.Duration) (failures int, until time.Time, err error)
	ThrottleReset(ctx context.Context, key string) error
}

// limit is one failure limit: at most max failures per key within window,
// counted from the key's first failure.
type limit struct {
	prefix string
	max    int
	window time.Duration
}

// over reports whether key has reached the limit at now, and until when.
func (l limit) over(ctx context.Context, store ThrottleStore, key string, now time.Time) (bool, time.Time, error) {
	n, until, err := store.Throttle(ctx, l.prefix+key, now)
	if err != nil {
		return false, time.Time{}, err
	}
	return n >= l.max, until, nil
}

// fail counts a failure and reports whether it reached the limit.
func (l limit) fail(ctx context.Context, store ThrottleStore, key string, now time.Time) (bool, error) {
	n, _, err := store.ThrottleFail(ctx, l.prefix+key, now, l.window)
	return n == l.max, err
}

// tooMany is the refusal of a throttled attempt, saying when to try
// again.
func tooMany(msg string, now, until time.Time) error {
	e := doorman.Errorf(doorman.ETOOMANYREQUEST, "%s", msg)
	e.Reason = doorman.ReasonRateLimited
	e.RetryAfter = until.Sub(now)
	return e
}

// AddrKey returns the throttle key of a client address: the IPv4 address,
// or the /64 of an IPv6 one (a single host usually holds a whole /64).
// Adapters pass the address the client connected from (behind a trusted
// reverse proxy, the forwarded one).
func AddrKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
