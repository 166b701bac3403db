package http

import (
	"context"

	"github.com/doorman-dev/doorman"
)

type CarrierIDParam struct {
	CarrierID string `path:"carrier_id" maxLength:"64" doc:"A carrier ID (car_…)."`
}

type createCarrierInput struct {
	IdempotencyHeader
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"200" doc:"The carrier's name; unique."`
	}
}

func (s *Server) createCarrier(ctx context.Context, in *createCarrierInput) (*output[*doorman.Carrier], error) {
	c := &doorman.Carrier{Name: in.Body.Name}
	if err := s.app.Carriers.CreateCarrier(ctx, c); err != nil {
		return nil, err
	}
	return ok(c), nil
}

func (s *Server) listCarriers(ctx context.Context, in *PageParams) (*output[Page[*doorman.Carrier]], error) {
	return page(s.app.Carriers.ListCarriers(ctx, in.page()))
}

func (s *Server) getCarrier(ctx context.Context, in *CarrierIDParam) (*output[*doorman.Carrier], error) {
	return answer(s.app.Carriers.Carrier(ctx, in.CarrierID))
}

type createAPIKeyInput struct {
	CarrierIDParam
	IdempotencyHeader
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"100" doc:"What the key is for, e.g. \"production\"."`
	}
}

// NewCredential is a credential just made, with its token shown once.
type NewCredential struct {
	Token      string              `json:"token" doc:"The bearer token. It is shown only here; Doorman keeps its hash."`
	Credential *doorman.Credential `json:"credential"`
}

// newCredential maps a minted credential.
func newCredential(token string, c *doorman.Credential, err error) (*output[NewCredential], error) {
	if err != nil {
		return nil, err
	}
	return ok(NewCredential{Token: token, Credential: c}), nil
}

func (s *Server) createAPIKey(ctx context.Context, in *createAPIKeyInput) (*output[NewCredential], error) {
	return newCredential(s.app.Credentials.CreateAPIKey(ctx, in.CarrierID, in.Body.Name))
}

type listAPIKeysInput struct {
	CarrierIDParam
	PageParams
}

func (s *Server) listAPIKeys(ctx context.Context, in *listAPIKeysInput) (*output[Page[*doorman.Credential]], error) {
	return page(s.app.Credentials.ListAPIKeys(ctx, in.CarrierID, in.page()))
}

type revokeAPIKeyInput struct {
	CarrierIDParam
	KeyID string `path:"key_id" maxLength:"64" doc:"The API key's credential ID (crd_…)."`
}

func (s *Server) revokeAPIKey(ctx context.Context, in *revokeAPIKeyInput) (*noContent, error) {
	return nil, s.app.Credentials.RevokeAPIKey(ctx, in.CarrierID, in.KeyID)
}
