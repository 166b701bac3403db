package http

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

func TestAccessRequest(t *testing.T) {
	f := newFixture(t)
	ask := func(door string, tracking ...string) doorman.AccessResult {
		t.Helper()
		return decode[doorman.AccessResult](t, f.must(200, request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
			Body: map[string]any{"door_id": door, "tracking_numbers": tracking}}))
	}
	ok := ask(f.doorA.ID, "TRK-X-1", "TRK-X-1")
	if !ok.Decision.Allowed || ok.Grant == nil || ok.Grant.DoorID != f.doorA.ID || ok.Grant.CourierID != f.courierX.ID {
		t.Fatalf("allowed: %+v", ok)
	}
	// Denials are answers with a stable reason, not errors.
	for _, tc := range []struct {
		door, tracking, reason string
	}{
		{f.doorA.ID, "NOT-MANIFESTED", doorman.ReasonUnknownParcel},
	} {
		res := ask(tc.door, tc.tracking)
		if res.Decision.Allowed || res.Grant != nil || res.Decision.Reason == "" {
			t.Fatalf("%+v: %+v", tc, res)
		}
		if tc.reason == doorman.ReasonUnknownParcel && res.Decision.Reason != tc.reason {
			t.Fatalf("%+v: reason %q", tc, res.Decision.Reason)
		}
	}
	// Lockdown denies at once.
	f.must(200, request{Method: "PUT", Path: "/v1/buildings/" + f.buildingA.ID + "/doors/" + f.doorA.ID + "/lockdown", Token: f.tokens[pManagerA]})
	if res := ask(f.doorA.ID, "TRK-X-1"); res.Decision.Allowed || res.Decision.Reason != doorman.ReasonDoorLockedDown {
		t.Fatalf("locked down: %+v", res)
	}

	// Malformed requests are errors.
	for _, body := range []any{
		map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{}},
		map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"has space"}},
		map[string]any{"door_id": f.doorA.ID},
		map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"T"}, "position": map[string]any{"latitude": 95, "longitude": 0}},
		map[string]any{"door_id": f.doorA.ID, "tracking_numbers": make([]string, doorman.MaxScannedParcels+1)},
	} {
		f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX], Body: body})
	}
}

func TestCourierParcels(t *testing.T) {
	f := newFixture(t)
	// A resident lives in the parcel's unit; the courier must not see them.
	f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingA.ID + "/residents", Token: f.tokens[pManagerA],
		Body: map[string]any{"unit_id": f.unitA.ID, "name": "Erika Mustermann", "email": "erika@example.com"}})
	// Another courier's parcel is not listed.
	other := f.putCourier(f.tokens[pCarrierX], f.carrierX.ID, "cx-2")
	f.parcel(f.carrierX.ID, f.buildingA.ID, "4B", other.ExternalID, "TRK-X-OTHER")

	res := f.must(200, request{Method: "GET", Path: "/v1/courier/parcels", Token: f.tokens[pCourierX]})
	for _, secret := range []string{"Erika", "erika@", "res_", "TRK-X-OTHER", "unit_id"} {
		if bytes.Contains(res.Body, []byte(secret)) {
			t.Fatalf("courier view shows %q: %s", secret, res.Body)
		}
	}
	page := decode[Page[app.CourierParcel]](t, res)
	if len(page.Items) != 1 || page.Items[0].UnitLabel != "4B" || page.Items[0].Building.ID != f.buildingA.ID {
		t.Fatalf("courier parcels %+v", page.Items)
	}

	// Deliver: only one's own parcel, only when out for delivery.
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "POST", Path: "/v1/courier/parcels/TRK-X-OTHER/delivery", Token: f.tokens[pCourierX]})
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "POST", Path: "/v1/courier/parcels/NOPE/delivery", Token: f.tokens[pCourierX]})
	d := decode[app.CourierParcel](t, f.must(200, request{Method: "POST", Path: "/v1/courier/parcels/TRK-X-1/delivery", Token: f.tokens[pCourierX]}))
	if d.Status != doorman.ParcelDelivered || d.DeliveredAt == nil {
		t.Fatalf("delivered %+v", d)
	}
	f.must(200, request{Method: "PATCH", Path: "/v1/carriers/" + f.carrierX.ID + "/parcels/TRK-X-OTHER", Token: f.tokens[pCarrierX],
		Body: map[string]any{"courier_external_id": "cx-1", "status": "manifested"}})
	f.expectProblem(409, doorman.ECONFLICT, request{Method: "POST", Path: "/v1/courier/parcels/TRK-X-OTHER/delivery", Token: f.tokens[pCourierX]})
	// A tracking number of another carrier is not the courier's either.
	f.parcel(f.carrierY.ID, f.buildingB.ID, "1A", "cy-1", "TRK-Y-1")
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "POST", Path: "/v1/courier/parcels/TRK-Y-1/delivery", Token: f.tokens[pCourierX]})
}

func TestCarrierParcelUpdate(t *testing.T) {
	f := newFixture(t)
	path := "/v1/carriers/" + f.carrierX.ID + "/parcels/TRK-X-1"
	cx := f.tokens[pCarrierX]
	f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: path, Token: cx, Body: map[string]any{}})
	f.must(200, request{Method: "PATCH", Path: path, Token: cx, Body: map[string]any{"status": "delivered"}})
	f.expectProblem(409, doorman.ECONFLICT, request{Method: "PATCH", Path: path, Token: cx, Body: map[string]any{"status": "out_for_delivery"}})
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "PATCH", Path: "/v1/carriers/" + f.carrierX.ID + "/parcels/UNKNOWN", Token: cx, Body: map[string]any{"status": "delivered"}})
	p := decode[*doorman.Parcel](t, f.must(200, request{Method: "GET", Path: path, Token: cx}))
	if p.Status != doorman.ParcelDelivered {
		t.Fatalf("parcel %+v", p)
	}
	// Tracking numbers with characters that need escaping in a path.
	f.parcel(f.carrierX.ID, f.buildingA.ID, "4B", "cx-1", "A/B?C#1")
	p = decode[*doorman.Parcel](t, f.must(200, request{Method: "GET", Path: "/v1/carriers/" + f.carrierX.ID + "/parcels/A%2FB%3FC%231", Token: cx}))
	if p.TrackingNumber != "A/B?C#1" {
		t.Fatalf("parcel %+v", p)
	}
}

func TestCourierUpsert(t *testing.T) {
	f := newFixture(t)
	path := "/v1/carriers/" + f.carrierX.ID + "/couriers/new-1"
	cx := f.tokens[pCarrierX]
	c := decode[*doorman.Courier](t, f.must(201, request{Method: "PUT", Path: path, Token: cx, Body: map[string]any{"name": "New"}}))
	if c.Status != doorman.CourierActive || c.ExternalID != "new-1" || c.CarrierID != f.carrierX.ID {
		t.Fatalf("courier %+v", c)
	}
	c2 := decode[*doorman.Courier](t, f.must(200, request{Method: "PUT", Path: path, Token: cx, Body: map[string]any{"name": "Renamed", "status": "inactive"}}))
	if c2.ID != c.ID || c2.Name != "Renamed" || c2.Status != doorman.CourierInactive {
		t.Fatalf("updated %+v", c2)
	}
	f.expectProblem(422, doorman.EINVALID, request{Method: "PUT", Path: path, Token: cx, Body: map[string]any{"name": "X", "status": "fired"}})
	f.expectProblem(422, doorman.EINVALID, request{Method: "PUT", Path: path, Token: cx, Body: map[string]any{"name": "X", "background_check_verified_until": "tomorrow"}})
	// Carrier Y's courier with the same external ID is another courier.
	cy := decode[*doorman.Courier](t, f.must(201, request{Method: "PUT", Path: "/v1/carriers/" + f.carrierY.ID + "/couriers/new-1", Token: f.tokens[pCarrierY], Body: map[string]any{"name": "Y"}}))
	if cy.ID == c.ID {
		t.Fatal("carriers share a courier")
	}
}

func TestPagination(t *testing.T) {
	f := newFixture(t)
	op := f.tokens[pOperator]
	for i := 0; i < 4; i++ {
		f.createCarrier(op, fmt.Sprintf("Paged %d", i))
	}
	// 3 from the fixture + 4.
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		page := decode[Page[*doorman.Carrier]](t, f.must(200, request{Method: "GET", Path: "/v1/carriers?limit=2&cursor=" + cursor, Token: op}))
		pages++
		if len(page.Items) > 2 {
			t.Fatalf("page of %d", len(page.Items))
		}
		for _, c := range page.Items {
			if seen[c.ID] {
				t.Fatalf("carrier %s on two pages", c.ID)
			}
			seen[c.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != 7 || pages != 4 {
		t.Fatalf("%d carriers over %d pages", len(seen), pages)
	}
	// Empty lists are [] not null.
	res := f.must(200, request{Method: "GET", Path: "/v1/buildings/" + f.buildingB.ID + "/residents", Token: op})
	if !bytes.Contains(res.Body, []byte(`"items":[]`)) {
		t.Fatalf("empty list: %s", res.Body)
	}
	// In-memory pagination (allowed carriers) pages the same way.
	f.must(204, request{Method: "PUT", Path: "/v1/buildings/" + f.buildingA.ID + "/carriers/" + f.carrierY.ID, Token: op})
	p1 := decode[Page[*doorman.Carrier]](t, f.must(200, request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID + "/carriers?limit=1", Token: op}))
	p2 := decode[Page[*doorman.Carrier]](t, f.must(200, request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID + "/carriers?limit=1&cursor=" + p1.NextCursor, Token: op}))
	if len(p1.Items) != 1 || len(p2.Items) != 1 || p2.NextCursor != "" || p1.Items[0].ID == p2.Items[0].ID {
		t.Fatalf("allowed carriers pages %+v / %+v", p1, p2)
	}
}
