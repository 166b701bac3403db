package http

import (
	"context"
	"net/http"
	"time"

	"github.com/doorman-dev/doorman"
)

type CourierParam struct {
	CarrierIDParam
	ExternalID string `path:"external_id" minLength:"1" maxLength:"128" doc:"The carrier's own ID of the courier."`
}

type putCourierInput struct {
	CourierParam
	Body struct {
		Name   string `json:"name" minLength:"1" maxLength:"200"`
		Status string `json:"status,omitempty" enum:"active,suspended,inactive" default:"active"`
		// BackgroundCheckVerifiedUntil is when the carrier's background
		// check lapses.
		BackgroundCheckVerifiedUntil *time.Time `json:"background_check_verified_until,omitempty" doc:"When the carrier's background check of the courier lapses; without it the courier is not let in."`
	}
}

type putCourierOutput struct {
	Status int
	Body   *doorman.Courier
}

func (s *Server) putCourier(ctx context.Context, in *putCourierInput) (*putCourierOutput, error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	co := &doorman.Courier{
		CarrierID:                    c.ID,
		ExternalID:                   in.ExternalID,
		Name:                         in.Body.Name,
		Status:                       in.Body.Status,
		BackgroundCheckVerifiedUntil: in.Body.BackgroundCheckVerifiedUntil,
	}
	if co.Status == "" {
		co.Status = doorman.CourierActive
	}
	if err := co.Validate(); err != nil {
		return nil, err
	}
	created, err := s.store.UpsertCourier(ctx, co)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &putCourierOutput{Status: status, Body: co}, nil
}

type listCouriersInput struct {
	CarrierIDParam
	PageParams
}

func (s *Server) listCouriers(ctx context.Context, in *listCouriersInput) (*output[Page[*doorman.Courier]], error) {
	c, err := s.ownCarrier(ctx, in.CarrierID)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListCouriers(ctx, c.ID, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

func (s *Server) getCourier(ctx context.Context, in *CourierParam) (*output[*doorman.Courier], error) {
	co, err := s.courier(ctx, in.CarrierID, in.ExternalID)
	if err != nil {
		return nil, err
	}
	return ok(co), nil
}

type createCourierSessionInput struct {
	CourierParam
	IdempotencyHeader
	Body struct {
		TTLSeconds int `json:"ttl_seconds,omitempty" minimum:"60" maximum:"43200" default:"3600" doc:"How long the session lasts; default 1 hour, at most 12 hours."`
	}
}

func (s *Server) createCourierSession(ctx context.Context, in *createCourierSessionInput) (*output[NewCredential], error) {
	co, err := s.courier(ctx, in.CarrierID, in.ExternalID)
	if err != nil {
		return nil, err
	}
	if co.Status != doorman.CourierActive {
		return nil, doorman.Errorf(doorman.EINVALID, "Courier %q is %s; only active couriers get sessions.", co.ExternalID, co.Status)
	}
	ttl := doorman.CourierSessionDefaultTTL
	if in.Body.TTLSeconds > 0 {
		ttl = time.Duration(in.Body.TTLSeconds) * time.Second
	}
	if ttl > doorman.CourierSessionMaxTTL {
		return nil, invalidField("body.ttl_seconds", "ttl_seconds must be at most %d.", int(doorman.CourierSessionMaxTTL/time.Second))
	}
	now := s.now()
	expires := now.Add(ttl)
	token, hash := doorman.NewToken(doorman.TokenCourier)
	cred := &doorman.Credential{
		ID:        doorman.NewID(doorman.PrefixCredential),
		Role:      doorman.RoleCourier,
		SubjectID: co.ID,
		CarrierID: co.CarrierID,
		Name:      co.ExternalID,
		Prefix:    tokenPrefix(token),
		TokenHash: hash,
		CreatedAt: now,
		ExpiresAt: &expires,
	}
	if err := s.store.CreateCredential(ctx, cred); err != nil {
		return nil, err
	}
	return ok(NewCredential{Token: token, Credential: cred}), nil
}

type listCourierSessionsInput struct {
	CourierParam
	PageParams
}

func (s *Server) listCourierSessions(ctx context.Context, in *listCourierSessionsInput) (*output[Page[*doorman.Credential]], error) {
	co, err := s.courier(ctx, in.CarrierID, in.ExternalID)
	if err != nil {
		return nil, err
	}
	items, next, err := s.store.ListCredentials(ctx, doorman.RoleCourier, co.ID, in.page())
	if err != nil {
		return nil, err
	}
	return pageOf(items, next), nil
}

type revokeCourierSessionInput struct {
	CourierParam
	SessionID string `path:"session_id" maxLength:"64" doc:"The session's credential ID (crd_…)."`
}

func (s *Server) revokeCourierSession(ctx context.Context, in *revokeCourierSessionInput) (*noContent, error) {
	co, err := s.courier(ctx, in.CarrierID, in.ExternalID)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(in.SessionID, doorman.PrefixCredential) {
		return nil, notFound("Session")
	}
	return nil, scoped(s.store.RevokeCredential(ctx, doorman.RoleCourier, co.ID, in.SessionID), "Session")
}
