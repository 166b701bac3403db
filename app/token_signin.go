package app

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
)

// Token sign-in guessing limits: a browser signs in by pasting a token
// (an operator token, or the courier session its carrier minted). Tokens
// carry 256 random bits, so guessing one is hopeless; the limit still
// keeps anyone from trying at volume. It counts one address only, so an
// outsider cannot lock anyone else out; a success clears the address's
// count (couriers of one depot share an address).
const (
	// TokenSignInFailures attempts of one address within
	// TokenSignInWindow, not followed by a success, refuse it.
	TokenSignInFailures = 10
	TokenSignInWindow   = 15 * time.Minute
	// OperatorWebSessionTTL is how long an operator's browser session
	// lasts.
	OperatorWebSessionTTL = 12 * time.Hour
	// OperatorWebSubject is the subject of operators' browser sessions
	// (operator tokens have none): what tells a session, which signing
	// out revokes, from a token, which it must not.
	OperatorWebSubject = "web"
)

// tokenSignInLimit is the per-address limit of one role's sign-in page.
func tokenSignInLimit(role string) limit {
	return limit{prefix: "tokensignin:" + role + ":addr:", max: TokenSignInFailures, window: TokenSignInWindow}
}

// WebSession is what a browser keeps in its session cookie.
type WebSession struct {
	Token     string
	ExpiresAt time.Time
}

// SignInWithToken starts a browser session from a pasted token of role
// (doorman.RoleOperator or doorman.RoleCourier), from the client address
// addr (AddrKey); anyone may call it. An operator token is exchanged for
// a new operator session that expires after OperatorWebSessionTTL (the
// browser never keeps the long-lived token, and signing out revokes only
// the session); a courier session, which its carrier minted for the
// courier, is kept as it is, until it expires. A token of another role
// is refused like a wrong one. The attempt is counted before the token is
// looked at. Returns EUNAUTHORIZED (one answer for unknown, expired,
// revoked and other-role tokens), EINVALID (a role without such a page)
// or ETOOMANYREQUEST (a *RetryError).
func (s *Credentials) SignInWithToken(ctx context.Context, role, token, addr string) (*WebSession, error) {
	if role != doorman.RoleOperator && role != doorman.RoleCourier {
		return nil, doorman.Errorf(doorman.EINVALID, "Only operators and couriers sign in with a token.")
	}
	now := s.now()
	lim := tokenSignInLimit(role)
	n, until, err := lim.count(ctx, s.store, addr, now)
	if err != nil {
		return nil, err
	}
	if n > lim.max {
		return nil, tooMany("Too many wrong codes from this address; try again later.", now, until)
	}
	wrong := doorman.Errorf(doorman.EUNAUTHORIZED, "That code is not valid, or has expired or been revoked.")
	p, err := s.Authenticate(ctx, token)
	if doorman.ErrorCode(err) == doorman.EUNAUTHORIZED {
		return nil, wrong
	} else if err != nil {
		return nil, err
	}
	if p.Role != role {
		return nil, wrong
	}
	if err := s.store.ThrottleReset(ctx, lim.prefix+addr); err != nil {
		return nil, err
	}
	if role == doorman.RoleOperator {
		session, cred, err := s.mint(ctx, doorman.RoleOperator, OperatorWebSubject, "", "web session", OperatorWebSessionTTL)
		if err != nil {
			return nil, err
		}
		return &WebSession{Token: session, ExpiresAt: *cred.ExpiresAt}, nil
	}
	cred, err := s.store.CredentialByTokenHash(ctx, doorman.HashToken(token), now)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, wrong
	} else if err != nil {
		return nil, err
	}
	expires := now.Add(doorman.CourierSessionMaxTTL)
	if cred.ExpiresAt != nil {
		expires = *cred.ExpiresAt
	}
	return &WebSession{Token: token, ExpiresAt: expires}, nil
}
