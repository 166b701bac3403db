package http

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/webhook"
)

// TestWebhookFromAccessRequest: a courier's access request through the API
// writes its audit entry; the webhook producer turns that entry into one
// message per subscribed endpoint (carrier X's with the courier, building
// A's without; carrier Y's none), which the outbox's dispatcher queues and
// its worker delivers through the webhook sender, signed, to a real HTTP
// receiver; a second pass sends nothing again.
func TestWebhookFromAccessRequest(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	got := map[string][]byte{} // path → body
	headers := map[string]http.Header{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path], headers[r.URL.Path] = b, r.Header.Clone()
		mu.Unlock()
	}))
	defer recv.Close()
	guard := &webhook.Guard{AllowLoopback: true}
	wh := app.NewWebhooks(f.store, guard, nil)
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	secrets := map[string]string{}
	for path, owner := range map[string]doorman.WebhookFilter{
		"/carrier-x": {CarrierID: f.carrierX.ID}, "/carrier-y": {CarrierID: f.carrierY.ID}, "/building-a": {BuildingID: f.buildingA.ID},
	} {
		e := &doorman.WebhookEndpoint{CarrierID: owner.CarrierID, BuildingID: owner.BuildingID, URL: recv.URL + path,
			EventTypes: []string{doorman.WebhookAccessGranted, doorman.WebhookAccessDenied}}
		s, err := wh.CreateEndpoint(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		secrets[path] = s
	}

	f.must(200, request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
		Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"TRK-X-1"}}})
	entries, _, err := f.store.ListAudit(ctx, doorman.AuditFilter{Chain: f.buildingA.ID}, doorman.Page{Limit: 1})
	if err != nil || len(entries) != 1 || entries[0].Action != doorman.ActionAccessGranted {
		t.Fatalf("latest entry: %+v, %v", entries, err)
	}
	outbox := app.NewOutbox(f.store, nil, nil)
	outbox.RegisterProducer(wh.Produce)
	outbox.RegisterSender(webhook.NewSender(f.store, guard, 0, nil, nil))
	if n, err := outbox.Dispatch(ctx); err != nil || n != 2 {
		t.Fatalf("dispatch queued %d messages, %v; want 2", n, err)
	}
	if n, err := outbox.Deliver(ctx); err != nil || n != 2 {
		t.Fatalf("delivered %d messages, %v; want 2", n, err)
	}
	if n, err := outbox.Dispatch(ctx); err != nil || n != 0 {
		t.Fatalf("a second dispatch queued %d messages, %v", n, err)
	}
	if n, err := outbox.Deliver(ctx); err != nil || n != 0 {
		t.Fatalf("a second delivery sent %d messages, %v", n, err)
	}
	if _, ok := got["/carrier-y"]; ok || len(got) != 2 {
		t.Fatalf("receiver got %d calls (carrier Y's: %v)", len(got), ok)
	}
	sent, _, err := f.store.ListMessages(ctx, doorman.MessageFilter{Channel: doorman.ChannelWebhook, Status: doorman.MessageSent}, doorman.Page{})
	if err != nil || len(sent) != 2 {
		t.Fatalf("sent webhook messages: %d, %v", len(sent), err)
	}
	ids := map[string]bool{sent[0].ID: true, sent[1].ID: true}
	for path, wantCourier := range map[string]string{"/carrier-x": f.courierX.ID, "/building-a": ""} {
		h := headers[path]
		if !ids[h.Get("webhook-id")] {
			t.Fatalf("%s: webhook-id %q is not the outbox message's ID (%v): receivers drop duplicates by it", path, h.Get("webhook-id"), ids)
		}
		ts, _ := json.Number(h.Get("webhook-timestamp")).Int64()
		sig, _ := webhook.Signature(secrets[path], h.Get("webhook-id"), ts, got[path])
		if h.Get("webhook-signature") != sig || time.Since(time.Unix(ts, 0)) > time.Minute {
			t.Fatalf("%s: signature %q, want %q", path, h.Get("webhook-signature"), sig)
		}
		var p app.WebhookPayload
		if err := json.Unmarshal(got[path], &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != doorman.WebhookAccessGranted || p.Data.CourierID != wantCourier || p.Data.DoorID != f.doorA.ID || p.Data.EventID != entries[0].ID {
			t.Fatalf("%s: payload %s", path, got[path])
		}
	}
}
