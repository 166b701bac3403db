package http

import (
	"fmt"
	"testing"
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

// BenchmarkAccessRequest measures the courier's access request through the
// API (decision, grant and audit commit; no door link). Past the courier
// rate limit the answers are denials, which take the same path.
func BenchmarkAccessRequest(b *testing.B) {
	f := newFixture(b)
	r := request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
		Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"TRK-X-1"}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := f.do(r); res.Status != 200 {
			b.Fatal(res.Status)
		}
	}
}
