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
	if err := s.store.CreateCarrier(ctx, c); err != nil {
		return nil, err
	}
	return ok(c), nil
}

func (s *Server) listCarriers(ctx context.Context, in *PageParams) (*output[Page[*doorman.Carrier]], error) {
	items, next, err := s.store.ListCarriers(ctx, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

func (s *Server) getCarrier(ctx context.Context, in *CarrierIDParam) (*output[*doorman.Carrier], error) {
	c, err := s.carrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	return ok(c), nil
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

func (s *Server) createAPIKey(ctx context.Context, in *createAPIKeyInput) (*output[NewCredential], error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	token, hash := doorman.NewToken(doorman.TokenCarrier)
	cred := &doorman.Credential{
		ID:        doorman.NewID(doorman.PrefixCredential),
		Role:      doorman.RoleCarrier,
		SubjectID: c.ID,
		CarrierID: c.ID,
		Name:      in.Body.Name,
		Prefix:    tokenPrefix(token),
		TokenHash: hash,
		CreatedAt: s.now(),
	}
	if err := s.store.CreateCredential(ctx, cred); err != nil {
		return nil, err
	}
	return ok(NewCredential{Token: token, Credential: cred}), nil
}

type listAPIKeysInput struct {
	CarrierIDParam
	PageParams
}

func (s *Server) listAPIKeys(ctx context.Context, in *listAPIKeysInput) (*output[Page[*doorman.Credential]], error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListCredentials(ctx, doorman.RoleCarrier, c.ID, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

type revokeAPIKeyInput struct {
	CarrierIDParam
	KeyID string `path:"key_id" maxLength:"64" doc:"The API key's credential ID (crd_…)."`
}

func (s *Server) revokeAPIKey(ctx context.Context, in *revokeAPIKeyInput) (*noContent, error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(in.KeyID, doorman.PrefixCredential) {
		return nil, notFound("API key")
	}
	return nil, scoped(s.store.RevokeCredential(ctx, doorman.RoleCarrier, c.ID, in.KeyID), "API key")
}
