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

// count counts one attempt (or failure) for key and returns the count and
// the window's end after it.
func (l limit) count(ctx context.Context, store ThrottleStore, key string, now time.Time) (int, time.Time, error) {
	return store.ThrottleFail(ctx, l.prefix+key, now, l.window)
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
// Adapters pass the address the client connected from, or, when that is a
// reverse proxy they were told to trust, the address the proxy says it
// forwarded for (see the HTTP server's TrustedProxies).
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
