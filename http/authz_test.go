package http

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/doorman-dev/doorman"
)

// authzCase says who may call one operation, on objects of building A and
// carrier X, and how to build a request that succeeds for them.
type authzCase struct {
	// roles may call the operation at all; other roles get 403. nil makes
	// the operation public.
	roles []string
	// allow are the principals for which the request succeeds; the others
	// of an admitted role get 404, as if the object did not exist.
	allow []string
	// req builds the request; it may create fresh objects for each call.
	req func(f *fixture, principal string) request
	// freshToken gives each call its own token (for operations that
	// revoke the token they are called with).
	freshToken bool
	// otherTenant, when set, is the status the principals of an admitted
	// role but not allowed get instead of 404 (requestAccess answers 422
	// "Unknown door_id." for a door the courier's carrier may not use,
	// as for one that does not exist).
	otherTenant int
}

var (
	rolesOperator = []string{doorman.RoleOperator}
	rolesManagers = []string{doorman.RoleOperator, doorman.RoleManager}
	rolesReaders  = []string{doorman.RoleOperator, doorman.RoleManager, doorman.RoleCarrier}
	rolesCarrier  = []string{doorman.RoleCarrier}
	rolesOwners   = []string{doorman.RoleOperator, doorman.RoleCarrier}
	rolesCourier  = []string{doorman.RoleCourier}
	// rolesLogReaders may check a building's log, residents included.
	rolesLogReaders = []string{doorman.RoleOperator, doorman.RoleManager, doorman.RoleResident}
	rolesAll        = []string{doorman.RoleOperator, doorman.RoleManager, doorman.RoleCarrier, doorman.RoleCourier}
)

func get(path string) func(*fixture, string) request {
	return func(*fixture, string) request { return request{Method: "GET", Path: path} }
}

// authzCases is the table of every operation of the API; the test fails if
// an operation of the OpenAPI document is missing here.
func authzCases(f *fixture) map[string]authzCase {
	bA := "/v1/buildings/" + f.buildingA.ID
	cX := "/v1/carriers/" + f.carrierX.ID
	all := []string{pOperator, pManagerA, pManagerB, pCarrierX, pCarrierY, pCourierX, pCourierY}
	public := principals
	couriers := []string{pCourierX, pCourierY} // each sees its own, none of the other's
	opA := []string{pOperator, pManagerA}
	opX := []string{pOperator, pCarrierX}
	logA := []string{pOperator, pManagerA, pResidentA}
	return map[string]authzCase{
		"getMe": {roles: rolesAll, allow: all, req: get("/v1/me")},
		"createSession": {allow: public, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: "/v1/sessions", Body: map[string]any{"email": f.managerAEmail, "password": testPassword}}
		}},
		"deleteCurrentSession": {roles: []string{doorman.RoleManager, doorman.RoleCourier, doorman.RoleResident}, allow: []string{pManagerA, pManagerB, pCourierX, pCourierY, pResidentA, pResidentB},
			freshToken: true, req: func(*fixture, string) request { return request{Method: "DELETE", Path: "/v1/sessions/current"} }},
		"acceptInvite": {allow: public, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: "/v1/invites/accept", Body: map[string]any{"token": f.freshInvite(), "name": "New", "password": testPassword}}
		}},

		"createCarrier": {roles: rolesOperator, allow: []string{pOperator}, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: "/v1/carriers", Body: map[string]any{"name": fmt.Sprintf("C%d", f.next())}}
		}},
		"listCarriers": {roles: rolesManagers, allow: []string{pOperator, pManagerA, pManagerB}, req: get("/v1/carriers")},
		"getCarrier":   {roles: rolesReaders, allow: []string{pOperator, pManagerA, pManagerB, pCarrierX}, req: get(cX)},
		"createAPIKey": {roles: rolesOperator, allow: []string{pOperator}, req: func(*fixture, string) request {
			return request{Method: "POST", Path: cX + "/api-keys", Body: map[string]any{"name": "k"}}
		}},
		"listAPIKeys": {roles: rolesOwners, allow: opX, req: get(cX + "/api-keys")},
		"revokeAPIKey": {roles: rolesOwners, allow: opX, req: func(f *fixture, _ string) request {
			id := f.freshCredential(doorman.RoleCarrier, f.carrierX.ID, f.carrierX.ID)
			return request{Method: "DELETE", Path: cX + "/api-keys/" + id}
		}},

		"createBuilding": {roles: rolesOperator, allow: []string{pOperator}, req: func(*fixture, string) request {
			return request{Method: "POST", Path: "/v1/buildings", Body: map[string]any{"name": "N", "address": "Street 2", "timezone": "UTC"}}
		}},
		"listBuildings": {roles: rolesReaders, allow: []string{pOperator, pManagerA, pManagerB, pCarrierX, pCarrierY}, req: get("/v1/buildings")},
		"getBuilding":   {roles: rolesReaders, allow: []string{pOperator, pManagerA, pCarrierX}, req: get(bA)},
		"updateBuilding": {roles: rolesManagers, allow: opA, req: func(*fixture, string) request {
			return request{Method: "PATCH", Path: bA, Body: map[string]any{"name": "Building A"}}
		}},
		"createInvite": {roles: rolesOperator, allow: []string{pOperator}, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: bA + "/invites", Body: map[string]any{"email": fmt.Sprintf("i%d@example.com", f.next())}}
		}},
		"listAllowedCarriers": {roles: rolesManagers, allow: opA, req: get(bA + "/carriers")},
		"allowCarrier": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "PUT", Path: bA + "/carriers/" + f.carrierZ.ID}
		}},
		"setNoticePeriod": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "PUT", Path: bA + "/notice-period", Body: map[string]any{"seconds": 0}}
		}},
		"disallowCarrier": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			if err := f.store.AllowCarrier(ctxBG, f.buildingA.ID, f.carrierZ.ID); err != nil {
				f.t.Fatal(err)
			}
			return request{Method: "DELETE", Path: bA + "/carriers/" + f.carrierZ.ID}
		}},
		"listBuildingParcels": {roles: rolesManagers, allow: opA, req: get(bA + "/parcels")},

		"createUnit": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: bA + "/units", Body: map[string]any{"label": fmt.Sprintf("N%d", f.next())}}
		}},
		"importUnits": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			n := f.next()
			return request{Method: "POST", Path: bA + "/units/import", ContentType: "text/csv",
				Body: fmt.Sprintf("label,floor\nI%d-1,1\nI%d-2,2\n", n, n)}
		}},
		"listUnits": {roles: rolesManagers, allow: opA, req: get(bA + "/units")},
		"getUnit": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "GET", Path: bA + "/units/" + f.unitA.ID}
		}},
		"deleteUnit": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "DELETE", Path: bA + "/units/" + f.freshUnit().ID}
		}},

		"createResident": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: bA + "/residents", Body: map[string]any{"unit_id": f.unitA.ID, "name": "R", "email": "r@example.com"}}
		}},
		"listResidents": {roles: rolesManagers, allow: opA, req: get(bA + "/residents")},
		"deleteResident": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "DELETE", Path: bA + "/residents/" + f.freshResident().ID}
		}},

		"createDoor": {roles: rolesManagers, allow: opA, req: func(*fixture, string) request {
			return request{Method: "POST", Path: bA + "/doors", Body: map[string]any{"name": "Side"}}
		}},
		"listDoors": {roles: rolesReaders, allow: []string{pOperator, pManagerA, pCarrierX}, req: get(bA + "/doors")},
		"getDoor": {roles: rolesReaders, allow: []string{pOperator, pManagerA, pCarrierX}, req: func(f *fixture, _ string) request {
			return request{Method: "GET", Path: bA + "/doors/" + f.doorA.ID}
		}},
		"updateDoor": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "PATCH", Path: bA + "/doors/" + f.doorA2.ID, Body: map[string]any{"pulse_millis": 2500}}
		}},
		"startLockdown": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "PUT", Path: bA + "/doors/" + f.doorA2.ID + "/lockdown"}
		}},
		"endLockdown": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "DELETE", Path: bA + "/doors/" + f.doorA2.ID + "/lockdown"}
		}},

		"listOfflineActivity": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "GET", Path: bA + "/doors/" + f.doorA.ID + "/offline-activity"}
		}},

		"createEnrollment": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: bA + "/doors/" + f.doorA2.ID + "/enrollments"}
		}},
		"enrollDevice": {allow: public, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: "/v1/device/enroll", Body: map[string]any{"code": f.freshEnrollment(f.doorA2.ID), "nkey": newDeviceKey(f.t).pub}}
		}},
		"listDevices": {roles: rolesManagers, allow: opA, req: get(bA + "/devices")},
		"revokeDevice": {roles: rolesManagers, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "DELETE", Path: bA + "/devices/" + f.freshDevice(f.doorA2.ID).ID}
		}},

		"createCarrierWebhook": {roles: rolesOwners, allow: opX, req: func(*fixture, string) request {
			return request{Method: "POST", Path: cX + "/webhooks", Body: map[string]any{"url": "https://93.184.216.34/hook", "event_types": []string{"access.granted"}}}
		}},
		"listCarrierWebhooks": {roles: rolesOwners, allow: opX, req: get(cX + "/webhooks")},
		"createBuildingWebhook": {roles: rolesManagers, allow: opA, req: func(*fixture, string) request {
			return request{Method: "POST", Path: bA + "/webhooks", Body: map[string]any{"url": "https://93.184.216.34/hook", "event_types": []string{"device.offline"}}}
		}},
		"listBuildingWebhooks": {roles: rolesManagers, allow: opA, req: get(bA + "/webhooks")},
		// A building A endpoint for reading, a carrier X one for changing:
		// managers of A and carrier X each see one and not the other.
		"getWebhook": {roles: rolesReaders, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "GET", Path: "/v1/webhooks/" + f.freshWebhook(doorman.WebhookFilter{BuildingID: f.buildingA.ID}).ID}
		}},
		"listWebhookDeliveries": {roles: rolesReaders, allow: opA, req: func(f *fixture, _ string) request {
			return request{Method: "GET", Path: "/v1/webhooks/" + f.freshWebhook(doorman.WebhookFilter{BuildingID: f.buildingA.ID}).ID + "/deliveries"}
		}},
		"updateWebhook": {roles: rolesReaders, allow: opX, req: func(f *fixture, _ string) request {
			return request{Method: "PATCH", Path: "/v1/webhooks/" + f.freshWebhook(doorman.WebhookFilter{CarrierID: f.carrierX.ID}).ID, Body: map[string]any{"enabled": false}}
		}},
		"deleteWebhook": {roles: rolesReaders, allow: opX, req: func(f *fixture, _ string) request {
			return request{Method: "DELETE", Path: "/v1/webhooks/" + f.freshWebhook(doorman.WebhookFilter{CarrierID: f.carrierX.ID}).ID}
		}},
		"rotateWebhookSecret": {roles: rolesReaders, allow: opX, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: "/v1/webhooks/" + f.freshWebhook(doorman.WebhookFilter{CarrierID: f.carrierX.ID}).ID + "/secret-rotations"}
		}},

		"putCourier": {roles: rolesCarrier, allow: []string{pCarrierX}, req: func(f *fixture, _ string) request {
			return request{Method: "PUT", Path: cX + "/couriers/cx-1", Body: map[string]any{
				"name": "Courier cx-1", "background_check_verified_until": f.courierX.BackgroundCheckVerifiedUntil}}
		}},
		"listCouriers": {roles: rolesOwners, allow: opX, req: get(cX + "/couriers")},
		"getCourier":   {roles: rolesOwners, allow: opX, req: get(cX + "/couriers/cx-1")},
		"createCourierSession": {roles: rolesCarrier, allow: []string{pCarrierX}, req: func(*fixture, string) request {
			return request{Method: "POST", Path: cX + "/couriers/cx-1/sessions", Body: map[string]any{"ttl_seconds": 600}}
		}},
		"listCourierSessions": {roles: rolesOwners, allow: opX, req: get(cX + "/couriers/cx-1/sessions")},
		"revokeCourierSession": {roles: rolesOwners, allow: opX, req: func(f *fixture, _ string) request {
			id := f.freshCredential(doorman.RoleCourier, f.courierX.ID, f.carrierX.ID)
			return request{Method: "DELETE", Path: cX + "/couriers/cx-1/sessions/" + id}
		}},

		"uploadManifest": {roles: rolesCarrier, allow: []string{pCarrierX}, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: cX + "/manifests", Body: map[string]any{"parcels": []map[string]any{
				{"tracking_number": fmt.Sprintf("M-%d", f.next()), "building_id": f.buildingA.ID, "unit": "4B"}}}}
		}},
		"listCarrierParcels": {roles: rolesOwners, allow: opX, req: get(cX + "/parcels")},
		"getCarrierParcel":   {roles: rolesOwners, allow: opX, req: get(cX + "/parcels/TRK-X-1")},
		"updateCarrierParcel": {roles: rolesCarrier, allow: []string{pCarrierX}, req: func(*fixture, string) request {
			return request{Method: "PATCH", Path: cX + "/parcels/TRK-X-1", Body: map[string]any{"courier_external_id": "cx-1"}}
		}},

		"requestAccess": {roles: rolesCourier, allow: []string{pCourierX}, otherTenant: http.StatusUnprocessableEntity, req: func(f *fixture, _ string) request {
			return request{Method: "POST", Path: "/v1/courier/access-requests", Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"TRK-X-1"}}}
		}},
		"listCourierParcels": {roles: rolesCourier, allow: couriers, req: get("/v1/courier/parcels")},
		"deliverParcel": {roles: rolesCourier, allow: []string{pCourierX}, req: func(f *fixture, _ string) request {
			tn := fmt.Sprintf("D-%d", f.next())
			f.parcel(f.carrierX.ID, f.buildingA.ID, "4B", "cx-1", tn)
			return request{Method: "POST", Path: "/v1/courier/parcels/" + tn + "/delivery"}
		}},

		"listCourierReturns": {roles: rolesCourier, allow: couriers, req: get("/v1/courier/returns")},
		"collectReturn": {roles: rolesCourier, allow: []string{pCourierX}, req: func(f *fixture, _ string) request {
			tn := fmt.Sprintf("R-%d", f.next())
			f.registerReturn(f.carrierX.ID, tn)
			return request{Method: "POST", Path: "/v1/courier/returns/" + tn + "/collection"}
		}},

		"listAudit":   {roles: rolesAll, allow: all, req: get("/v1/audit")},
		"verifyAudit": {roles: rolesOperator, allow: []string{pOperator}, req: get("/v1/audit/verification")},
		"getAuditCheckpoint": {roles: rolesLogReaders, allow: logA, req: func(f *fixture, _ string) request {
			// The service serves what the store holds; signatures are checked by the reader.
			if err := f.store.AddAuditCheckpoint(context.Background(), &doorman.AuditCheckpoint{Chain: f.buildingA.ID, Size: 1, Note: "test"}); err != nil {
				f.t.Fatal(err)
			}
			return request{Method: "GET", Path: "/v1/audit/chains/" + f.buildingA.ID + "/checkpoint"}
		}},
		"getAuditConsistency": {roles: rolesLogReaders, allow: logA, req: func(f *fixture, _ string) request {
			return request{Method: "GET", Path: "/v1/audit/chains/" + f.buildingA.ID + "/consistency?from=1&to=1"}
		}},
		"getAuditInclusion": {roles: rolesLogReaders, allow: logA, req: func(f *fixture, _ string) request {
			entries, err := f.store.AuditChain(context.Background(), f.buildingA.ID, 0, 1)
			if err != nil || len(entries) != 1 {
				f.t.Fatalf("first entry of building A: %v", err)
			}
			return request{Method: "GET", Path: "/v1/audit/entries/" + entries[0].ID + "/inclusion?size=1"}
		}},
	}
}

// expectedStatus is the class of answer a principal must get.
func expectedStatus(c authzCase, principal string) int {
	switch {
	case slices.Contains(c.allow, principal):
		return http.StatusOK // any 2xx
	case c.roles == nil:
		return http.StatusOK
	case principal == pNone || principal == pGarbage:
		return http.StatusUnauthorized
	case !slices.Contains(c.roles, principalRole[principal]):
		return http.StatusForbidden
	case c.otherTenant != 0:
		return c.otherTenant
	}
	return http.StatusNotFound
}

// TestAuthorizationMatrix calls every operation of the OpenAPI document as
// every principal and checks who gets through.
func TestAuthorizationMatrix(t *testing.T) { authorizationMatrix(t, withBus) }

// TestAuthorizationMatrixServices runs the matrix with the HTTP layer's
// early role check off: every refusal then comes from the application
// services, so a service that admitted a role its route does not would
// show here.
func TestAuthorizationMatrixServices(t *testing.T) {
	authorizationMatrix(t, withBus, func(_ *env, cfg *Config) { cfg.servicesDecideRoles = true })
}

func authorizationMatrix(t *testing.T, opts ...envOption) {
	f := newFixture(t, opts...)
	f.addResidents()
	cases := authzCases(f)

	var ops []string
	for path, item := range f.server.OpenAPI().Paths {
		for method, op := range map[string]*huOp{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			ops = append(ops, op.OperationID)
			c, ok := cases[op.OperationID]
			if !ok {
				t.Errorf("operation %s (%s %s) has no row in the authorisation table", op.OperationID, method, path)
				continue
			}
			public := op.Security == nil || len(op.Security) == 0 || len(op.Security[0]) == 0
			if public != (c.roles == nil) {
				t.Errorf("%s: document says public=%v, table says %v", op.OperationID, public, c.roles == nil)
			}
		}
	}
	for id := range cases {
		if !slices.Contains(ops, id) {
			t.Errorf("table row %s names no operation", id)
		}
	}
	sort.Strings(ops)

	for _, id := range ops {
		c := cases[id]
		for _, p := range principals {
			t.Run(id+"/"+p, func(t *testing.T) {
				f := f.with(t)
				r := c.req(f, p)
				r.Token = f.tokens[p]
				if c.freshToken {
					r.Token = f.freshToken(p)
				}
				res := f.do(r)
				want := expectedStatus(c, p)
				if want == http.StatusOK {
					if res.Status < 200 || res.Status > 299 {
						t.Fatalf("%s %s as %s: status %d, want 2xx; body %s", r.Method, r.Path, p, res.Status, res.Body)
					}
					return
				}
				if res.Status != want {
					t.Fatalf("%s %s as %s: status %d, want %d; body %s", r.Method, r.Path, p, res.Status, want, res.Body)
				}
				prob := res.Problem(t)
				wantCode := map[int]string{401: doorman.EUNAUTHORIZED, 403: doorman.EFORBIDDEN, 404: doorman.ENOTFOUND, 422: doorman.EINVALID}[want]
				if prob.Code != wantCode {
					t.Fatalf("problem code %q, want %q", prob.Code, wantCode)
				}
			})
		}
	}
}
