package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testWebhooks checks doorman.WebhookStore: endpoints of a carrier or a
// building, updates, rotation keeping the previous secret, delivery
// records, deletion with them.
func testWebhooks(t *testing.T, open Opener) {
	f := newFixture(t, open)
	secret := doorman.WebhookSecretPrefix + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	car := &doorman.WebhookEndpoint{CarrierID: f.carrier.ID, URL: "https://a.example/hook", EventTypes: []string{doorman.WebhookAccessGranted}, Enabled: true, Secret: secret}
	must(t, f.s.CreateWebhookEndpoint(f.ctx, car))
	bld := &doorman.WebhookEndpoint{BuildingID: f.building.ID, URL: "https://b.example/hook", Description: "front desk", EventTypes: doorman.WebhookEventTypes, Enabled: true, Secret: secret}
	must(t, f.s.CreateWebhookEndpoint(f.ctx, bld))

	t.Run("Invalid", func(t *testing.T) {
		both := &doorman.WebhookEndpoint{CarrierID: f.carrier.ID, BuildingID: f.building.ID, URL: "https://x.example", Secret: secret}
		wantCode(t, f.s.CreateWebhookEndpoint(f.ctx, both), doorman.EINVALID)
		none := &doorman.WebhookEndpoint{URL: "https://x.example", Secret: secret}
		wantCode(t, f.s.CreateWebhookEndpoint(f.ctx, none), doorman.EINVALID)
		noSecret := &doorman.WebhookEndpoint{CarrierID: f.carrier.ID, URL: "https://x.example"}
		wantCode(t, f.s.CreateWebhookEndpoint(f.ctx, noSecret), doorman.EINVALID)
		missing := &doorman.WebhookEndpoint{CarrierID: doorman.NewID(doorman.PrefixCarrier), URL: "https://x.example", Secret: secret}
		wantCode(t, f.s.CreateWebhookEndpoint(f.ctx, missing), doorman.ENOTFOUND)
	})

	t.Run("Lookup", func(t *testing.T) {
		got, err := f.s.WebhookEndpoint(f.ctx, bld.ID)
		must(t, err)
		equal(t, "WebhookEndpoint", got, bld)
		_, err = f.s.WebhookEndpoint(f.ctx, doorman.NewID(doorman.PrefixWebhook))
		wantCode(t, err, doorman.ENOTFOUND)
		list, err := f.s.ListWebhookEndpoints(f.ctx, doorman.WebhookFilter{CarrierID: f.carrier.ID})
		must(t, err)
		equal(t, "carrier's endpoints", list, []*doorman.WebhookEndpoint{car})
		list, err = f.s.ListWebhookEndpoints(f.ctx, doorman.WebhookFilter{BuildingID: f.building.ID})
		must(t, err)
		equal(t, "building's endpoints", list, []*doorman.WebhookEndpoint{bld})
	})

	t.Run("Update", func(t *testing.T) {
		off, reason, types := false, "gone", []string{doorman.WebhookDoorOpened}
		got, err := f.s.UpdateWebhookEndpoint(f.ctx, car.ID, doorman.WebhookEndpointUpdate{Enabled: &off, DisabledReason: &reason, EventTypes: &types})
		must(t, err)
		if got.Enabled || got.DisabledReason != "gone" || len(got.EventTypes) != 1 || got.EventTypes[0] != doorman.WebhookDoorOpened {
			t.Fatalf("updated = %+v", got)
		}
		on := true
		got, err = f.s.UpdateWebhookEndpoint(f.ctx, car.ID, doorman.WebhookEndpointUpdate{Enabled: &on})
		must(t, err)
		if !got.Enabled || got.DisabledReason != "" {
			t.Fatalf("enabled again = %+v", got)
		}
		empty := ""
		_, err = f.s.UpdateWebhookEndpoint(f.ctx, car.ID, doorman.WebhookEndpointUpdate{URL: &empty})
		wantCode(t, err, doorman.EINVALID)
		_, err = f.s.UpdateWebhookEndpoint(f.ctx, doorman.NewID(doorman.PrefixWebhook), doorman.WebhookEndpointUpdate{Enabled: &on})
		wantCode(t, err, doorman.ENOTFOUND)
	})

	t.Run("Rotate", func(t *testing.T) {
		next := doorman.WebhookSecretPrefix + "bmV4dHNlY3JldG5leHRzZWNyZXRuZXh0"
		until := time.Now().Add(doorman.WebhookRotationOverlap).UTC().Truncate(time.Microsecond)
		got, err := f.s.RotateWebhookSecret(f.ctx, bld.ID, next, until)
		must(t, err)
		if got.Secret != next || got.PreviousSecret != secret || got.PreviousUntil == nil || !got.PreviousUntil.Equal(until) {
			t.Fatalf("rotated = %+v", got)
		}
		read, err := f.s.WebhookEndpoint(f.ctx, bld.ID)
		must(t, err)
		equal(t, "rotated endpoint", read, got)
	})

	t.Run("Deliveries", func(t *testing.T) {
		for i, code := range []int{500, 200} {
			d := &doorman.WebhookDelivery{EndpointID: bld.ID, MessageID: "msg_x", EventType: doorman.WebhookDoorOpened,
				At: time.Now().Add(time.Duration(i) * time.Second), StatusCode: code, OK: code == 200, DurationMS: 12}
			if code == 500 {
				d.Error = "500 Internal Server Error"
			}
			must(t, f.s.RecordWebhookDelivery(f.ctx, d))
		}
		list, err := f.s.WebhookDeliveries(f.ctx, bld.ID, 10)
		must(t, err)
		if len(list) != 2 || list[0].StatusCode != 200 || !list[0].OK || list[1].OK || list[1].Error == "" {
			t.Fatalf("deliveries = %+v", list)
		}
		wantCode(t, f.s.RecordWebhookDelivery(f.ctx, &doorman.WebhookDelivery{EndpointID: doorman.NewID(doorman.PrefixWebhook)}), doorman.ENOTFOUND)
	})

	t.Run("Delete", func(t *testing.T) {
		must(t, f.s.DeleteWebhookEndpoint(f.ctx, bld.ID))
		wantCode(t, f.s.DeleteWebhookEndpoint(f.ctx, bld.ID), doorman.ENOTFOUND)
		list, err := f.s.WebhookDeliveries(f.ctx, bld.ID, 10)
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("deliveries after delete = %+v", list)
		}
	})

	t.Run("Audited", func(t *testing.T) {
		entries, _, err := f.s.ListAudit(f.ctx, doorman.AuditFilter{Chain: f.building.ID}, doorman.Page{Limit: 10})
		must(t, err)
		var got []string
		for _, e := range entries {
			if strings.HasPrefix(e.Action, "webhook.") {
				if !strings.HasPrefix(e.Detail, bld.ID+" https://b.example/hook") {
					t.Errorf("%s detail %q", e.Action, e.Detail)
				}
				got = append(got, e.Action)
			}
		}
		want := []string{doorman.ActionWebhookDeleted, doorman.ActionWebhookSecretRotated, doorman.ActionWebhookCreated}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("building chain's webhook entries = %v, want %v", got, want)
		}
		entries, _, err = f.s.ListAudit(f.ctx, doorman.AuditFilter{Chain: doorman.PlatformChain, CarrierID: f.carrier.ID}, doorman.Page{Limit: 10})
		must(t, err)
		n := 0
		for _, e := range entries {
			if strings.HasPrefix(e.Action, "webhook.") {
				n++
			}
		}
		if n != 3 { // created, updated (off), updated (on); the refused update wrote nothing
			t.Fatalf("platform chain has %d webhook entries of the carrier, want 3", n)
		}
	})
}
