package http

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/password"
)

// Password length limits, in bytes.
const (
	minPasswordLen = 12
	maxPasswordLen = 1024
)

// Me describes the caller.
type Me struct {
	Role         string `json:"role" enum:"operator,manager,carrier,courier"`
	SubjectID    string `json:"subject_id,omitempty" doc:"The manager, carrier or courier the token acts as."`
	CarrierID    string `json:"carrier_id,omitempty" doc:"The carrier, for carrier keys and courier sessions."`
	CredentialID string `json:"credential_id" doc:"The ID of the token used."`
	// BuildingIDs are the buildings a manager manages.
	BuildingIDs []string `json:"building_ids,omitempty" doc:"The buildings a manager manages."`
}

func (s *Server) getMe(ctx context.Context, _ *struct{}) (*output[Me], error) {
	p := caller(ctx)
	ids, err := s.managedBuildingIDs(ctx)
	if err != nil {
		return nil, err
	}
	return ok(Me{Role: p.Role, SubjectID: p.SubjectID, CarrierID: p.CarrierID, CredentialID: p.CredentialID, BuildingIDs: ids}), nil
}

type loginInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"254" format:"email" doc:"The manager's email."`
		Password string `json:"password" maxLength:"1024" doc:"The manager's password."`
	}
}

// Session is a new session token, shown once.
type Session struct {
	Token      string              `json:"token" doc:"The bearer token. It is shown only here."`
	Credential *doorman.Credential `json:"credential"`
	Manager    *doorman.Manager    `json:"manager,omitempty"`
}

func (s *Server) createSession(ctx context.Context, in *loginInput) (*output[Session], error) {
	email := strings.TrimSpace(in.Body.Email)
	key := strings.ToLower(email)
	now := s.now()
	if ok, retry := s.logins.allow(key, now); !ok {
		return nil, problemf(doorman.ETOOMANYREQUEST, "Too many failed logins for this email; try again later.").
			withReason(doorman.ReasonRateLimited).withHeader("Retry-After", retryAfter(retry))
	}
	m, err := s.store.ManagerByEmail(ctx, email)
	if err != nil && doorman.ErrorCode(err) != doorman.ENOTFOUND {
		return nil, err
	}
	hash := s.dummyHash // same work for unknown emails: no user enumeration by timing
	if m != nil {
		hash = m.PasswordHash
	}
	match, err := password.Verify(hash, in.Body.Password)
	if err != nil && m != nil {
		s.logger.Error("http: unreadable password hash", "manager", m.ID, "err", err)
	}
	if m == nil || !match {
		s.logins.fail(key, now)
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "Wrong email or password.")
	}
	s.logins.succeed(key)

	token, tokenHash := doorman.NewToken(doorman.TokenManager)
	expires := now.Add(doorman.ManagerSessionTTL)
	cred := &doorman.Credential{
		ID:        doorman.NewID(doorman.PrefixCredential),
		Role:      doorman.RoleManager,
		SubjectID: m.ID,
		Name:      "session",
		Prefix:    tokenPrefix(token),
		TokenHash: tokenHash,
		CreatedAt: now,
		ExpiresAt: &expires,
	}
	if err := s.store.CreateCredential(ctx, cred); err != nil {
		return nil, err
	}
	return ok(Session{Token: token, Credential: cred, Manager: m}), nil
}

func (s *Server) deleteCurrentSession(ctx context.Context, _ *struct{}) (*noContent, error) {
	p := caller(ctx)
	return nil, s.store.RevokeCredential(ctx, p.Role, p.SubjectID, p.CredentialID)
}

type acceptInviteInput struct {
	Body struct {
		Token    string `json:"token" maxLength:"256" doc:"The invitation token."`
		Name     string `json:"name,omitempty" maxLength:"200" doc:"Your name; required for a new account."`
		Password string `json:"password,omitempty" maxLength:"1024" doc:"At least 12 characters; required for a new account, left out to add the building to your existing account."`
	}
}

func (s *Server) acceptInvite(ctx context.Context, in *acceptInviteInput) (*output[*doorman.Manager], error) {
	b := in.Body
	if !strings.HasPrefix(b.Token, doorman.TokenInvite) {
		return nil, notFound("Invitation") // before any hashing: no work for junk
	}
	var hash string
	if b.Password != "" {
		if len(b.Password) < minPasswordLen || len(b.Password) > maxPasswordLen {
			return nil, invalidField("body.password", "The password must be %d to %d characters long.", minPasswordLen, maxPasswordLen)
		}
		var err error
		if hash, err = password.HashWith(b.Password, s.pwcost); err != nil {
			return nil, err
		}
		if strings.TrimSpace(b.Name) == "" {
			return nil, invalidField("body.name", "A name is required for a new account.")
		}
	}
	m, err := s.store.AcceptInvite(ctx, doorman.HashToken(b.Token), strings.TrimSpace(b.Name), hash, s.now())
	if err != nil {
		return nil, scoped(err, "Invitation")
	}
	return ok(m), nil
}

// mustHash hashes a password that is known to be hashable.
func (s *Server) mustHash(pw string) string {
	h, err := password.HashWith(pw, s.pwcost)
	if err != nil {
		panic(err)
	}
	return h
}

// retryAfter formats a Retry-After header value in whole seconds, rounded
// up and at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}
