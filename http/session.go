package http

import (
	"context"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

func (s *Server) getMe(ctx context.Context, _ *struct{}) (*output[*app.Me], error) {
	return answer(s.app.Accounts.Me(ctx))
}

type loginInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"254" format:"email" doc:"The manager's email."`
		Password string `json:"password" maxLength:"1024" doc:"The manager's password."`
		TOTPCode string `json:"totp_code,omitempty" maxLength:"16" doc:"The current code of the manager's authenticator app, required when the manager turned sign-in codes on (otherwise 401 with reason totp_required; a wrong or used code is totp_invalid). Each code works once."`
	}
}

// Session is a new session token, shown once.
type Session struct {
	Token      string              `json:"token" doc:"The bearer token. It is shown only here."`
	Credential *doorman.Credential `json:"credential"`
	Manager    *doorman.Manager    `json:"manager,omitempty"`
}

func (s *Server) createSession(ctx context.Context, in *loginInput) (*output[Session], error) {
	signed, err := s.app.Accounts.SignInWithCode(ctx, in.Body.Email, in.Body.Password, in.Body.TOTPCode, app.AddrKey(requestAddr(ctx)))
	if err != nil {
		return nil, err
	}
	return ok(Session{Token: signed.Token, Credential: signed.Credential, Manager: signed.Manager}), nil
}

func (s *Server) deleteCurrentSession(ctx context.Context, _ *struct{}) (*noContent, error) {
	return nil, s.app.Credentials.RevokeCurrent(ctx)
}

type acceptInviteInput struct {
	Body struct {
		Token    string `json:"token" maxLength:"256" doc:"The invitation token."`
		Name     string `json:"name,omitempty" maxLength:"200" doc:"Your name; required for a new account."`
		Password string `json:"password,omitempty" maxLength:"1024" doc:"At least 12 characters; required for a new account, left out to add the building to your existing account."`
	}
}

func (s *Server) acceptInvite(ctx context.Context, in *acceptInviteInput) (*output[*doorman.Manager], error) {
	return answer(s.app.Accounts.AcceptInvite(ctx, in.Body.Token, in.Body.Name, in.Body.Password))
}
