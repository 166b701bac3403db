package http

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkGetBuilding measures an authenticated, scoped read: token
// lookup, manager scope check, building load, JSON answer.
func BenchmarkGetBuilding(b *testing.B) {
	f := newFixture(b)
	r := request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID, Token: f.tokens[pManagerA]}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := f.do(r); res.Status != 200 {
			b.Fatal(res.Status)
		}
	}
}

// BenchmarkManifest100 measures a 100-parcel manifest upload.
func BenchmarkManifest100(b *testing.B) {
	f := newFixture(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		items := make([]map[string]any, 100)
		for j := range items {
			items[j] = map[string]any{"tracking_number": fmt.Sprintf("B%d-%d", i, j), "building_id": f.buildingA.ID, "unit": "4B"}
		}
		res := f.do(request{Method: "POST", Path: "/v1/carriers/" + f.carrierX.ID + "/manifests", Token: f.tokens[pCarrierX], Body: map[string]any{"parcels": items}})
		if res.Status != 200 {
			b.Fatal(res.Status, string(res.Body))
		}
	}
}

// BenchmarkAccessRequest measures a granted courier access request through
// the API: token lookup, the reads, the decision, and the durable commit of
// grant and audit entry with the default rate limits checked (no door
// link). The clock moves 7 s per request, so the courier stays under its
// limit of 10 a minute and every answer is a grant, not a rate_limited
// denial (which commits nothing).
func BenchmarkAccessRequest(b *testing.B) {
	f := newFixture(b)
	r := request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
		Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"TRK-X-1"}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.clock.Advance(7 * time.Second)
		res := f.do(r)
		if res.Status != 200 {
			b.Fatal(res.Status)
		}
		var out struct {
			Decision struct {
				Allowed bool   `json:"allowed"`
				Reason  string `json:"reason"`
			} `json:"decision"`
		}
		res.JSON(b, &out)
		if !out.Decision.Allowed {
			b.Fatalf("request %d denied: %s", i, out.Decision.Reason)
		}
	}
}
