package http

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzAPIBodies sends arbitrary bodies to the API's writing routes, each
// as the principal allowed to call it: a carrier's manifest, a courier's
// access request, a manager's door, unit and building settings, an
// operator's carrier, a sign-in, an invite's acceptance and a device's
// enrollment. Whatever the body, the answer is never a server error, its
// status is one the OpenAPI document lists for the route (do checks it),
// and every error is a problem document with a code.
func FuzzAPIBodies(f *testing.F) {
	fx := newFixture(f)
	mA := fx.tokens[pManagerA]
	routes := []request{
		{Method: "POST", Path: "/v1/carriers/" + fx.carrierX.ID + "/manifests", Token: fx.tokens[pCarrierX]},
		{Method: "POST", Path: "/v1/courier/access-requests", Token: fx.tokens[pCourierX]},
		{Method: "POST", Path: "/v1/buildings/" + fx.buildingA.ID + "/doors", Token: mA},
		{Method: "POST", Path: "/v1/buildings/" + fx.buildingA.ID + "/units", Token: mA},
		{Method: "PATCH", Path: "/v1/buildings/" + fx.buildingA.ID, Token: mA},
		{Method: "POST", Path: "/v1/carriers", Token: fx.tokens[pOperator]},
		{Method: "POST", Path: "/v1/sessions"},
		{Method: "POST", Path: "/v1/invites/accept"},
		{Method: "POST", Path: "/v1/device/enroll"},
		{Method: "PATCH", Path: "/v1/carriers/" + fx.carrierX.ID + "/parcels/TRK-X-1", Token: fx.tokens[pCarrierX]},
	}
	for i, body := range []string{
		`{"parcels":[{"tracking_number":"TRK-F-1","building_id":"` + fx.buildingA.ID + `","unit":"4B","courier_ext_id":"cx-1"}]}`,
		`{"door_id":"` + fx.doorA.ID + `","tracking_numbers":["TRK-X-1"]}`,
		`{"name":"Side"}`,
		`{"label":"9Z","floor":"9"}`,
		`{"name":"A2","timezone":"Europe/Paris"}`,
		`{"name":"=cmd|' /C calc'!A0"}`,
		`{"email":"manager.a@example.com","password":"x"}`,
		`{"token":"x","name":"<script>alert(1)</script>","password":"correct horse battery staple"}`,
		`{"code":"AAAA-BBBB","nkey":"UAAAA"}`,
		`{"status":"delivered"}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	f.Add(uint8(1), []byte(`{"door_id":"`+fx.doorA.ID+`","tracking_numbers":["`+strings.Repeat("T", 5000)+`"]}`))
	f.Add(uint8(0), []byte(`{"parcels":[`+strings.Repeat(`{},`, 100)+`{}]}`))
	f.Add(uint8(4), []byte(`{"name":"\u0000\ud800","timezone":"../../etc/passwd"}`))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		r.Body = body
		res := fx.with(t).do(r)
		if res.Status >= 500 {
			t.Fatalf("%s %s %q: status %d %s", r.Method, r.Path, body, res.Status, res.Body)
		}
		if res.Status >= 400 {
			var p struct {
				Code string `json:"code"`
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") ||
				json.Unmarshal(res.Body, &p) != nil || p.Code == "" {
				t.Fatalf("%s %s: %d answered %s %q, want a problem with a code", r.Method, r.Path, res.Status, ct, res.Body)
			}
		}
		if res.Status == http.StatusTooManyRequests {
			t.Skip("throttled") // sign-in throttles repeated attempts: a correct answer
		}
	})
}
