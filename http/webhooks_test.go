package http

import (
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestWebhookSecretShownOnce: the secret is in the answers that make it
// (creation, rotation) and in no other; a refused URL is a 422 that
// creates nothing; another carrier's endpoint is a 404.
func TestWebhookSecretShownOnce(t *testing.T) {
	f := newFixture(t)
	x := f.tokens[pCarrierX]
	var made NewWebhookEndpoint
	f.must(201, request{Method: "POST", Path: "/v1/carriers/" + f.carrierX.ID + "/webhooks", Token: x,
		Body: map[string]any{"url": "https://93.184.216.34/hook", "event_types": []string{"access.granted", "parcel.delivered"}}}).JSON(t, &made)
	if !strings.HasPrefix(made.Secret, doorman.WebhookSecretPrefix) || made.Endpoint == nil || !made.Endpoint.Enabled {
		t.Fatalf("created %+v", made)
	}
	path := "/v1/webhooks/" + made.Endpoint.ID
	for _, p := range []string{path, "/v1/carriers/" + f.carrierX.ID + "/webhooks"} {
		if body := f.must(200, request{Method: "GET", Path: p, Token: x}).Body; strings.Contains(string(body), made.Secret) || strings.Contains(string(body), "whsec_") {
			t.Fatalf("GET %s shows a secret: %s", p, body)
		}
	}
	var rotated NewWebhookEndpoint
	f.must(201, request{Method: "POST", Path: path + "/secret-rotations", Token: x}).JSON(t, &rotated)
	if rotated.Secret == "" || rotated.Secret == made.Secret || rotated.Endpoint.PreviousUntil == nil {
		t.Fatalf("rotated %+v", rotated)
	}
	if body := f.must(200, request{Method: "GET", Path: path, Token: x}).Body; strings.Contains(string(body), "whsec_") {
		t.Fatalf("GET after rotation shows a secret: %s", body)
	}

	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "GET", Path: path, Token: f.tokens[pCarrierY]})
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "DELETE", Path: path, Token: f.tokens[pManagerA]})

	for _, u := range []string{"http://93.184.216.34/", "https://127.0.0.1/", "https://10.0.0.1/", "https://169.254.169.254/latest/meta-data/", "https://[::1]/"} {
		p := f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: "/v1/carriers/" + f.carrierX.ID + "/webhooks", Token: x,
			Body: map[string]any{"url": u, "event_types": []string{"access.granted"}}})
		if p.Detail == "" {
			t.Errorf("refusing %s: no detail", u)
		}
	}
	var list Page[*doorman.WebhookEndpoint]
	f.must(200, request{Method: "GET", Path: "/v1/carriers/" + f.carrierX.ID + "/webhooks", Token: x}).JSON(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("%d endpoints after refused URLs", len(list.Items))
	}
}
