package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestConsoleWebhooks: a manager adds an endpoint (the secret shown once),
// sees its recent deliveries, rotates its secret (shown once), turns it
// off and deletes it; a refused URL is shown on the form and creates
// nothing; another manager, and a carrier's endpoint named under the
// building, are not found.
func TestConsoleWebhooks(t *testing.T) {
	c := newConsole(t)
	page := "/console/buildings/" + c.b1.ID + "/webhooks"
	w := c.do("GET", page, c.m1, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "No webhook endpoint yet") {
		t.Fatalf("GET %s: %d %s", page, w.Code, w.Body)
	}

	form := url.Values{"url": {"https://10.0.0.1/hook"}, "description": {"Desk"}, "event.access.granted": {"1"}}
	w = c.do("POST", page, c.m1, form)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "private") || !strings.Contains(w.Body.String(), `value="https://10.0.0.1/hook"`) {
		t.Fatalf("refused URL: %d %s", w.Code, w.Body)
	}

	form.Set("url", "https://93.184.216.34/hook")
	w = c.do("POST", page, c.m1, form)
	body := html.UnescapeString(w.Body.String())
	if w.Code != http.StatusOK || !strings.Contains(body, doorman.WebhookSecretPrefix) {
		t.Fatalf("create: %d %s", w.Code, body)
	}
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	list, err := c.app.Webhooks.ListEndpoints(sys, doorman.WebhookFilter{BuildingID: c.b1.ID})
	must(t, err)
	if len(list) != 1 || !strings.Contains(body, list[0].Secret) || len(list[0].EventTypes) != 1 {
		t.Fatalf("endpoints %+v", list)
	}
	ep := list[0]
	must(t, c.store.RecordWebhookDelivery(sys, &doorman.WebhookDelivery{EndpointID: ep.ID, MessageID: "m1", EventType: doorman.WebhookAccessGranted, StatusCode: 503, Error: "the receiver answered 503"}))
	w = c.do("GET", page, c.m1, nil)
	if body := html.UnescapeString(w.Body.String()); strings.Contains(body, ep.Secret) || !strings.Contains(body, "the receiver answered 503") || !strings.Contains(body, ep.URL) {
		t.Fatalf("page after create: %s", body)
	}

	// Another manager, and a carrier's endpoint under this building: 404.
	car := &doorman.WebhookEndpoint{CarrierID: c.carrier.ID, URL: "https://93.184.216.34/c", EventTypes: []string{doorman.WebhookAccessGranted}}
	_, err = c.app.Webhooks.CreateEndpoint(sys, car)
	must(t, err)
	for _, p := range []struct{ path, token string }{
		{page, c.m2},
		{page + "/" + ep.ID + "/rotate", c.m2},
		{page + "/" + ep.ID + "/delete", c.m2},
		{page + "/" + car.ID + "/rotate", c.m1},
		{page + "/" + car.ID + "/delete", c.m1},
		{"/console/buildings/" + c.b2.ID + "/webhooks/" + ep.ID + "/delete", c.m2},
	} {
		method, form := "POST", url.Values{}
		if p.path == page {
			method, form = "GET", nil
		}
		if w := c.do(method, p.path, p.token, form); w.Code != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", method, p.path, w.Code)
		}
	}

	w = c.do("POST", page+"/"+ep.ID+"/rotate", c.m1, url.Values{})
	rotated, err := c.app.Webhooks.Endpoint(sys, ep.ID)
	must(t, err)
	if w.Code != http.StatusOK || rotated.Secret == ep.Secret || rotated.PreviousSecret != ep.Secret || !strings.Contains(html.UnescapeString(w.Body.String()), rotated.Secret) {
		t.Fatalf("rotate: %d %s", w.Code, w.Body)
	}
	if w := c.do("POST", page+"/"+ep.ID+"/enabled", c.m1, url.Values{"on": {"0"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("turn off: %d", w.Code)
	}
	if e, _ := c.app.Webhooks.Endpoint(sys, ep.ID); e.Enabled {
		t.Fatal("still on")
	}
	if w := c.do("POST", page+"/"+ep.ID+"/delete", c.m1, url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", w.Code)
	}
	if _, err := c.app.Webhooks.Endpoint(sys, ep.ID); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := c.app.Webhooks.Endpoint(sys, car.ID); err != nil {
		t.Fatalf("the carrier's endpoint: %v", err)
	}
}
