package app

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/webhook"
)

// WebhookStore is what the Webhooks service uses of the store.
type WebhookStore interface {
	scopeStore
	doorman.WebhookStore
}

// URLChecker admits the URLs webhook calls may go to (*webhook.Guard).
type URLChecker interface {
	CheckURL(ctx context.Context, raw string) (*url.URL, error)
}

// Webhooks manages webhook endpoints — a carrier's (its couriers' access,
// the doors opened for its grants, its parcels delivered, its pickups
// collected) or a building's (all of the building's events, devices going
// offline and back included) — and produces their messages from the
// audit log.
//
// Carriers manage their own endpoints, managers their buildings',
// operators all; an endpoint outside the caller's scope is answered like
// a missing one.
type Webhooks struct {
	scope
	store WebhookStore
	urls  URLChecker
	now   func() time.Time
}

// NewWebhooks returns the Webhooks service; urls checks every URL an
// endpoint is given.
func NewWebhooks(store WebhookStore, urls URLChecker, now func() time.Time) *Webhooks {
	if now == nil {
		now = time.Now
	}
	return &Webhooks{scope: scope{store}, store: store, urls: urls, now: now}
}

// webhookManagers may manage endpoints (each in its own scope).
var webhookManagers = []string{doorman.RoleSystem, doorman.RoleOperator, doorman.RoleManager, doorman.RoleCarrier}

// owner checks that the caller may manage the endpoints of the carrier or
// building (exactly one of them): a building's endpoints are for operators
// and managers, a carrier's for operators and carriers (EFORBIDDEN for
// other roles), each in its own scope (ENOTFOUND outside it).
func (w *Webhooks) owner(ctx context.Context, f doorman.WebhookFilter) error {
	switch {
	case f.BuildingID != "" && f.CarrierID == "":
		if _, err := require(ctx, managers); err != nil {
			return err
		}
		_, err := w.building(ctx, f.BuildingID, manageBuilding)
		return err
	case f.CarrierID != "" && f.BuildingID == "":
		if _, err := require(ctx, carrierOwners); err != nil {
			return err
		}
		_, err := w.ownCarrier(ctx, f.CarrierID)
		return err
	}
	return doorman.Errorf(doorman.EINVALID, "An endpoint belongs to a carrier or to a building.")
}

// endpoint returns the endpoint if the caller may manage it.
func (w *Webhooks) endpoint(ctx context.Context, id string) (*doorman.WebhookEndpoint, error) {
	if _, err := require(ctx, webhookManagers); err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(id, doorman.PrefixWebhook) {
		return nil, notFound("Webhook endpoint")
	}
	e, err := w.store.WebhookEndpoint(ctx, id)
	if err != nil {
		return nil, scoped(err, "Webhook endpoint")
	}
	// Another owner's endpoint is answered like a missing one, whatever
	// the caller's role.
	if err := w.owner(ctx, doorman.WebhookFilter{CarrierID: e.CarrierID, BuildingID: e.BuildingID}); err != nil {
		if code := doorman.ErrorCode(err); code == doorman.ENOTFOUND || code == doorman.EFORBIDDEN {
			return nil, notFound("Webhook endpoint")
		}
		return nil, err
	}
	return e, nil
}

// validEventTypes returns the types, each once, in the canonical order.
func validEventTypes(types []string, carrier bool) ([]string, error) {
	if len(types) == 0 {
		return nil, doorman.Errorf(doorman.EINVALID, "Subscribe the endpoint to at least one event type.")
	}
	for _, t := range types {
		if !slices.Contains(doorman.WebhookEventTypes, t) {
			return nil, doorman.Errorf(doorman.EINVALID, "Unknown event type %q.", t)
		}
		if carrier && (t == doorman.WebhookDeviceOffline || t == doorman.WebhookDeviceOnline) {
			return nil, doorman.Errorf(doorman.EINVALID, "Device events go to buildings' endpoints only.")
		}
	}
	var out []string
	for _, t := range doorman.WebhookEventTypes {
		if slices.Contains(types, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (w *Webhooks) checkURL(ctx context.Context, raw string) error {
	if raw == "" || len(raw) > 2000 {
		return doorman.Errorf(doorman.EINVALID, "An endpoint needs a URL of at most 2000 characters.")
	}
	_, err := w.urls.CheckURL(ctx, raw)
	return err
}

// CreateEndpoint creates e for its carrier or building (a carrier's own
// when a carrier gives neither) and returns its signing secret, which is
// not shown again. Returns EINVALID (a refused URL among others) or
// ENOTFOUND.
func (w *Webhooks) CreateEndpoint(ctx context.Context, e *doorman.WebhookEndpoint) (secret string, err error) {
	p, err := require(ctx, webhookManagers)
	if err != nil {
		return "", err
	}
	if p.Role == doorman.RoleCarrier && e.CarrierID == "" && e.BuildingID == "" {
		e.CarrierID = p.CarrierID
	}
	if err := w.owner(ctx, doorman.WebhookFilter{CarrierID: e.CarrierID, BuildingID: e.BuildingID}); err != nil {
		return "", err
	}
	if err := validDescription(e.Description); err != nil {
		return "", err
	}
	if e.EventTypes, err = validEventTypes(e.EventTypes, e.CarrierID != ""); err != nil {
		return "", err
	}
	if err := w.checkURL(ctx, e.URL); err != nil {
		return "", err
	}
	e.Secret, e.Enabled = webhook.NewSecret(), true
	if err := w.store.CreateWebhookEndpoint(ctx, e); err != nil {
		return "", err
	}
	return e.Secret, nil
}

// validDescription checks an endpoint's description: plain text (no line
// breaks or other control characters), at most 500 bytes.
func validDescription(d string) error {
	if len(d) > 500 {
		return doorman.Errorf(doorman.EINVALID, "An endpoint's description is at most 500 characters.")
	}
	if !doorman.PlainText(d) {
		return doorman.Errorf(doorman.EINVALID, "An endpoint's description must be plain text, without line breaks or control characters.")
	}
	return nil
}

// Endpoint returns ENOTFOUND.
func (w *Webhooks) Endpoint(ctx context.Context, id string) (*doorman.WebhookEndpoint, error) {
	return w.endpoint(ctx, id)
}

// ListEndpoints lists the endpoints of a carrier or of a building (f names
// one). Returns ENOTFOUND or EINVALID.
func (w *Webhooks) ListEndpoints(ctx context.Context, f doorman.WebhookFilter) ([]*doorman.WebhookEndpoint, error) {
	if _, err := require(ctx, webhookManagers); err != nil {
		return nil, err
	}
	if err := w.owner(ctx, f); err != nil {
		return nil, err
	}
	return w.store.ListWebhookEndpoints(ctx, f)
}

// UpdateEndpoint changes the URL, description, event types or enabled;
// enabling clears the reason Doorman disabled it for. Returns ENOTFOUND or
// EINVALID.
func (w *Webhooks) UpdateEndpoint(ctx context.Context, id string, upd doorman.WebhookEndpointUpdate) (*doorman.WebhookEndpoint, error) {
	e, err := w.endpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	upd.DisabledReason = nil // Doorman's own word, not the caller's
	if upd.Description != nil {
		if err := validDescription(*upd.Description); err != nil {
			return nil, err
		}
	}
	if upd.EventTypes != nil {
		types, err := validEventTypes(*upd.EventTypes, e.CarrierID != "")
		if err != nil {
			return nil, err
		}
		upd.EventTypes = &types
	}
	if upd.URL != nil {
		if err := w.checkURL(ctx, *upd.URL); err != nil {
			return nil, err
		}
	}
	e, err = w.store.UpdateWebhookEndpoint(ctx, id, upd)
	return e, scoped(err, "Webhook endpoint")
}

// RotateSecret gives the endpoint a new secret and returns it (shown
// once); the old one keeps signing beside it for
// doorman.WebhookRotationOverlap. Returns ENOTFOUND.
func (w *Webhooks) RotateSecret(ctx context.Context, id string) (*doorman.WebhookEndpoint, string, error) {
	if _, err := w.endpoint(ctx, id); err != nil {
		return nil, "", err
	}
	secret := webhook.NewSecret()
	e, err := w.store.RotateWebhookSecret(ctx, id, secret, w.now().Add(doorman.WebhookRotationOverlap))
	if err != nil {
		return nil, "", scoped(err, "Webhook endpoint")
	}
	return e, secret, nil
}

// DeleteEndpoint deletes the endpoint; its queued messages go dead when
// their turn comes. Returns ENOTFOUND.
func (w *Webhooks) DeleteEndpoint(ctx context.Context, id string) error {
	if _, err := w.endpoint(ctx, id); err != nil {
		return err
	}
	return scoped(w.store.DeleteWebhookEndpoint(ctx, id), "Webhook endpoint")
}

// Deliveries lists the endpoint's newest delivery attempts. Returns
// ENOTFOUND.
func (w *Webhooks) Deliveries(ctx context.Context, id string, limit int) ([]*doorman.WebhookDelivery, error) {
	if _, err := w.endpoint(ctx, id); err != nil {
		return nil, err
	}
	return w.store.WebhookDeliveries(ctx, id, limit)
}
