package app_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/webhook"
)

// publicDNS resolves every name to a public address (no network in tests).
func publicDNS(context.Context, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
}

func newWebhooks(w *world) *app.Webhooks {
	return app.NewWebhooks(w.store, &webhook.Guard{Lookup: publicDNS}, nil)
}

// TestWebhookEndpointsAuthorise: carriers manage their own endpoints,
// managers their buildings', operators all; anything else is answered
// like a missing endpoint, or refused by role.
func TestWebhookEndpointsAuthorise(t *testing.T) {
	w := newWorld(t)
	wh := newWebhooks(w)
	op := as(doorman.RoleOperator, "", "")
	allowed := as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)
	stranger := as(doorman.RoleCarrier, w.stranger.ID, w.stranger.ID)
	newManager(t, w, "m@example.com", "correct horse battery", cheap)
	mgr, err := w.store.ManagerByEmail(context.Background(), "m@example.com")
	must(t, err)
	manager := as(doorman.RoleManager, mgr.ID, "")
	otherManager := as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager), "")
	courier := as(doorman.RoleCourier, doorman.NewID(doorman.PrefixCourier), w.allowed.ID)

	// A carrier's endpoint, made by the carrier (its own by default).
	own := &doorman.WebhookEndpoint{URL: "https://carrier.example/hook", EventTypes: []string{doorman.WebhookAccessGranted, doorman.WebhookAccessDenied}}
	secret, err := wh.CreateEndpoint(allowed, own)
	must(t, err)
	if own.CarrierID != w.allowed.ID || !strings.HasPrefix(secret, doorman.WebhookSecretPrefix) || !own.Enabled {
		t.Fatalf("created %+v, secret %q", own, secret)
	}
	if b, _ := json.Marshal(own); strings.Contains(string(b), secret) {
		t.Fatalf("the secret is in the endpoint's JSON: %s", b)
	}
	// A building's endpoint, made by its manager.
	bld := &doorman.WebhookEndpoint{BuildingID: w.building.ID, URL: "https://building.example/hook", EventTypes: doorman.WebhookEventTypes}
	_, err = wh.CreateEndpoint(manager, bld)
	must(t, err)

	// Nobody else sees or manages them.
	for name, c := range map[string]struct {
		ctx  context.Context
		id   string
		code string
	}{
		"another carrier, carrier's":  {stranger, own.ID, doorman.ENOTFOUND},
		"a manager, carrier's":        {manager, own.ID, doorman.ENOTFOUND},
		"a carrier, building's":       {allowed, bld.ID, doorman.ENOTFOUND},
		"another manager, building's": {otherManager, bld.ID, doorman.ENOTFOUND},
		"a courier, carrier's":        {courier, own.ID, doorman.EFORBIDDEN},
		"anonymous, building's":       {context.Background(), bld.ID, doorman.EUNAUTHORIZED},
		"another carrier, unknown":    {stranger, doorman.NewID(doorman.PrefixWebhook), doorman.ENOTFOUND},
		"another carrier, not an ID":  {stranger, "../x", doorman.ENOTFOUND},
	} {
		_, err := wh.Endpoint(c.ctx, c.id)
		wantCode(t, "Endpoint, "+name, err, c.code)
		off := false
		_, err = wh.UpdateEndpoint(c.ctx, c.id, doorman.WebhookEndpointUpdate{Enabled: &off})
		wantCode(t, "UpdateEndpoint, "+name, err, c.code)
		_, _, err = wh.RotateSecret(c.ctx, c.id)
		wantCode(t, "RotateSecret, "+name, err, c.code)
		_, err = wh.Deliveries(c.ctx, c.id, 10)
		wantCode(t, "Deliveries, "+name, err, c.code)
		wantCode(t, "DeleteEndpoint, "+name, wh.DeleteEndpoint(c.ctx, c.id), c.code)
	}
	_, err = wh.ListEndpoints(stranger, doorman.WebhookFilter{CarrierID: w.allowed.ID})
	wantCode(t, "ListEndpoints, another carrier's", err, doorman.ENOTFOUND)
	_, err = wh.ListEndpoints(allowed, doorman.WebhookFilter{BuildingID: w.building.ID})
	wantCode(t, "ListEndpoints, a carrier, a building's", err, doorman.EFORBIDDEN)
	_, err = wh.ListEndpoints(manager, doorman.WebhookFilter{CarrierID: w.allowed.ID})
	wantCode(t, "ListEndpoints, a manager, a carrier's", err, doorman.EFORBIDDEN)
	_, err = wh.ListEndpoints(otherManager, doorman.WebhookFilter{BuildingID: w.building.ID})
	wantCode(t, "ListEndpoints, another manager", err, doorman.ENOTFOUND)
	_, err = wh.CreateEndpoint(stranger, &doorman.WebhookEndpoint{CarrierID: w.allowed.ID, URL: "https://x.example", EventTypes: []string{doorman.WebhookAccessGranted}})
	wantCode(t, "CreateEndpoint, for another carrier", err, doorman.ENOTFOUND)
	_, err = wh.CreateEndpoint(allowed, &doorman.WebhookEndpoint{BuildingID: w.building.ID, URL: "https://x.example", EventTypes: []string{doorman.WebhookAccessGranted}})
	wantCode(t, "CreateEndpoint, a carrier for a building", err, doorman.EFORBIDDEN)
	// Nothing changed.
	for _, id := range []string{own.ID, bld.ID} {
		e, err := wh.Endpoint(op, id)
		must(t, err)
		if !e.Enabled {
			t.Fatalf("endpoint %s was changed: %+v", id, e)
		}
	}

	// Each owner sees its own; the operator sees both.
	list, err := wh.ListEndpoints(allowed, doorman.WebhookFilter{CarrierID: w.allowed.ID})
	must(t, err)
	if len(list) != 1 || list[0].ID != own.ID {
		t.Fatalf("carrier's list: %+v", list)
	}
	list, err = wh.ListEndpoints(manager, doorman.WebhookFilter{BuildingID: w.building.ID})
	must(t, err)
	if len(list) != 1 || list[0].ID != bld.ID {
		t.Fatalf("building's list: %+v", list)
	}

	// Rotation keeps the old secret for the overlap.
	rotated, next, err := wh.RotateSecret(manager, bld.ID)
	must(t, err)
	if next == "" || rotated.Secret != next || rotated.PreviousSecret == "" || rotated.PreviousUntil == nil ||
		time.Until(*rotated.PreviousUntil) < doorman.WebhookRotationOverlap-time.Minute {
		t.Fatalf("rotated: %+v", rotated)
	}
	if got := rotated.Secrets(time.Now()); len(got) != 2 {
		t.Fatalf("secrets during the overlap: %d", len(got))
	}
	if got := rotated.Secrets(time.Now().Add(doorman.WebhookRotationOverlap + time.Minute)); len(got) != 1 || got[0] != next {
		t.Fatalf("secrets after the overlap: %v", got)
	}
	must(t, wh.DeleteEndpoint(allowed, own.ID))
	_, err = wh.Endpoint(op, own.ID)
	wantCode(t, "Endpoint after delete", err, doorman.ENOTFOUND)
}

func TestWebhookEndpointBadInput(t *testing.T) {
	w := newWorld(t)
	op := as(doorman.RoleOperator, "", "")
	wh := app.NewWebhooks(w.store, &webhook.Guard{Lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
		if host == "internal.example" {
			return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
		}
		return publicDNS(nil, host)
	}}, nil)
	types := []string{doorman.WebhookAccessGranted}
	for name, e := range map[string]*doorman.WebhookEndpoint{
		"http":                {BuildingID: w.building.ID, URL: "http://x.example/", EventTypes: types},
		"loopback":            {BuildingID: w.building.ID, URL: "https://127.0.0.1/", EventTypes: types},
		"private name":        {BuildingID: w.building.ID, URL: "https://internal.example/", EventTypes: types},
		"metadata":            {BuildingID: w.building.ID, URL: "https://169.254.169.254/", EventTypes: types},
		"no URL":              {BuildingID: w.building.ID, EventTypes: types},
		"no types":            {BuildingID: w.building.ID, URL: "https://x.example/"},
		"unknown type":        {BuildingID: w.building.ID, URL: "https://x.example/", EventTypes: []string{"door.exploded"}},
		"device to a carrier": {CarrierID: w.allowed.ID, URL: "https://x.example/", EventTypes: []string{doorman.WebhookDeviceOffline}},
		"both owners":         {CarrierID: w.allowed.ID, BuildingID: w.building.ID, URL: "https://x.example/", EventTypes: types},
		"long description":    {BuildingID: w.building.ID, URL: "https://x.example/", EventTypes: types, Description: strings.Repeat("x", 501)},
	} {
		_, err := wh.CreateEndpoint(op, e)
		wantCode(t, name, err, doorman.EINVALID)
	}
	list, err := wh.ListEndpoints(op, doorman.WebhookFilter{BuildingID: w.building.ID})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("bad input created %d endpoints", len(list))
	}
	e := &doorman.WebhookEndpoint{BuildingID: w.building.ID, URL: "https://x.example/", EventTypes: types}
	_, err = wh.CreateEndpoint(op, e)
	must(t, err)
	bad := "https://internal.example/"
	_, err = wh.UpdateEndpoint(op, e.ID, doorman.WebhookEndpointUpdate{URL: &bad})
	wantCode(t, "update to a private URL", err, doorman.EINVALID)
	got, err := wh.Endpoint(op, e.ID)
	must(t, err)
	if got.URL != e.URL {
		t.Fatalf("URL changed to %q", got.URL)
	}
}

// TestWebhookProduce: an access entry becomes one message per subscribed,
// enabled endpoint — the building's and the entry's carrier's — with the
// courier named to its own carrier only; device events go to buildings
// only; other actions make none.
func TestWebhookProduce(t *testing.T) {
	w := newWorld(t)
	wh := newWebhooks(w)
	op := as(doorman.RoleOperator, "", "")
	mk := func(e *doorman.WebhookEndpoint) *doorman.WebhookEndpoint {
		t.Helper()
		_, err := wh.CreateEndpoint(op, e)
		must(t, err)
		return e
	}
	bld := mk(&doorman.WebhookEndpoint{BuildingID: w.building.ID, URL: "https://b.example/", EventTypes: doorman.WebhookEventTypes})
	own := mk(&doorman.WebhookEndpoint{CarrierID: w.allowed.ID, URL: "https://a.example/", EventTypes: []string{doorman.WebhookAccessGranted}})
	mk(&doorman.WebhookEndpoint{CarrierID: w.stranger.ID, URL: "https://s.example/", EventTypes: []string{doorman.WebhookAccessGranted}})
	deniedOnly := mk(&doorman.WebhookEndpoint{CarrierID: w.allowed.ID, URL: "https://d.example/", EventTypes: []string{doorman.WebhookAccessDenied}})
	off := mk(&doorman.WebhookEndpoint{BuildingID: w.building.ID, URL: "https://off.example/", EventTypes: doorman.WebhookEventTypes})
	f := false
	_, err := wh.UpdateEndpoint(op, off.ID, doorman.WebhookEndpointUpdate{Enabled: &f})
	must(t, err)
	_ = deniedOnly

	courier := doorman.NewID(doorman.PrefixCourier)
	entry := &doorman.AuditEntry{ID: doorman.NewID(doorman.PrefixAudit), Chain: w.building.ID, At: time.Now(), Action: doorman.ActionAccessGranted,
		BuildingID: w.building.ID, DoorID: w.door.ID, CarrierID: w.allowed.ID, CourierID: courier, GrantID: doorman.NewID(doorman.PrefixGrant),
		ParcelIDs: []string{doorman.NewID(doorman.PrefixParcel)}, Detail: "Ada Lovelace, 1A"}
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	msgs, err := wh.Produce(sys, entry)
	must(t, err)
	if len(msgs) != 2 {
		t.Fatalf("produced %d messages, want 2 (building's and own carrier's)", len(msgs))
	}
	byTarget := map[string]app.WebhookPayload{}
	for _, m := range msgs {
		if m.Channel != doorman.ChannelWebhook || m.Source != entry.ID || m.Kind != doorman.WebhookAccessGranted || m.BuildingID != w.building.ID {
			t.Fatalf("message %+v", m)
		}
		if strings.Contains(string(m.Payload), "Ada") {
			t.Fatalf("personal data in the payload: %s", m.Payload)
		}
		var p app.WebhookPayload
		must(t, json.Unmarshal(m.Payload, &p))
		byTarget[m.Target] = p
	}
	if p := byTarget[own.ID]; p.Type != doorman.WebhookAccessGranted || p.Data.CourierID != courier || p.Data.GrantID != entry.GrantID || !p.Timestamp.Equal(entry.At.UTC()) {
		t.Fatalf("carrier's payload %+v", p)
	}
	if p := byTarget[bld.ID]; p.Data.CourierID != "" || p.Data.CarrierID != w.allowed.ID || p.Data.DoorID != w.door.ID {
		t.Fatalf("building's payload %+v (no courier for the building)", p)
	}

	entry.Action = doorman.ActionDoorOffline
	msgs, err = wh.Produce(sys, entry)
	must(t, err)
	if len(msgs) != 1 || msgs[0].Target != bld.ID || msgs[0].Kind != doorman.WebhookDeviceOffline {
		t.Fatalf("device.offline produced %+v", msgs)
	}
	for _, action := range []string{doorman.ActionDoorCreated, doorman.ActionResidentAdded, doorman.ActionCarrierAllowed} {
		entry.Action = action
		msgs, err = wh.Produce(sys, entry)
		must(t, err)
		if len(msgs) != 0 {
			t.Fatalf("%s produced %d messages", action, len(msgs))
		}
	}
}
