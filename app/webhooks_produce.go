package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/doorman-dev/doorman"
)

// webhookEvents maps the audit actions webhooks are made from to their
// event types.
var webhookEvents = map[string]string{
	doorman.ActionAccessGranted:   doorman.WebhookAccessGranted,
	doorman.ActionAccessDenied:    doorman.WebhookAccessDenied,
	doorman.ActionGrantUsed:       doorman.WebhookDoorOpened,
	doorman.ActionParcelDelivered: doorman.WebhookParcelDelivered,
	doorman.ActionPickupCollected: doorman.WebhookPickupCollected,
	doorman.ActionDoorOffline:     doorman.WebhookDeviceOffline,
	doorman.ActionDoorOnline:      doorman.WebhookDeviceOnline,
}

// WebhookPayload is the body of every webhook call (Standard Webhooks).
type WebhookPayload struct {
	Type      string      `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is what a webhook says of its event: IDs and codes only,
// never a resident's personal data. CourierID goes to the courier's own
// carrier only.
type WebhookData struct {
	EventID    string   `json:"event_id"`
	BuildingID string   `json:"building_id"`
	DoorID     string   `json:"door_id,omitempty"`
	CarrierID  string   `json:"carrier_id,omitempty"`
	CourierID  string   `json:"courier_id,omitempty"`
	GrantID    string   `json:"grant_id,omitempty"`
	ParcelIDs  []string `json:"parcel_ids,omitempty"`
	Reason     string   `json:"reason,omitempty"`
}

// Produce is the app.Producer of webhook messages: for an audit entry of
// a building whose action is a webhook event, one message to every
// enabled endpoint subscribed to it — the building's, and the carrier's
// the entry concerns (device events go to the building's only).
func (w *Webhooks) Produce(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
	eventType, ok := webhookEvents[e.Action]
	if !ok || e.BuildingID == "" || e.Chain == doorman.PlatformChain {
		return nil, nil
	}
	endpoints, err := w.store.ListWebhookEndpoints(ctx, doorman.WebhookFilter{BuildingID: e.BuildingID})
	if err != nil {
		return nil, err
	}
	device := eventType == doorman.WebhookDeviceOffline || eventType == doorman.WebhookDeviceOnline
	if e.CarrierID != "" && !device {
		own, err := w.store.ListWebhookEndpoints(ctx, doorman.WebhookFilter{CarrierID: e.CarrierID})
		if err != nil {
			return nil, err
		}
		endpoints = append(endpoints, own...)
	}
	var out []*doorman.Message
	for _, ep := range endpoints {
		if !ep.Enabled || !ep.Subscribes(eventType) {
			continue
		}
		data := WebhookData{EventID: e.ID, BuildingID: e.BuildingID, DoorID: e.DoorID, CarrierID: e.CarrierID,
			GrantID: e.GrantID, ParcelIDs: e.ParcelIDs, Reason: e.Reason}
		if ep.CarrierID != "" && ep.CarrierID == e.CarrierID {
			data.CourierID = e.CourierID
		}
		body, err := json.Marshal(WebhookPayload{Type: eventType, Timestamp: e.At.UTC(), Data: data})
		if err != nil {
			return nil, err
		}
		out = append(out, &doorman.Message{Channel: doorman.ChannelWebhook, BuildingID: e.BuildingID, Source: e.ID,
			Target: ep.ID, Kind: eventType, Payload: body, Status: doorman.MessageQueued})
	}
	return out, nil
}
