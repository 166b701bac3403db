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
	co := &doorman.Courier{
		CarrierID:                    in.CarrierID,
		ExternalID:                   in.ExternalID,
		Name:                         in.Body.Name,
		Status:                       in.Body.Status,
		BackgroundCheckVerifiedUntil: in.Body.BackgroundCheckVerifiedUntil,
	}
	created, err := s.app.Carriers.PutCourier(ctx, co)
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
	return page(s.app.Carriers.ListCouriers(ctx, in.CarrierID, in.page()))
}

func (s *Server) getCourier(ctx context.Context, in *CourierParam) (*output[*doorman.Courier], error) {
	return answer(s.app.Carriers.Courier(ctx, in.CarrierID, in.ExternalID))
}

type createCourierSessionInput struct {
	CourierParam
	IdempotencyHeader
	Body struct {
		TTLSeconds int `json:"ttl_seconds,omitempty" minimum:"60" maximum:"43200" default:"3600" doc:"How long the session lasts; default 1 hour, at most 12 hours."`
	}
}

func (s *Server) createCourierSession(ctx context.Context, in *createCourierSessionInput) (*output[NewCredential], error) {
	ttl := time.Duration(in.Body.TTLSeconds) * time.Second
	return newCredential(s.app.Credentials.CreateCourierSession(ctx, in.CarrierID, in.ExternalID, ttl))
}

type listCourierSessionsInput struct {
	CourierParam
	PageParams
}

func (s *Server) listCourierSessions(ctx context.Context, in *listCourierSessionsInput) (*output[Page[*doorman.Credential]], error) {
	return page(s.app.Credentials.ListCourierSessions(ctx, in.CarrierID, in.ExternalID, in.page()))
}

type revokeCourierSessionInput struct {
	CourierParam
	SessionID string `path:"session_id" maxLength:"64" doc:"The session's credential ID (crd_…)."`
}

func (s *Server) revokeCourierSession(ctx context.Context, in *revokeCourierSessionInput) (*noContent, error) {
	return nil, s.app.Credentials.RevokeCourierSession(ctx, in.CarrierID, in.ExternalID, in.SessionID)
}
