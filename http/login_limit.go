package http

import (
	"sync"
	"time"
)

// Login throttling: after loginFailures failed logins for one email within
// loginWindow, further attempts for that email are refused until the window
// has passed. It slows password guessing against one account; argon2id
// slows it per guess. The count lives in this process: with several nodes
// each node counts on its own.
const (
	loginFailures = 10
	loginWindow   = 15 * time.Minute
	// loginMaxTracked bounds memory when someone sprays many emails.
	loginMaxTracked = 10000
)

type loginLimiter struct {
	mu       sync.Mutex
	failures map[string]*loginCount
}

type loginCount struct {
	n     int
	since time.Time
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{failures: map[string]*loginCount{}}
}

// allow reports whether a login for email may be tried at now.
func (l *loginLimiter) allow(email string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.failures[email]
	if c == nil {
		return true
	}
	if now.Sub(c.since) >= loginWindow {
		delete(l.failures, email)
		return true
	}
	return c.n < loginFailures
}

// fail counts a failed login.
func (l *loginLimiter) fail(email string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.failures[email]
	if c == nil || now.Sub(c.since) >= loginWindow {
		if len(l.failures) >= loginMaxTracked {
			l.prune(now)
		}
		c = &loginCount{since: now}
		l.failures[email] = c
	}
	c.n++
}

// succeed forgets the failures of email.
func (l *loginLimiter) succeed(email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, email)
}

// prune drops expired counts and, if the table is still full, the oldest
// one. Memory stays bounded; an attacker spraying that many emails can push
// an account's count out, and argon2id still makes each guess slow.
func (l *loginLimiter) prune(now time.Time) {
	oldest := ""
	for k, c := range l.failures {
		if now.Sub(c.since) >= loginWindow {
			delete(l.failures, k)
		} else if oldest == "" || c.since.Before(l.failures[oldest].since) {
			oldest = k
		}
	}
	if len(l.failures) >= loginMaxTracked {
		delete(l.failures, oldest)
	}
}
