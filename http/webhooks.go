package http

import (
	"context"

	"github.com/doorman-dev/doorman"
)

// WebhookEndpointIDParam names an endpoint.
type WebhookEndpointIDParam struct {
	EndpointID string `path:"endpoint_id" maxLength:"64" doc:"A webhook endpoint ID (whk_…)."`
}

// webhookEndpointBody is what an endpoint is made from.
type webhookEndpointBody struct {
	URL         string   `json:"url" minLength:"1" maxLength:"2000" format:"uri" example:"https://hooks.example.com/doorman" doc:"Where Doorman POSTs: https, on a host that resolves to public addresses only."`
	Description string   `json:"description,omitempty" maxLength:"500"`
	EventTypes  []string `json:"event_types" minItems:"1" maxItems:"7" doc:"Event types to receive: access.granted, access.denied, door.opened, parcel.delivered, pickup.collected, and for a building's endpoints device.offline and device.online."`
}

// NewWebhookEndpoint is an endpoint just made or given a new secret.
type NewWebhookEndpoint struct {
	Endpoint *doorman.WebhookEndpoint `json:"endpoint"`
	Secret   string                   `json:"secret" doc:"The signing secret (whsec_…): shown in this answer only."`
}

type createCarrierWebhookInput struct {
	IdempotencyHeader
	CarrierIDParam
	Body webhookEndpointBody
}

func (s *Server) createCarrierWebhook(ctx context.Context, in *createCarrierWebhookInput) (*output[NewWebhookEndpoint], error) {
	return s.createWebhook(ctx, &doorman.WebhookEndpoint{CarrierID: in.CarrierID}, in.Body)
}

type createBuildingWebhookInput struct {
	IdempotencyHeader
	BuildingIDParam
	Body webhookEndpointBody
}

func (s *Server) createBuildingWebhook(ctx context.Context, in *createBuildingWebhookInput) (*output[NewWebhookEndpoint], error) {
	return s.createWebhook(ctx, &doorman.WebhookEndpoint{BuildingID: in.BuildingID}, in.Body)
}

func (s *Server) createWebhook(ctx context.Context, e *doorman.WebhookEndpoint, body webhookEndpointBody) (*output[NewWebhookEndpoint], error) {
	e.URL, e.Description, e.EventTypes = body.URL, body.Description, body.EventTypes
	secret, err := s.app.Webhooks.CreateEndpoint(ctx, e)
	if err != nil {
		return nil, err
	}
	return ok(NewWebhookEndpoint{Endpoint: e, Secret: secret}), nil
}

func (s *Server) listCarrierWebhooks(ctx context.Context, in *CarrierIDParam) (*output[Page[*doorman.WebhookEndpoint]], error) {
	list, err := s.app.Webhooks.ListEndpoints(ctx, doorman.WebhookFilter{CarrierID: in.CarrierID})
	return page(list, "", err)
}

func (s *Server) listBuildingWebhooks(ctx context.Context, in *BuildingIDParam) (*output[Page[*doorman.WebhookEndpoint]], error) {
	list, err := s.app.Webhooks.ListEndpoints(ctx, doorman.WebhookFilter{BuildingID: in.BuildingID})
	return page(list, "", err)
}

func (s *Server) getWebhook(ctx context.Context, in *WebhookEndpointIDParam) (*output[*doorman.WebhookEndpoint], error) {
	return answer(s.app.Webhooks.Endpoint(ctx, in.EndpointID))
}

type updateWebhookInput struct {
	WebhookEndpointIDParam
	Body struct {
		URL         *string   `json:"url,omitempty" minLength:"1" maxLength:"2000" format:"uri"`
		Description *string   `json:"description,omitempty" maxLength:"500"`
		EventTypes  *[]string `json:"event_types,omitempty" minItems:"1" maxItems:"7"`
		Enabled     *bool     `json:"enabled,omitempty" doc:"false stops calls; true starts them again (also after Doorman disabled the endpoint for a 410 Gone)."`
	}
}

func (s *Server) updateWebhook(ctx context.Context, in *updateWebhookInput) (*output[*doorman.WebhookEndpoint], error) {
	b := in.Body
	return answer(s.app.Webhooks.UpdateEndpoint(ctx, in.EndpointID, doorman.WebhookEndpointUpdate{
		URL: b.URL, Description: b.Description, EventTypes: b.EventTypes, Enabled: b.Enabled}))
}

func (s *Server) deleteWebhook(ctx context.Context, in *WebhookEndpointIDParam) (*noContent, error) {
	return nil, s.app.Webhooks.DeleteEndpoint(ctx, in.EndpointID)
}

type rotateWebhookSecretInput struct {
	IdempotencyHeader
	WebhookEndpointIDParam
}

func (s *Server) rotateWebhookSecret(ctx context.Context, in *rotateWebhookSecretInput) (*output[NewWebhookEndpoint], error) {
	e, secret, err := s.app.Webhooks.RotateSecret(ctx, in.EndpointID)
	if err != nil {
		return nil, err
	}
	return ok(NewWebhookEndpoint{Endpoint: e, Secret: secret}), nil
}

type listWebhookDeliveriesInput struct {
	WebhookEndpointIDParam
	Limit int `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Most attempts to return, newest first."`
}

func (s *Server) listWebhookDeliveries(ctx context.Context, in *listWebhookDeliveriesInput) (*output[Page[*doorman.WebhookDelivery]], error) {
	list, err := s.app.Webhooks.Deliveries(ctx, in.EndpointID, in.Limit)
	return page(list, "", err)
}
