package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// Second-factor limits. A code is 1 of a million and three steps are
// taken, so SignInTOTPFailures attempts per window give a guesser about
// 1 in 67,000 per window. Only someone who has the password reaches the
// code, so this limit, per manager, is no lockout switch for outsiders.
const (
	SignInTOTPFailures = 5
	SignInTOTPWindow   = 15 * time.Minute
	// SignInChallengeTTL is how long the second step of a sign-in may
	// follow the first.
	SignInChallengeTTL = 5 * time.Minute
)

var signInTOTP = limit{prefix: "signin:totp:", max: SignInTOTPFailures, window: SignInTOTPWindow}

// Reasons of refused second factors.
const (
	ReasonTOTPRequired = "totp_required"
	ReasonTOTPInvalid  = "totp_invalid"
)

func totpRequired() error {
	e := doorman.Errorf(doorman.EUNAUTHORIZED, "This account asks for a code from its authenticator app (totp_code).")
	e.Reason = ReasonTOTPRequired
	return e
}

func totpInvalid(msg string) error {
	e := doorman.Errorf(doorman.EUNAUTHORIZED, "%s", msg)
	e.Reason = ReasonTOTPInvalid
	return e
}

// checkCode checks a TOTP code of the manager, counting the attempt first
// (per manager), and uses its step up so that it works only once.
func (s *Accounts) checkCode(ctx context.Context, managerID string, totp *doorman.ManagerTOTP, code string, now time.Time) error {
	n, until, err := signInTOTP.count(ctx, s.store, managerID, now)
	if err != nil {
		return err
	}
	if n > signInTOTP.max {
		return tooMany("Too many wrong codes; try again later.", now, until)
	}
	step, ok := totpMatch(totp.Secret, normalizeTOTPCode(code), now)
	if !ok {
		return totpInvalid("That code is not right. Use the current code of your authenticator app.")
	}
	used, err := s.store.UseManagerTOTPStep(ctx, managerID, step)
	if err != nil {
		return err
	} else if !used {
		return totpInvalid("That code was used already. Wait for the next one.")
	}
	return s.store.ThrottleReset(ctx, signInTOTP.prefix+managerID)
}

// SignInStep is the answer to the first step of a sign-in: a session, or,
// for a manager with a TOTP factor, a challenge to send back with a code
// to FinishSignIn before ExpiresAt.
type SignInStep struct {
	Signed    *SignedIn
	Challenge string
	ExpiresAt time.Time
}

// BeginSignIn checks a manager's email and password like SignIn. A manager
// without a TOTP factor is signed in; one with a factor gets a challenge,
// which proves the password was right, for SignInChallengeTTL, and is
// bound to the manager's password and factor (changing either voids it).
// No session exists until FinishSignIn accepts a code.
func (s *Accounts) BeginSignIn(ctx context.Context, email, pw, addr string) (*SignInStep, error) {
	now := s.now()
	m, err := s.checkPassword(ctx, email, pw, addr, now)
	if err != nil {
		return nil, err
	}
	totp, err := s.store.ManagerTOTP(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	if !totp.Enabled() {
		signed, err := s.startSession(ctx, m, addr, now)
		if err != nil {
			return nil, err
		}
		return &SignInStep{Signed: signed}, nil
	}
	expires := now.Add(SignInChallengeTTL)
	return &SignInStep{Challenge: challengeFor(m, totp, expires), ExpiresAt: expires}, nil
}

// FinishSignIn is the second step of a sign-in: the challenge BeginSignIn
// gave and a TOTP code. Returns EUNAUTHORIZED for an unknown or expired
// challenge, or a wrong or used code (reason totp_invalid), and
// ETOOMANYREQUEST past the manager's code limit.
func (s *Accounts) FinishSignIn(ctx context.Context, challenge, code, addr string) (*SignedIn, error) {
	now := s.now()
	expired := doorman.Errorf(doorman.EUNAUTHORIZED, "This sign-in has expired. Start again with your email and password.")
	managerID, expires, ok := parseChallenge(challenge)
	if !ok || !now.Before(expires) {
		return nil, expired
	}
	m, err := s.store.Manager(ctx, managerID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, expired
	} else if err != nil {
		return nil, err
	}
	totp, err := s.store.ManagerTOTP(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	if !totp.Enabled() || !hmac.Equal([]byte(challengeFor(m, totp, expires)), []byte(challenge)) {
		return nil, expired
	}
	if err := s.checkCode(ctx, m.ID, totp, code, now); err != nil {
		return nil, err
	}
	return s.startSession(ctx, m, addr, now)
}

// challengeFor is the sign-in challenge of a manager until expires: the
// manager, the expiry and an HMAC over both keyed with what only the
// server holds of the account (password hash, TOTP secret and when it
// was enabled), so it cannot be forged, and a new password or factor
// voids it.
func challengeFor(m *doorman.Manager, totp *doorman.ManagerTOTP, expires time.Time) string {
	key := sha256.New()
	key.Write([]byte("doorman sign-in challenge key\x00" + m.PasswordHash + "\x00" + totp.Secret + "\x00"))
	key.Write(binary.BigEndian.AppendUint64(nil, uint64(totp.EnabledAt.UnixMicro())))
	payload := m.ID + "." + strconv.FormatInt(expires.Unix(), 10)
	mac := hmac.New(sha256.New, key.Sum(nil))
	mac.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// parseChallenge reads the manager and expiry of a challenge.
func parseChallenge(c string) (string, time.Time, bool) {
	if len(c) > MaxTokenLen {
		return "", time.Time{}, false
	}
	parts := strings.Split(c, ".")
	if len(parts) != 3 || !doorman.HasPrefix(parts[0], doorman.PrefixManager) {
		return "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return parts[0], time.Unix(sec, 0), true
}

// Account is what the signed-in manager sees of their own account.
type Account struct {
	Manager *doorman.Manager
	// TOTPEnabled says whether sign-ins ask for a code.
	TOTPEnabled bool
	// TOTPPending is the factor waiting for its first code, nil if none.
	TOTPPending *TOTPSetup
	// SessionExpiresAt is when the session in use ends.
	SessionExpiresAt *time.Time
}

// TOTPSetup is what an authenticator app is given: the secret and the
// otpauth:// URL a QR code carries.
type TOTPSetup struct {
	Secret string
	URL    string
}

// Account returns the calling manager's account.
func (s *Accounts) Account(ctx context.Context) (*Account, error) {
	m, totp, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	a := &Account{Manager: m, TOTPEnabled: totp.Enabled(), SessionExpiresAt: caller(ctx).ExpiresAt}
	if totp.Secret != "" && !totp.Enabled() {
		a.TOTPPending = &TOTPSetup{Secret: totp.Secret, URL: totpURL(totp.Secret, m.Email)}
	}
	return a, nil
}

// me returns the calling manager and their factor.
func (s *Accounts) me(ctx context.Context) (*doorman.Manager, *doorman.ManagerTOTP, error) {
	p, err := require(ctx, []string{doorman.RoleManager})
	if err != nil {
		return nil, nil, err
	}
	m, err := s.store.Manager(ctx, p.SubjectID)
	if err != nil {
		return nil, nil, scoped(err, "Manager")
	}
	totp, err := s.store.ManagerTOTP(ctx, m.ID)
	if err != nil {
		return nil, nil, scoped(err, "Manager")
	}
	return m, totp, nil
}

// StartTOTP makes a new TOTP secret for the calling manager, pending until
// ConfirmTOTP: until then sign-ins do not ask for a code. Starting again
// replaces a pending secret. Returns ECONFLICT when a factor is enabled.
func (s *Accounts) StartTOTP(ctx context.Context) (*TOTPSetup, error) {
	m, totp, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	if totp.Enabled() {
		return nil, doorman.Errorf(doorman.ECONFLICT, "Sign-in codes are on already; turn them off first to set up another app.")
	}
	secret := newTOTPSecret()
	if err := s.store.SetManagerTOTP(ctx, m.ID, &doorman.ManagerTOTP{Secret: secret, LastStep: totp.LastStep}); err != nil {
		return nil, err
	}
	return &TOTPSetup{Secret: secret, URL: totpURL(secret, m.Email)}, nil
}

// ConfirmTOTP enables the pending factor with a code from the app it was
// given to (limited like sign-in codes). Returns EINVALID when nothing is
// pending, EUNAUTHORIZED (reason totp_invalid) for a wrong code.
func (s *Accounts) ConfirmTOTP(ctx context.Context, code string) error {
	m, totp, err := s.me(ctx)
	if err != nil {
		return err
	}
	if totp.Secret == "" || totp.Enabled() {
		return doorman.InvalidField("code", "There is no sign-in code setup waiting for confirmation.")
	}
	now := s.now()
	if err := s.checkCode(ctx, m.ID, totp, code, now); err != nil {
		return err
	}
	t, err := s.store.ManagerTOTP(ctx, m.ID) // checkCode moved LastStep on
	if err != nil {
		return err
	}
	enabled := now.UTC()
	t.EnabledAt = &enabled
	return s.store.SetManagerTOTP(ctx, m.ID, t)
}

// DisableTOTP removes the caller's factor: an enabled one only with a
// current code (so a session left open is not enough to remove it), a
// pending one without. Returns EINVALID when there is none, EUNAUTHORIZED
// (reason totp_invalid) for a wrong code.
func (s *Accounts) DisableTOTP(ctx context.Context, code string) error {
	m, totp, err := s.me(ctx)
	if err != nil {
		return err
	}
	if totp.Secret == "" {
		return doorman.InvalidField("code", "Sign-in codes are not on.")
	}
	if totp.Enabled() {
		if err := s.checkCode(ctx, m.ID, totp, code, s.now()); err != nil {
			return err
		}
		if totp, err = s.store.ManagerTOTP(ctx, m.ID); err != nil {
			return err
		}
	}
	// Keep the last used step: a code seen before cannot be used again
	// with a later secret either way, and it costs nothing.
	return s.store.SetManagerTOTP(ctx, m.ID, &doorman.ManagerTOTP{LastStep: totp.LastStep})
}
