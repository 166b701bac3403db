package http

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

func TestIdempotencyReplay(t *testing.T) {
	f := newFixture(t)
	path := "/v1/carriers/" + f.carrierX.ID + "/manifests"
	body := mustJSON(t, map[string]any{"parcels": []map[string]any{{"tracking_number": "IDEM-1", "building_id": f.buildingA.ID, "unit": "4B"}}})
	post := func(key string, body []byte) *response {
		return f.do(request{Method: "POST", Path: path, Token: f.tokens[pCarrierX], Body: body, Header: map[string]string{"Idempotency-Key": key}})
	}
	before := f.countParcels(f.carrierX.ID)

	first := post("key-1", body)
	if first.Status != 200 {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	// Change the parcel in between: a replay must not re-apply the manifest.
	f.must(200, request{Method: "PATCH", Path: "/v1/carriers/" + f.carrierX.ID + "/parcels/IDEM-1", Token: f.tokens[pCarrierX],
		Body: map[string]any{"status": "out_for_delivery"}})
	second := post("key-1", body)
	if second.Status != first.Status || !bytes.Equal(second.Body, first.Body) {
		t.Fatalf("replay differs:\n%s\n%s", first.Body, second.Body)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" || second.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("replay headers %v", second.Header)
	}
	if n := f.countParcels(f.carrierX.ID); n != before+1 {
		t.Fatalf("parcels %d, want %d", n, before+1)
	}
	p, _ := f.store.ParcelByTracking(ctxBG, f.carrierX.ID, "IDEM-1")
	if p.Status != doorman.ParcelOutForDelivery {
		t.Fatalf("replay re-applied the manifest: status %s", p.Status)
	}

	// Same key, another body: refused, nothing written.
	other := mustJSON(t, map[string]any{"parcels": []map[string]any{{"tracking_number": "IDEM-2", "building_id": f.buildingA.ID, "unit": "4B"}}})
	r := post("key-1", other)
	if r.Status != 422 || r.Problem(t).Code != doorman.EPRECONDITION {
		t.Fatalf("other body: %d %s", r.Status, r.Body)
	}
	if _, err := f.store.ParcelByTracking(ctxBG, f.carrierX.ID, "IDEM-2"); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatal("a refused request wrote")
	}
	// Keys are scoped to the caller: carrier Y's key-1 is its own.
	yPath := "/v1/carriers/" + f.carrierY.ID + "/manifests"
	yBody := mustJSON(t, map[string]any{"parcels": []map[string]any{{"tracking_number": "IDEM-1", "building_id": f.buildingB.ID, "unit": "1A"}}})
	f.must(200, request{Method: "POST", Path: yPath, Token: f.tokens[pCarrierY], Body: yBody, Header: map[string]string{"Idempotency-Key": "key-1"}})

	// Error answers are replayed too, as problems.
	bad := mustJSON(t, map[string]any{"parcels": []map[string]any{{"tracking_number": "IDEM-3", "building_id": f.buildingA.ID, "unit": "nope"}}})
	e1, e2 := post("key-bad", bad), post("key-bad", bad)
	if e1.Status != 422 || e2.Status != 422 || !bytes.Equal(e1.Body, e2.Body) || e2.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("error replay: %d %s / %d %s %v", e1.Status, e1.Body, e2.Status, e2.Body, e2.Header)
	}

	// Malformed keys are refused.
	for _, key := range []string{"bad\x01key", string(bytes.Repeat([]byte("k"), 256))} {
		if r := post(key, body); r.Status != 422 {
			t.Fatalf("key %q: %d", key, r.Status)
		}
	}
}

func TestIdempotencyStillRunning(t *testing.T) {
	f := newFixture(t)
	path := "/v1/carriers/" + f.carrierX.ID + "/manifests"
	body := mustJSON(t, map[string]any{"parcels": []map[string]any{{"tracking_number": "RUN-1", "building_id": f.buildingA.ID, "unit": "4B"}}})
	cred, err := f.store.CredentialByTokenHash(ctxBG, doorman.HashToken(f.tokens[pCarrierX]), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	scope := "carrier:" + f.carrierX.ID + ":" + cred.ID + " POST " + path

	// Another node holds the claim for this exact request.
	if r, err := f.store.BeginIdempotent(ctxBG, scope, "busy", requestHash("POST", path, "", body)); err != nil || r != nil {
		t.Fatalf("claim: %v %v", r, err)
	}
	res := f.do(request{Method: "POST", Path: path, Token: f.tokens[pCarrierX], Body: body, Header: map[string]string{"Idempotency-Key": "busy"}})
	if res.Status != 409 || res.Problem(t).Code != doorman.ECONFLICT {
		t.Fatalf("while running: %d %s", res.Status, res.Body)
	}
	if _, err := f.store.ParcelByTracking(ctxBG, f.carrierX.ID, "RUN-1"); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatal("the duplicate ran")
	}
}

// TestIdempotencyConcurrent fires the same request many times at once:
// exactly one runs, the others get its answer or a 409, never a second
// parcel or a 5xx.
func TestIdempotencyConcurrent(t *testing.T) {
	f := newFixture(t)
	path := "/v1/carriers/" + f.carrierX.ID + "/couriers/cx-1/sessions"
	var wg sync.WaitGroup
	results := make([]*response, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = f.do(request{Method: "POST", Path: path, Token: f.tokens[pCarrierX], Body: map[string]any{"ttl_seconds": 120},
				Header: map[string]string{"Idempotency-Key": "same"}})
		}()
	}
	wg.Wait()
	var tokens = map[string]bool{}
	for _, r := range results {
		switch r.Status {
		case 201:
			var c NewCredential
			if err := json.Unmarshal(r.Body, &c); err != nil {
				t.Fatal(err)
			}
			tokens[c.Token] = true
		case 409:
		default:
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
	}
	if len(tokens) != 1 {
		t.Fatalf("%d different sessions minted", len(tokens))
	}
	sessions, _, err := f.store.ListCredentials(ctxBG, doorman.RoleCourier, f.courierX.ID, doorman.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 2 { // the fixture's and this one
		t.Fatalf("%d courier sessions, want 2", len(sessions))
	}
}

// TestIdempotentAccessRequest: a retried access request gets the same
// grant, not a second one.
func TestIdempotentAccessRequest(t *testing.T) {
	f := newFixture(t)
	req := request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
		Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"TRK-X-1"}}, Header: map[string]string{"Idempotency-Key": "scan-1"}}
	a := decode[doorman.AccessResult](t, f.must(200, req))
	b := decode[doorman.AccessResult](t, f.must(200, req))
	if !a.Decision.Allowed || a.Grant == nil || b.Grant == nil || a.Grant.ID != b.Grant.ID {
		t.Fatalf("grants %+v / %+v", a, b)
	}
}

// TestIdempotentAnswersSealed: an answer that holds a secret (here a new
// API key) is replayed to its caller, but the database holds it sealed:
// whoever reads the idempotency table learns no token.
func TestIdempotentAnswersSealed(t *testing.T) {
	f := newFixture(t)
	req := request{Method: "POST", Path: "/v1/carriers/" + f.carrierX.ID + "/api-keys", Token: f.tokens[pOperator],
		Body: map[string]any{"name": "sealed"}, Header: map[string]string{"Idempotency-Key": "seal-1"}}
	first := decode[NewCredential](t, f.must(201, req))
	again := decode[NewCredential](t, f.must(201, req))
	if again.Token != first.Token {
		t.Fatal("the retry was not replayed")
	}
	rows, err := f.store.DB().Query(`SELECT body FROM idempotency_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		n++
		if bytes.Contains(body, []byte(first.Token)) || bytes.Contains(body, []byte(`"token"`)) {
			t.Fatalf("a stored answer is readable: %q", body)
		}
	}
	if n == 0 {
		t.Fatal("no stored answer")
	}
}
