package app

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/password"
)

// AccountStore is what the Accounts service uses of the store.
type AccountStore interface {
	scopeStore
	ThrottleStore
	ManagerByEmail(ctx context.Context, email string) (*doorman.Manager, error)
	SetManagerPasswordHash(ctx context.Context, managerID, passwordHash string) error
	CreateInvite(ctx context.Context, inv *doorman.ManagerInvite) error
	AcceptInvite(ctx context.Context, tokenHash, name, passwordHash string, now time.Time) (*doorman.Manager, error)
	Manager(ctx context.Context, id string) (*doorman.Manager, error)
	ManagerTOTP(ctx context.Context, managerID string) (*doorman.ManagerTOTP, error)
	SetManagerTOTP(ctx context.Context, managerID string, t *doorman.ManagerTOTP) error
	UseManagerTOTPStep(ctx context.Context, managerID string, step int64) (bool, error)
}

// Password length limits, in bytes.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// Sign-in guessing limits. None of them lets someone who knows a manager's
// email keep that manager out: the tight limit counts one address and one
// email together; the email's own limit, which bounds guessing from many
// addresses, never refuses an address's first attempt for that email nor
// an address the manager signed in from in the last KnownAddressTTL; and
// argon2id makes every guess slow. Attempts are counted before the
// password is checked, so a burst of parallel guesses cannot slip past a
// limit.
const (
	// SignInPairFailures attempts of one address for one email within
	// SignInWindow, not followed by a success, refuse that address for
	// that email.
	SignInPairFailures = 10
	// SignInAddrFailures attempts of one address for any email within
	// SignInWindow refuse that address (spraying many emails).
	SignInAddrFailures = 100
	// SignInWindow is the window of the two limits above.
	SignInWindow = 15 * time.Minute
	// SignInEmailFailures failed sign-ins for one email from all
	// addresses together within SignInEmailWindow leave each address one
	// attempt per window for that email, except addresses the manager
	// signed in from lately.
	SignInEmailFailures = 100
	SignInEmailWindow   = time.Hour
)

var (
	signInPair  = limit{prefix: "signin:pair:", max: SignInPairFailures, window: SignInWindow}
	signInAddr  = limit{prefix: "signin:addr:", max: SignInAddrFailures, window: SignInWindow}
	signInEmail = limit{prefix: "signin:email:", max: SignInEmailFailures, window: SignInEmailWindow}
	// knownAddr is not a limit: a count of at least one marks an address
	// a manager signed in from, for KnownAddressTTL.
	knownAddr = limit{prefix: "signin:known:", max: 1, window: KnownAddressTTL}
)

// KnownAddressTTL is how long an address a manager signed in from stays
// exempt from the email's guessing limit.
const KnownAddressTTL = 30 * 24 * time.Hour

// Accounts runs the use cases of manager accounts: invitations, sign-in
// (with its guessing limits and argon2id rehash), the caller's identity.
type Accounts struct {
	scope
	store       AccountStore
	credentials *Credentials
	pwcost      password.Params
	now         func() time.Time
	logger      *slog.Logger
	// dummyHash is verified against when a sign-in names an unknown email,
	// so that unknown and known emails take the same time (see hashFor).
	dummyOnce sync.Once
	dummyHash string
}

// NewAccounts returns the Accounts service. pwcost are the argon2id costs
// of new passwords (password.Default when zero); a manager whose hash was
// made with other costs is rehashed at the next sign-in.
func NewAccounts(store AccountStore, credentials *Credentials, pwcost password.Params, now func() time.Time, logger *slog.Logger) *Accounts {
	if pwcost == (password.Params{}) {
		pwcost = password.Default
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Accounts{scope: scope{store}, store: store, credentials: credentials, pwcost: pwcost, now: now, logger: logger}
}

// Me describes the caller.
type Me struct {
	Role         string `json:"role" enum:"operator,manager,carrier,courier"`
	SubjectID    string `json:"subject_id,omitempty" doc:"The manager, carrier or courier the token acts as."`
	CarrierID    string `json:"carrier_id,omitempty" doc:"The carrier, for carrier keys and courier sessions."`
	CredentialID string `json:"credential_id" doc:"The ID of the token used."`
	// BuildingIDs are the buildings a manager manages.
	BuildingIDs []string `json:"building_ids,omitempty" doc:"The buildings a manager manages."`
}

// Me returns who the caller is.
func (s *Accounts) Me(ctx context.Context) (*Me, error) {
	p, err := require(ctx, everyone)
	if err != nil {
		return nil, err
	}
	ids, err := s.managedBuildingIDs(ctx)
	if err != nil {
		return nil, err
	}
	return &Me{Role: p.Role, SubjectID: p.SubjectID, CarrierID: p.CarrierID, CredentialID: p.CredentialID, BuildingIDs: ids}, nil
}

// SignedIn is a new manager session; Token is shown once.
type SignedIn struct {
	Token      string
	Credential *doorman.Credential
	Manager    *doorman.Manager
}

// SignIn exchanges a manager's email and password for a session, valid
// doorman.ManagerSessionTTL, for a manager without a TOTP factor (one
// with a factor is refused with reason totp_required: use
// SignInWithCode or BeginSignIn). addr is the client's address (AddrKey).
// Returns EUNAUTHORIZED for a wrong email or password (one answer for
// both) and ETOOMANYREQUEST (a *RetryError) while a guessing limit holds.
func (s *Accounts) SignIn(ctx context.Context, email, pw, addr string) (*SignedIn, error) {
	return s.SignInWithCode(ctx, email, pw, "", addr)
}

// SignInWithCode is SignIn in one step for a manager who may have a TOTP
// factor: code is then required and must be a code not used before.
// A right password without a code is refused with reason totp_required,
// a wrong or used code with totp_invalid; codes are limited per manager
// (SignInTOTPFailures).
func (s *Accounts) SignInWithCode(ctx context.Context, email, pw, code, addr string) (*SignedIn, error) {
	now := s.now()
	m, err := s.checkPassword(ctx, email, pw, addr, now)
	if err != nil {
		return nil, err
	}
	totp, err := s.store.ManagerTOTP(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	if totp.Enabled() {
		if normalizeTOTPCode(code) == "" {
			return nil, totpRequired()
		}
		if err := s.checkCode(ctx, m.ID, totp, code, now); err != nil {
			return nil, err
		}
	}
	return s.startSession(ctx, m, addr, now)
}

// checkPassword checks a manager's email and password under the guessing
// limits, counting the attempt first, and returns the manager.
func (s *Accounts) checkPassword(ctx context.Context, email, pw, addr string, now time.Time) (*doorman.Manager, error) {
	email = strings.TrimSpace(email)
	emailKey := strings.ToLower(email)
	pair := addr + "|" + emailKey
	refused := func(until time.Time) error {
		return tooMany("Too many failed sign-ins; try again later.", now, until)
	}
	// Count the attempt first: parallel guesses are all counted before any
	// of them is checked.
	pairN, pairUntil, err := signInPair.count(ctx, s.store, pair, now)
	if err != nil {
		return nil, err
	}
	addrN, addrUntil, err := signInAddr.count(ctx, s.store, addr, now)
	if err != nil {
		return nil, err
	}
	switch {
	case addrN > signInAddr.max:
		return nil, refused(addrUntil)
	case pairN > signInPair.max:
		return nil, refused(pairUntil)
	}
	m, err := s.store.ManagerByEmail(ctx, email)
	if err != nil && doorman.ErrorCode(err) != doorman.ENOTFOUND {
		return nil, err
	}
	if over, until, err := signInEmail.over(ctx, s.store, emailKey, now); err != nil {
		return nil, err
	} else if over && pairN > 1 {
		// Past the email's limit an address keeps its first attempt (a
		// manager typing the right password gets in), and addresses the
		// manager signed in from keep all of theirs.
		known := false
		if m != nil {
			if known, _, err = knownAddr.over(ctx, s.store, m.ID+"|"+addr, now); err != nil {
				return nil, err
			}
		}
		if !known {
			return nil, refused(until)
		}
	}

	hash := s.hashFor(m) // the same work for unknown emails: no enumeration by timing
	match, err := password.Verify(hash, pw)
	if err != nil && m != nil {
		s.logger.Error("app: unreadable password hash", "manager", m.ID, "err", err)
	}
	if m == nil || !match {
		if n, _, err := signInEmail.count(ctx, s.store, emailKey, now); err != nil {
			return nil, err
		} else if n == signInEmail.max {
			s.logger.Warn("app: sign-in guessing limit reached for an email; fresh addresses keep one attempt each")
		}
		if pairN == signInPair.max {
			s.logger.Warn("app: sign-in guessing limit reached for an address and email")
		}
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "Wrong email or password.")
	}
	if password.NeedsRehash(m.PasswordHash, s.pwcost) {
		s.rehash(ctx, m, pw)
	}
	return m, nil
}

// startSession ends a successful sign-in from addr: the address's count
// for the manager's email is forgotten, the address is remembered as the
// manager's, and a session is minted.
func (s *Accounts) startSession(ctx context.Context, m *doorman.Manager, addr string, now time.Time) (*SignedIn, error) {
	if err := s.store.ThrottleReset(ctx, signInPair.prefix+addr+"|"+strings.ToLower(m.Email)); err != nil {
		return nil, err
	}
	if err := s.markKnown(ctx, m.ID, addr, now); err != nil {
		return nil, err
	}
	token, cred, err := s.credentials.mint(ctx, doorman.RoleManager, m.ID, "", "session", doorman.ManagerSessionTTL)
	if err != nil {
		return nil, err
	}
	return &SignedIn{Token: token, Credential: cred, Manager: m}, nil
}

// markKnown notes that the manager signed in from addr, for
// KnownAddressTTL from now.
func (s *Accounts) markKnown(ctx context.Context, managerID, addr string, now time.Time) error {
	key := managerID + "|" + addr
	if err := s.store.ThrottleReset(ctx, knownAddr.prefix+key); err != nil {
		return err
	}
	_, _, err := knownAddr.count(ctx, s.store, key, now)
	return err
}

// hashFor returns the manager's password hash, or, for an unknown email,
// a hash of a dummy password made once with the current costs.
func (s *Accounts) hashFor(m *doorman.Manager) string {
	if m != nil {
		return m.PasswordHash
	}
	s.dummyOnce.Do(func() {
		var err error
		if s.dummyHash, err = password.HashWith("doorman-dummy-password-for-timing", s.pwcost); err != nil {
			s.logger.Error("app: hashing the dummy password", "err", err)
		}
	})
	return s.dummyHash
}

// rehash stores the manager's password hashed with the current costs. A
// failure is logged: the sign-in itself succeeded.
func (s *Accounts) rehash(ctx context.Context, m *doorman.Manager, pw string) {
	hash, err := password.HashWith(pw, s.pwcost)
	if err == nil {
		err = s.store.SetManagerPasswordHash(ctx, m.ID, hash)
	}
	if err != nil {
		s.logger.Error("app: rehashing a password with new costs", "manager", m.ID, "err", err)
		return
	}
	m.PasswordHash = hash
	s.logger.Info("app: password rehashed with new costs", "manager", m.ID)
}

// NewInvite is an invitation just made; Token is shown once.
type NewInvite struct {
	Token  string                 `json:"token" doc:"The invitation token, to be passed to the invitee. It is shown only here."`
	Invite *doorman.ManagerInvite `json:"invite"`
}

// CreateInvite invites email to manage a building (operators only).
// Returns ENOTFOUND or EINVALID.
func (s *Accounts) CreateInvite(ctx context.Context, buildingID, email string) (*NewInvite, error) {
	if _, err := require(ctx, operators); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	email = strings.TrimSpace(email)
	if !doorman.ValidEmail(email) {
		return nil, doorman.InvalidField("body.email", "A valid email address is required.")
	}
	now := s.now()
	token, hash := doorman.NewToken(doorman.TokenInvite)
	inv := &doorman.ManagerInvite{
		ID:         doorman.NewID(doorman.PrefixInvite),
		BuildingID: b.ID,
		Email:      email,
		TokenHash:  hash,
		CreatedAt:  now,
		ExpiresAt:  now.Add(doorman.InviteTTL),
	}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return nil, scoped(err, "Building")
	}
	return &NewInvite{Token: token, Invite: inv}, nil
}

// AcceptInvite lets whoever holds an invitation token create the invited
// manager account (name and password), or, with no password, add the
// building to the existing account of that email. Each token works once.
// Returns ENOTFOUND (unknown, used or expired: one answer), EINVALID, or
// ECONFLICT (the email has an account: leave the password out).
func (s *Accounts) AcceptInvite(ctx context.Context, token, name, pw string) (*doorman.Manager, error) {
	if !strings.HasPrefix(token, doorman.TokenInvite) || len(token) > MaxTokenLen {
		return nil, notFound("Invitation") // before any hashing: no work for junk
	}
	var hash string
	if pw != "" {
		if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
			return nil, doorman.InvalidField("body.password", "The password must be %d to %d characters long.", MinPasswordLen, MaxPasswordLen)
		}
		if strings.TrimSpace(name) == "" {
			return nil, doorman.InvalidField("body.name", "A name is required for a new account.")
		}
		var err error
		if hash, err = password.HashWith(pw, s.pwcost); err != nil {
			return nil, err
		}
	}
	m, err := s.store.AcceptInvite(ctx, doorman.HashToken(token), strings.TrimSpace(name), hash, s.now())
	return m, scoped(err, "Invitation")
}
