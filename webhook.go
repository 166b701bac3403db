package doorman

import (
	"context"
	"time"
)

// ID prefixes of webhook endpoints and of the record of each delivery
// attempt.
const (
	PrefixWebhook         = "whk"
	PrefixWebhookDelivery = "whd"
)

// Webhook event types, the "type" of a webhook's payload. An endpoint
// subscribes to some of them.
const (
	WebhookAccessGranted   = "access.granted"
	WebhookAccessDenied    = "access.denied"
	WebhookDoorOpened      = "door.opened"
	WebhookParcelDelivered = "parcel.delivered"
	WebhookPickupCollected = "pickup.collected"
	WebhookDeviceOffline   = "device.offline"
	WebhookDeviceOnline    = "device.online"
)

// WebhookEventTypes are every event type, in the order the console lists
// them. Carriers' endpoints may subscribe to all but the device ones.
var WebhookEventTypes = []string{
	WebhookAccessGranted, WebhookAccessDenied, WebhookDoorOpened,
	WebhookParcelDelivered, WebhookPickupCollected,
	WebhookDeviceOffline, WebhookDeviceOnline,
}

// ActionPickupCollected records that a courier collected a resident's
// return. (A door's device gone offline and back is ActionDoorOffline and
// ActionDoorOnline, written by the offline sweep.)
const ActionPickupCollected = "pickup.collected"

// Audit actions of managing webhook endpoints, written in the endpoint's
// building's chain (the platform chain for a carrier's endpoint), with the
// endpoint's ID and URL as detail.
const (
	ActionWebhookCreated       = "webhook.created"
	ActionWebhookUpdated       = "webhook.updated"
	ActionWebhookSecretRotated = "webhook.secret_rotated"
	ActionWebhookDeleted       = "webhook.deleted"
)

// WebhookSecretPrefix starts every webhook signing secret (Standard
// Webhooks): the rest is the base64 of the key's bytes.
const WebhookSecretPrefix = "whsec_"

// WebhookRotationOverlap is how long a rotated-out secret still signs
// beside the new one, so receivers can move to the new secret without
// missing a call.
const WebhookRotationOverlap = 24 * time.Hour

// WebhookEndpoint is where Doorman POSTs signed event messages. It belongs
// to a carrier (CarrierID: events of its couriers and parcels) or to a
// building (BuildingID: the building's events), never both.
type WebhookEndpoint struct {
	ID          string   `json:"id"`
	CarrierID   string   `json:"carrier_id,omitempty"`
	BuildingID  string   `json:"building_id,omitempty"`
	URL         string   `json:"url"`
	Description string   `json:"description,omitempty"`
	EventTypes  []string `json:"event_types"`
	Enabled     bool     `json:"enabled"`
	// DisabledReason says why Doorman turned the endpoint off, e.g. the
	// receiver answered 410 Gone.
	DisabledReason string `json:"disabled_reason,omitempty"`

	// Secret signs every call. PreviousSecret, until PreviousUntil, signs
	// beside it (rotation with overlap). Neither is ever shown after the
	// call that made it.
	Secret         string     `json:"-"`
	PreviousSecret string     `json:"-"`
	PreviousUntil  *time.Time `json:"previous_secret_until,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Subscribes reports whether the endpoint wants events of the type.
func (e *WebhookEndpoint) Subscribes(eventType string) bool {
	for _, t := range e.EventTypes {
		if t == eventType {
			return true
		}
	}
	return false
}

// Secrets returns the secrets that sign a call made at now: the current
// one and, during the overlap after a rotation, the previous one.
func (e *WebhookEndpoint) Secrets(now time.Time) []string {
	s := []string{e.Secret}
	if e.PreviousSecret != "" && e.PreviousUntil != nil && now.Before(*e.PreviousUntil) {
		s = append(s, e.PreviousSecret)
	}
	return s
}

// WebhookEndpointUpdate changes the fields that are not nil.
type WebhookEndpointUpdate struct {
	URL         *string
	Description *string
	EventTypes  *[]string
	Enabled     *bool
	// DisabledReason is set with Enabled; enabling clears it.
	DisabledReason *string
}

// WebhookFilter selects endpoints: those of a carrier, or of a building.
type WebhookFilter struct {
	CarrierID  string
	BuildingID string
}

// WebhookDelivery is the record of one attempt to deliver a message to an
// endpoint.
type WebhookDelivery struct {
	ID         string    `json:"id"`
	EndpointID string    `json:"endpoint_id"`
	MessageID  string    `json:"message_id"`
	EventType  string    `json:"event_type"`
	At         time.Time `json:"at"`
	// StatusCode is the receiver's HTTP status, 0 when none came.
	StatusCode int    `json:"status_code"`
	OK         bool   `json:"ok"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// WebhookStore keeps webhook endpoints and their delivery attempts.
type WebhookStore interface {
	// CreateWebhookEndpoint sets e.ID and timestamps. Returns EINVALID or
	// ENOTFOUND (no such carrier or building).
	CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	// WebhookEndpoint returns ENOTFOUND.
	WebhookEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error)
	// ListWebhookEndpoints lists a carrier's or a building's endpoints.
	ListWebhookEndpoints(ctx context.Context, f WebhookFilter) ([]*WebhookEndpoint, error)
	// UpdateWebhookEndpoint returns ENOTFOUND or EINVALID.
	UpdateWebhookEndpoint(ctx context.Context, id string, upd WebhookEndpointUpdate) (*WebhookEndpoint, error)
	// RotateWebhookSecret makes secret the endpoint's secret; the one it
	// replaces keeps signing until previousUntil. Returns ENOTFOUND.
	RotateWebhookSecret(ctx context.Context, id, secret string, previousUntil time.Time) (*WebhookEndpoint, error)
	// DeleteWebhookEndpoint deletes the endpoint and its delivery records.
	// Returns ENOTFOUND.
	DeleteWebhookEndpoint(ctx context.Context, id string) error
	// RecordWebhookDelivery sets d.ID. Returns ENOTFOUND (no endpoint).
	RecordWebhookDelivery(ctx context.Context, d *WebhookDelivery) error
	// WebhookDeliveries lists the newest delivery attempts of an endpoint.
	WebhookDeliveries(ctx context.Context, endpointID string, limit int) ([]*WebhookDelivery, error)
}
