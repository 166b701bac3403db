package http

import (
	"bytes"
	"testing"

	"github.com/doorman-dev/doorman"
)

func TestAuditScope(t *testing.T) {
	f := newFixture(t)
	// Make entries: an access by courier X at A, and an action at B.
	f.must(200, request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
		Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"TRK-X-1"}}})
	f.must(200, request{Method: "PUT", Path: "/v1/buildings/" + f.buildingB.ID + "/doors/" + f.doorB.ID + "/lockdown", Token: f.tokens[pManagerB]})

	list := func(principal, query string) []*doorman.AuditEntry {
		t.Helper()
		return decode[Page[*doorman.AuditEntry]](t, f.must(200, request{Method: "GET", Path: "/v1/audit?limit=500" + query, Token: f.tokens[principal]})).Items
	}
	all := list(pOperator, "")
	if len(all) == 0 {
		t.Fatal("operator sees no entries")
	}
	check := func(principal string, ok func(*doorman.AuditEntry) bool) {
		t.Helper()
		got := list(principal, "")
		if len(got) == 0 {
			t.Fatalf("%s sees nothing", principal)
		}
		for _, e := range got {
			if !ok(e) {
				t.Fatalf("%s sees %+v", principal, e)
			}
		}
	}
	check(pManagerA, func(e *doorman.AuditEntry) bool { return e.BuildingID == f.buildingA.ID || e.Chain == f.buildingA.ID })
	check(pManagerB, func(e *doorman.AuditEntry) bool { return e.BuildingID == f.buildingB.ID || e.Chain == f.buildingB.ID })
	check(pCarrierX, func(e *doorman.AuditEntry) bool { return e.CarrierID == f.carrierX.ID })
	check(pCourierX, func(e *doorman.AuditEntry) bool { return e.CourierID == f.courierX.ID })

	// Asking for someone else's scope is answered like asking for nothing.
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "GET", Path: "/v1/audit?building_id=" + f.buildingA.ID, Token: f.tokens[pManagerB]})
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "GET", Path: "/v1/audit?chain=platform", Token: f.tokens[pManagerB]})
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "GET", Path: "/v1/audit?carrier_id=" + f.carrierX.ID, Token: f.tokens[pCarrierY]})
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "GET", Path: "/v1/audit?courier_id=" + f.courierY.ID, Token: f.tokens[pCourierX]})
	// Carrier Y sees nothing of carrier X even when filtering by X's door.
	for _, e := range list(pCarrierY, "&door_id="+f.doorA.ID) {
		t.Fatalf("carrier Y sees %+v", e)
	}

	v := decode[AuditVerification](t, f.must(200, request{Method: "GET", Path: "/v1/audit/verification", Token: f.tokens[pOperator]}))
	if !v.Intact || len(v.Breaks) != 0 {
		t.Fatalf("verification %+v", v)
	}
	// Actors are recorded from the principal.
	found := false
	for _, e := range list(pOperator, "&building_id="+f.buildingB.ID) {
		if e.Action == doorman.ActionDoorLockdown {
			found = true
			if !bytes.HasPrefix([]byte(e.Actor), []byte("manager:mgr_")) {
				t.Fatalf("lockdown actor %q", e.Actor)
			}
		}
	}
	if !found {
		t.Fatal("lockdown not audited")
	}
}

// TestNotFoundDoesNotLeak checks that an object outside the caller's scope
// is answered byte for byte like one that does not exist.
func TestNotFoundDoesNotLeak(t *testing.T) {
	f := newFixture(t)
	missingB := doorman.NewID(doorman.PrefixBuilding)
	missingC := doorman.NewID(doorman.PrefixCarrier)
	missingD := doorman.NewID(doorman.PrefixDoor)
	for _, tc := range []struct {
		principal        string
		method           string
		foreign, missing string
	}{
		{pManagerB, "GET", "/v1/buildings/" + f.buildingA.ID, "/v1/buildings/" + missingB},
		{pManagerB, "GET", "/v1/buildings/" + f.buildingA.ID + "/units", "/v1/buildings/" + missingB + "/units"},
		{pCarrierY, "GET", "/v1/buildings/" + f.buildingA.ID + "/doors/" + f.doorA.ID, "/v1/buildings/" + missingB + "/doors/" + missingD},
		{pManagerA, "GET", "/v1/buildings/" + f.buildingA.ID + "/doors/" + f.doorB.ID, "/v1/buildings/" + f.buildingA.ID + "/doors/" + missingD},
		{pCarrierY, "GET", "/v1/carriers/" + f.carrierX.ID, "/v1/carriers/" + missingC},
		{pCarrierY, "GET", "/v1/carriers/" + f.carrierX.ID + "/parcels/TRK-X-1", "/v1/carriers/" + missingC + "/parcels/TRK-X-1"},
		{pCarrierX, "GET", "/v1/carriers/" + f.carrierX.ID + "/couriers/cy-1", "/v1/carriers/" + f.carrierX.ID + "/couriers/nobody"},
		{pCourierX, "POST", "/v1/courier/parcels/TRK-Y-1/delivery", "/v1/courier/parcels/NOPE/delivery"},
	} {
		if tc.principal == pCourierX {
			f.parcel(f.carrierY.ID, f.buildingB.ID, "1A", "cy-1", "TRK-Y-1")
		}
		a := f.do(request{Method: tc.method, Path: tc.foreign, Token: f.tokens[tc.principal]})
		b := f.do(request{Method: tc.method, Path: tc.missing, Token: f.tokens[tc.principal]})
		if a.Status != 404 || b.Status != 404 || !bytes.Equal(a.Body, b.Body) {
			t.Errorf("%s %s: foreign %d %s, missing %d %s", tc.principal, tc.foreign, a.Status, a.Body, b.Status, b.Body)
		}
	}
}
