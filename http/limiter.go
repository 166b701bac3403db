package http

import (
	"sync"
	"time"
)

// Failure limits. Each counts failures per key in a window that starts at
// the key's first failure; once a key has its limit of failures, further
// attempts are refused until that window has passed. The counts live in
// this process: with several nodes each node counts on its own.
const (
	// loginFailures failed logins for one email within loginWindow lock
	// that email out. It slows password guessing against one account;
	// argon2id slows it per guess.
	loginFailures = 10
	loginWindow   = 15 * time.Minute

	// enrollFailures wrong enrollment codes from one client address (an
	// IPv4 address or an IPv6 /64) within enrollWindow shut that address
	// out of enrollment.
	enrollFailures = 10
	// enrollGlobalFailures wrong codes from all addresses together within
	// enrollWindow shut everyone out. It bounds guessing by anyone holding
	// many addresses to about 100,000 guesses a day, against codes of 60
	// random bits that live 15 minutes. The price is that a sustained
	// spray of bad codes delays genuine enrollments; it is logged.
	enrollGlobalFailures = 1000
	enrollWindow         = 15 * time.Minute

	// maxTrackedKeys bounds memory when someone sprays many keys.
	maxTrackedKeys = 10000
)

// failureLimiter counts failures per key; see the constants above. The
// zero value is not usable; make one with newFailureLimiter.
type failureLimiter struct {
	max    int
	window time.Duration

	mu       sync.Mutex
	failures map[string]*failureCount
}

type failureCount struct {
	n     int
	since time.Time
}

// newFailureLimiter returns a limiter allowing max failures per key within
// window.
func newFailureLimiter(max int, window time.Duration) *failureLimiter {
	return &failureLimiter{max: max, window: window, failures: map[string]*failureCount{}}
}

// allow reports whether an attempt for key may be made at now and, if
// not, how long until it may.
func (l *failureLimiter) allow(key string, now time.Time) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.failures[key]
	if c == nil {
		return true, 0
	}
	if now.Sub(c.since) >= l.window {
		delete(l.failures, key)
		return true, 0
	}
	if c.n < l.max {
		return true, 0
	}
	return false, c.since.Add(l.window).Sub(now)
}

// fail counts a failure for key and reports whether it was the one that
// reached the limit.
func (l *failureLimiter) fail(key string, now time.Time) (reached bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.failures[key]
	if c == nil || now.Sub(c.since) >= l.window {
		if len(l.failures) >= maxTrackedKeys {
			l.prune(now)
		}
		c = &failureCount{since: now}
		l.failures[key] = c
	}
	c.n++
	return c.n == l.max
}

// succeed forgets the failures of key.
func (l *failureLimiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// prune drops expired counts and, if the table is still full, the oldest
// one. Memory stays bounded; whoever sprays that many keys can push one
// key's count out, which is why enrollment also has a global limit and
// logins cost an argon2id hash each.
func (l *failureLimiter) prune(now time.Time) {
	oldest := ""
	for k, c := range l.failures {
		if now.Sub(c.since) >= l.window {
			delete(l.failures, k)
		} else if oldest == "" || c.since.Before(l.failures[oldest].since) {
			oldest = k
		}
	}
	if len(l.failures) >= maxTrackedKeys {
		delete(l.failures, oldest)
	}
}
