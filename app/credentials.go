package app

import (
	"context"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// CredentialStore is what the Credentials service uses of the store.
type CredentialStore interface {
	scopeStore
	CreateCredential(ctx context.Context, c *doorman.Credential) error
	CredentialByTokenHash(ctx context.Context, hash string, now time.Time) (*doorman.Credential, error)
	ListCredentials(ctx context.Context, role, subjectID string, p doorman.Page) ([]*doorman.Credential, string, error)
	RevokeCredential(ctx context.Context, role, subjectID, id string) error
	CountCredentials(ctx context.Context, role string) (int, error)
	ThrottleStore
	RevokeCredentials(ctx context.Context, role, subjectID string) (int, error)
}

// Credentials mints, lists, revokes and checks bearer tokens: operator
// tokens, manager sessions, carrier API keys and courier sessions. Every
// token Doorman issues is minted by mint, here.
type Credentials struct {
	scope
	store CredentialStore
	now   func() time.Time
}

// NewCredentials returns the Credentials service over store; now is the
// clock of expiry (time.Now when nil).
func NewCredentials(store CredentialStore, now func() time.Time) *Credentials {
	if now == nil {
		now = time.Now
	}
	return &Credentials{scope: scope{store}, store: store, now: now}
}

// MaxTokenLen bounds what is hashed and looked up; real tokens are ~47
// characters.
const MaxTokenLen = 256

// tokenRoles maps each token prefix to the only role a token with that
// prefix may carry.
var tokenRoles = map[string]string{
	doorman.TokenOperator: doorman.RoleOperator,
	doorman.TokenManager:  doorman.RoleManager,
	doorman.TokenCarrier:  doorman.RoleCarrier,
	doorman.TokenCourier:  doorman.RoleCourier,
	doorman.TokenResident: doorman.RoleResident,
}

// tokenPrefixLen is how much of a token listings show to tell tokens
// apart: the type prefix and 8 characters of the random part (48 bits).
const tokenPrefixLen = 12

// Authenticate returns the principal a bearer token stands for. Unknown,
// malformed, expired and revoked tokens all get the same EUNAUTHORIZED.
func (s *Credentials) Authenticate(ctx context.Context, token string) (*doorman.Principal, error) {
	token = strings.TrimSpace(token)
	role := tokenRole(token)
	if role == "" || len(token) > MaxTokenLen {
		return nil, invalidToken()
	}
	now := s.now()
	cred, err := s.store.CredentialByTokenHash(ctx, doorman.HashToken(token), now)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, invalidToken()
	} else if err != nil {
		return nil, err
	}
	// The store should never hand back a credential of another role or an
	// inactive one; checking again costs nothing.
	if cred.Role != role || !cred.Active(now) {
		return nil, invalidToken()
	}
	return &doorman.Principal{Role: cred.Role, SubjectID: cred.SubjectID, CarrierID: cred.CarrierID, CredentialID: cred.ID,
		ExpiresAt: cred.ExpiresAt}, nil
}

// tokenRole returns the role a token's prefix stands for, or "".
func tokenRole(token string) string {
	for prefix, role := range tokenRoles {
		if strings.HasPrefix(token, prefix) && len(token) > len(prefix) {
			return role
		}
	}
	return ""
}

func invalidToken() error {
	return doorman.Errorf(doorman.EUNAUTHORIZED, "The bearer token is not valid, or has expired or been revoked.")
}

// mint stores a new credential of the role for subject and returns its
// token, which exists only in this answer. ttl 0 never expires.
func (s *Credentials) mint(ctx context.Context, role, subjectID, carrierID, name string, ttl time.Duration) (string, *doorman.Credential, error) {
	prefix := map[string]string{
		doorman.RoleOperator: doorman.TokenOperator, doorman.RoleManager: doorman.TokenManager,
		doorman.RoleCarrier: doorman.TokenCarrier, doorman.RoleCourier: doorman.TokenCourier,
		doorman.RoleResident: doorman.TokenResident,
	}[role]
	token, hash := doorman.NewToken(prefix)
	now := s.now().UTC()
	c := &doorman.Credential{
		ID:        doorman.NewID(doorman.PrefixCredential),
		Role:      role,
		SubjectID: subjectID,
		CarrierID: carrierID,
		Name:      name,
		Prefix:    token[:tokenPrefixLen],
		TokenHash: hash,
		CreatedAt: now,
	}
	if ttl > 0 {
		expires := now.Add(ttl)
		c.ExpiresAt = &expires
	}
	if err := s.store.CreateCredential(ctx, c); err != nil {
		return "", nil, err
	}
	return token, c, nil
}

// CreateOperatorToken mints an operator token (operators, and Doorman
// itself for the first start and `doorman admin`).
func (s *Credentials) CreateOperatorToken(ctx context.Context, name string) (string, *doorman.Credential, error) {
	if _, err := require(ctx, operators); err != nil {
		return "", nil, err
	}
	if strings.TrimSpace(name) == "" || len(name) > 100 {
		return "", nil, doorman.InvalidField("name", "A name of 1 to 100 characters is required.")
	}
	return s.mint(ctx, doorman.RoleOperator, "", "", name, 0)
}

// FirstOperatorToken mints an operator token named "first start" if the
// deployment has no active operator credential, and returns it ("" when
// there is one already): how a fresh install gets its first way in. Only
// Doorman itself calls it. Several nodes starting at once on an empty
// store may each mint one; each prints its own.
func (s *Credentials) FirstOperatorToken(ctx context.Context) (string, error) {
	if p := caller(ctx); p.Role != doorman.RoleSystem {
		return "", doorman.Errorf(doorman.EFORBIDDEN, "Only Doorman itself makes the first operator token.")
	}
	n, err := s.store.CountCredentials(ctx, doorman.RoleOperator)
	if err != nil || n > 0 {
		return "", err
	}
	token, _, err := s.mint(ctx, doorman.RoleOperator, "", "", "first start", 0)
	return token, err
}

// CreateAPIKey mints an API key for a carrier (operators only). Returns
// ENOTFOUND.
func (s *Credentials) CreateAPIKey(ctx context.Context, carrierID, name string) (string, *doorman.Credential, error) {
	if _, err := require(ctx, operators); err != nil {
		return "", nil, err
	}
	c, err := s.ownCarrier(ctx, carrierID)
	if err != nil {
		return "", nil, err
	}
	return s.mint(ctx, doorman.RoleCarrier, c.ID, c.ID, name, 0)
}

// ListAPIKeys lists a carrier's API keys.
func (s *Credentials) ListAPIKeys(ctx context.Context, carrierID string, page doorman.Page) ([]*doorman.Credential, string, error) {
	if _, err := require(ctx, carrierOwners); err != nil {
		return nil, "", err
	}
	c, err := s.ownCarrier(ctx, carrierID)
	if err != nil {
		return nil, "", err
	}
	return s.store.ListCredentials(ctx, doorman.RoleCarrier, c.ID, page.Normalize())
}

// RevokeAPIKey revokes a carrier's API key. Returns ENOTFOUND.
func (s *Credentials) RevokeAPIKey(ctx context.Context, carrierID, keyID string) error {
	if _, err := require(ctx, carrierOwners); err != nil {
		return err
	}
	c, err := s.ownCarrier(ctx, carrierID)
	if err != nil {
		return err
	}
	if !doorman.HasPrefix(keyID, doorman.PrefixCredential) {
		return notFound("API key")
	}
	return scoped(s.store.RevokeCredential(ctx, doorman.RoleCarrier, c.ID, keyID), "API key")
}

// CreateCourierSession mints a session for one of the calling carrier's
// couriers, valid for ttl (0: doorman.CourierSessionDefaultTTL; at most
// doorman.CourierSessionMaxTTL). Only active couriers get one. Returns
// ENOTFOUND or EINVALID.
func (s *Credentials) CreateCourierSession(ctx context.Context, carrierID, externalID string, ttl time.Duration) (string, *doorman.Credential, error) {
	if _, err := require(ctx, carriersOnly); err != nil {
		return "", nil, err
	}
	co, err := s.courier(ctx, carrierID, externalID)
	if err != nil {
		return "", nil, err
	}
	if co.Status != doorman.CourierActive {
		return "", nil, doorman.Errorf(doorman.EINVALID, "Courier %q is %s; only active couriers get sessions.", co.ExternalID, co.Status)
	}
	if ttl == 0 {
		ttl = doorman.CourierSessionDefaultTTL
	}
	if ttl < time.Minute || ttl > doorman.CourierSessionMaxTTL {
		return "", nil, doorman.InvalidField("body.ttl_seconds", "ttl_seconds must be between 60 and %d.", int(doorman.CourierSessionMaxTTL/time.Second))
	}
	return s.mint(ctx, doorman.RoleCourier, co.ID, co.CarrierID, co.ExternalID, ttl)
}

// ListCourierSessions lists a courier's sessions.
func (s *Credentials) ListCourierSessions(ctx context.Context, carrierID, externalID string, page doorman.Page) ([]*doorman.Credential, string, error) {
	if _, err := require(ctx, carrierOwners); err != nil {
		return nil, "", err
	}
	co, err := s.courier(ctx, carrierID, externalID)
	if err != nil {
		return nil, "", err
	}
	return s.store.ListCredentials(ctx, doorman.RoleCourier, co.ID, page.Normalize())
}

// RevokeCourierSession revokes a courier's session. Returns ENOTFOUND.
func (s *Credentials) RevokeCourierSession(ctx context.Context, carrierID, externalID, sessionID string) error {
	if _, err := require(ctx, carrierOwners); err != nil {
		return err
	}
	co, err := s.courier(ctx, carrierID, externalID)
	if err != nil {
		return err
	}
	if !doorman.HasPrefix(sessionID, doorman.PrefixCredential) {
		return notFound("Session")
	}
	return scoped(s.store.RevokeCredential(ctx, doorman.RoleCourier, co.ID, sessionID), "Session")
}

// RevokeCurrent revokes the credential the caller used (signing out):
// a manager's or courier's session, or an operator's web session (the
// only operator credential a browser holds, see SignInWithToken); an
// operator token itself is not revoked this way (EFORBIDDEN).
func (s *Credentials) RevokeCurrent(ctx context.Context) error {
	if p := caller(ctx); p.Role == doorman.RoleOperator && p.SubjectID == OperatorWebSubject {
		return s.store.RevokeCredential(ctx, p.Role, p.SubjectID, p.CredentialID)
	}
	p, err := require(ctx, sessionHolders)
	if err != nil {
		return err
	}
	return s.store.RevokeCredential(ctx, p.Role, p.SubjectID, p.CredentialID)
}

// RevokeAllSessions revokes every session of the caller, the one it
// used included: "sign out everywhere". Returns how many it revoked.
func (s *Credentials) RevokeAllSessions(ctx context.Context) (int, error) {
	p, err := require(ctx, sessionHolders)
	if err != nil {
		return 0, err
	}
	return s.store.RevokeCredentials(ctx, p.Role, p.SubjectID)
}
