package http

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman/wire"
)

// routes registers every endpoint: the plain ones on the mux, the API
// operations through huma. This file is the whole URL map of the server.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /v1/openapi.json", s.serveOpenAPI)

	const (
		get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
		created                    = http.StatusCreated
		none                       = http.StatusNoContent
	)
	conflict, tooMany := http.StatusConflict, http.StatusTooManyRequests
	unavailable := http.StatusServiceUnavailable

	// Session.
	register(s, route{ID: "getMe", Method: get, Path: "/v1/me", Tag: tagSession, Roles: everyone,
		Summary: "Describe the caller", Doc: "Returns the role and identity behind the bearer token."}, s.getMe)
	register(s, route{ID: "createSession", Method: post, Path: "/v1/sessions", Tag: tagSession, Status: created,
		Errors: []int{http.StatusUnauthorized, tooMany}, Summary: "Log a manager in",
		Doc: "Exchanges a manager's email and password for a session token (shown once), valid 12 hours. Guesses are limited without handing anyone a way to lock a manager out: 10 attempts from one address for one email without a success refuse that address for that email for 15 minutes; 100 attempts from one address refuse it for 15 minutes; past 100 failures for one email from all addresses within an hour, each address keeps one attempt per hour for that email, and addresses the manager signed in from in the last 30 days keep all of theirs. A refusal is 429 with Retry-After."}, s.createSession)
	register(s, route{ID: "deleteCurrentSession", Method: del, Path: "/v1/sessions/current", Tag: tagSession, Status: none,
		Roles: sessionHolders, Summary: "Log out", Doc: "Revokes the session token used for this request."}, s.deleteCurrentSession)
	register(s, route{ID: "acceptInvite", Method: post, Path: "/v1/invites/accept", Tag: tagSession, Status: created,
		Errors: []int{http.StatusNotFound, conflict}, Summary: "Accept a manager invitation",
		Doc: "Whoever holds an invitation token creates a manager account for the invited email (name and password), or, leaving the password out, adds the building to the existing account of that email. Each token works once."}, s.acceptInvite)

	// Carriers and their API keys.
	register(s, route{ID: "createCarrier", Method: post, Path: "/v1/carriers", Tag: tagCarriers, Status: created,
		Roles: operatorOnly, Summary: "Create a carrier"}, s.createCarrier)
	register(s, route{ID: "listCarriers", Method: get, Path: "/v1/carriers", Tag: tagCarriers,
		Roles: managers, Summary: "List carriers", Doc: "Managers see every carrier, to choose which to allow."}, s.listCarriers)
	register(s, route{ID: "getCarrier", Method: get, Path: "/v1/carriers/{carrier_id}", Tag: tagCarriers,
		Roles: buildingReader, Summary: "Get a carrier", Doc: "A carrier sees only itself."}, s.getCarrier)
	register(s, route{ID: "createAPIKey", Method: post, Path: "/v1/carriers/{carrier_id}/api-keys", Tag: tagCarriers, Status: created,
		Roles: operatorOnly, Summary: "Create a carrier API key", Doc: "The token is in this answer only; Doorman keeps its hash."}, s.createAPIKey)
	register(s, route{ID: "listAPIKeys", Method: get, Path: "/v1/carriers/{carrier_id}/api-keys", Tag: tagCarriers,
		Roles: carrierOwners, Summary: "List a carrier's API keys", Doc: "Keys are told apart by their prefix."}, s.listAPIKeys)
	register(s, route{ID: "revokeAPIKey", Method: del, Path: "/v1/carriers/{carrier_id}/api-keys/{key_id}", Tag: tagCarriers, Status: none,
		Roles: carrierOwners, Summary: "Revoke a carrier API key"}, s.revokeAPIKey)

	// Buildings.
	register(s, route{ID: "createBuilding", Method: post, Path: "/v1/buildings", Tag: tagBuildings, Status: created,
		Roles: operatorOnly, Summary: "Create a building"}, s.createBuilding)
	register(s, route{ID: "listBuildings", Method: get, Path: "/v1/buildings", Tag: tagBuildings,
		Roles: buildingReader, Summary: "List buildings",
		Doc: "Operators see every building, managers the buildings they manage, carriers the buildings that allow them."}, s.listBuildings)
	register(s, route{ID: "getBuilding", Method: get, Path: "/v1/buildings/{building_id}", Tag: tagBuildings,
		Roles: buildingReader, Summary: "Get a building"}, s.getBuilding)
	register(s, route{ID: "updateBuilding", Method: patch, Path: "/v1/buildings/{building_id}", Tag: tagBuildings,
		Roles: managers, Summary: "Update a building",
		Doc: "Changes the fields given. `delivery_hours: null` removes the hours limit (deliveries at any hour)."}, s.updateBuilding)
	register(s, route{ID: "createInvite", Method: post, Path: "/v1/buildings/{building_id}/invites", Tag: tagBuildings, Status: created,
		Roles: operatorOnly, Summary: "Invite a manager", Doc: "The invitation token is in this answer only and expires after 7 days."}, s.createInvite)
	register(s, route{ID: "listAllowedCarriers", Method: get, Path: "/v1/buildings/{building_id}/carriers", Tag: tagBuildings,
		Roles: managers, Summary: "List the carriers a building allows"}, s.listAllowedCarriers)
	register(s, route{ID: "allowCarrier", Method: put, Path: "/v1/buildings/{building_id}/carriers/{carrier_id}", Tag: tagBuildings, Status: none,
		Roles: managers, Summary: "Allow a carrier", Doc: "Lets the carrier's couriers in. Allowing an allowed carrier changes nothing."}, s.allowCarrier)
	register(s, route{ID: "setNoticePeriod", Method: put, Path: "/v1/buildings/{building_id}/notice-period", Tag: tagBuildings, Status: none,
		Roles: managers, Summary: "Set the notice period", Doc: "A newly allowed carrier's couriers are refused with reason carrier_pending_notice until every resident was sent notice and this period has passed (default 7 days)."}, s.setNoticePeriod)
	register(s, route{ID: "disallowCarrier", Method: del, Path: "/v1/buildings/{building_id}/carriers/{carrier_id}", Tag: tagBuildings, Status: none,
		Roles: managers, Summary: "Stop allowing a carrier"}, s.disallowCarrier)
	register(s, route{ID: "listBuildingParcels", Method: get, Path: "/v1/buildings/{building_id}/parcels", Tag: tagBuildings,
		Roles: managers, Summary: "List a building's parcels"}, s.listBuildingParcels)

	// Units.
	register(s, route{ID: "createUnit", Method: post, Path: "/v1/buildings/{building_id}/units", Tag: tagUnits, Status: created,
		Roles: managers, Errors: []int{conflict}, Summary: "Add a unit"}, s.createUnit)
	register(s, route{ID: "importUnits", Method: post, Path: "/v1/buildings/{building_id}/units/import", Tag: tagUnits, Status: created,
		Roles: managers, Errors: []int{http.StatusUnsupportedMediaType}, Summary: "Import units from CSV",
		Doc: "Takes a text/csv body with the header `label,floor`. Either every row is imported or none: a bad row makes the answer a 422 listing each bad row by line number."}, s.importUnits)
	register(s, route{ID: "listUnits", Method: get, Path: "/v1/buildings/{building_id}/units", Tag: tagUnits,
		Roles: managers, Summary: "List a building's units"}, s.listUnits)
	register(s, route{ID: "getUnit", Method: get, Path: "/v1/buildings/{building_id}/units/{unit_id}", Tag: tagUnits,
		Roles: managers, Summary: "Get a unit"}, s.getUnit)
	register(s, route{ID: "deleteUnit", Method: del, Path: "/v1/buildings/{building_id}/units/{unit_id}", Tag: tagUnits, Status: none,
		Roles: managers, Errors: []int{conflict}, Summary: "Delete a unit", Doc: "Refused (409) while residents or parcels refer to the unit."}, s.deleteUnit)

	// Residents.
	register(s, route{ID: "createResident", Method: post, Path: "/v1/buildings/{building_id}/residents", Tag: tagResidents, Status: created,
		Roles: managers, Summary: "Add a resident"}, s.createResident)
	register(s, route{ID: "listResidents", Method: get, Path: "/v1/buildings/{building_id}/residents", Tag: tagResidents,
		Roles: managers, Summary: "List a building's residents"}, s.listResidents)
	register(s, route{ID: "deleteResident", Method: del, Path: "/v1/buildings/{building_id}/residents/{resident_id}", Tag: tagResidents, Status: none,
		Roles: managers, Summary: "Remove a resident and their data"}, s.deleteResident)

	// Doors.
	register(s, route{ID: "createDoor", Method: post, Path: "/v1/buildings/{building_id}/doors", Tag: tagDoors, Status: created,
		Roles: managers, Summary: "Add a door"}, s.createDoor)
	register(s, route{ID: "listDoors", Method: get, Path: "/v1/buildings/{building_id}/doors", Tag: tagDoors,
		Roles: buildingReader, Summary: "List a building's doors", Doc: "Carriers the building allows may list its doors."}, s.listDoors)
	register(s, route{ID: "getDoor", Method: get, Path: "/v1/buildings/{building_id}/doors/{door_id}", Tag: tagDoors,
		Roles: buildingReader, Summary: "Get a door"}, s.getDoor)
	register(s, route{ID: "updateDoor", Method: patch, Path: "/v1/buildings/{building_id}/doors/{door_id}", Tag: tagDoors,
		Roles: managers, Summary: "Update a door", Doc: "Changes the fields given; `latitude: null, longitude: null` forgets the position."}, s.updateDoor)
	register(s, route{ID: "startLockdown", Method: put, Path: "/v1/buildings/{building_id}/doors/{door_id}/lockdown", Tag: tagDoors,
		Roles: managers, Summary: "Lock a door down", Doc: "Refuses every delivery access at once, also grants not yet used."}, s.startLockdown)
	register(s, route{ID: "endLockdown", Method: del, Path: "/v1/buildings/{building_id}/doors/{door_id}/lockdown", Tag: tagDoors,
		Roles: managers, Summary: "Lift a door's lockdown"}, s.endLockdown)
	register(s, route{ID: "listOfflineActivity", Method: get, Path: "/v1/buildings/{building_id}/doors/{door_id}/offline-activity", Tag: tagDoors,
		Roles: managers, Summary: "What a door did while offline",
		Doc: "The events the door's device queued while its link was down and delivered once it returned (at least a minute late), newest first: openings by offline grant at the door's reader, refusals with their reason, the door's own openings and closings. The door's status (`offline_since`, `clock_synced_at`, `clock_sync_age_seconds`, `accepts_offline_grants`) is on the door."}, s.offlineActivity)

	// Door devices.
	register(s, route{ID: "createEnrollment", Method: post, Path: "/v1/buildings/{building_id}/doors/{door_id}/enrollments", Tag: tagDevices, Status: created,
		Roles: managers, Summary: "Create a device enrollment code",
		Doc: "Makes a one-time code with which a device claims this door (`doorman-agent enroll`). The code is in this answer only and works once, for 15 minutes. Enrolling a device revokes the door's previous one."}, s.createEnrollment)
	register(s, route{ID: "enrollDevice", Method: post, Path: wire.EnrollPath, Tag: tagDevices, Status: created,
		MaxBody: wire.MaxEnrollSize, Errors: []int{http.StatusNotFound, conflict, tooMany, unavailable}, Summary: "Enroll a door device",
		Doc: "Called by the device agent, without a bearer token: it sends an enrollment code and the public half of the NATS key it generated, and gets its bus credentials, the bus's CA and the keys that sign its commands. " +
			"An unknown, used or expired code is 404, one answer for all three; after 10 attempts from one address without a success within 15 minutes the answer is 429, and past 1000 wrong codes from everyone each address keeps one attempt per 15 minutes. " +
			"409 means the key was registered before: the device must make a new one. 503 means the server cannot enroll devices."}, s.enrollDevice)
	register(s, route{ID: "listDevices", Method: get, Path: "/v1/buildings/{building_id}/devices", Tag: tagDevices,
		Roles: managers, Summary: "List a building's devices", Doc: "Revoked devices included, with revoked_at."}, s.listDevices)
	register(s, route{ID: "revokeDevice", Method: del, Path: "/v1/buildings/{building_id}/devices/{device_id}", Tag: tagDevices, Status: none,
		Roles: managers, Errors: []int{unavailable}, Summary: "Revoke a device",
		Doc: "The device is disconnected from the bus and kept out for good; its door needs a new enrollment. Revoking a revoked device changes nothing. 503 means the bus could not shut it out yet: repeat the request."}, s.revokeDevice)

	// A carrier's couriers.
	register(s, route{ID: "putCourier", Method: put, Path: "/v1/carriers/{carrier_id}/couriers/{external_id}", Tag: tagCouriers,
		AltStatus: []int{created}, Roles: carrierOnly, Summary: "Create or update a courier",
		Doc: "The carrier names its courier by its own external ID. Answers 201 when it created the courier, 200 when it updated it."}, s.putCourier)
	register(s, route{ID: "listCouriers", Method: get, Path: "/v1/carriers/{carrier_id}/couriers", Tag: tagCouriers,
		Roles: carrierOwners, Summary: "List a carrier's couriers"}, s.listCouriers)
	register(s, route{ID: "getCourier", Method: get, Path: "/v1/carriers/{carrier_id}/couriers/{external_id}", Tag: tagCouriers,
		Roles: carrierOwners, Summary: "Get a courier"}, s.getCourier)
	register(s, route{ID: "createCourierSession", Method: post, Path: "/v1/carriers/{carrier_id}/couriers/{external_id}/sessions", Tag: tagCouriers, Status: created,
		Roles: carrierOnly, Summary: "Mint a courier session",
		Doc: "Returns a courier session token (shown once), valid for ttl_seconds (default 1 hour, at most 12 hours). Only active couriers get one."}, s.createCourierSession)
	register(s, route{ID: "listCourierSessions", Method: get, Path: "/v1/carriers/{carrier_id}/couriers/{external_id}/sessions", Tag: tagCouriers,
		Roles: carrierOwners, Summary: "List a courier's sessions"}, s.listCourierSessions)
	register(s, route{ID: "revokeCourierSession", Method: del, Path: "/v1/carriers/{carrier_id}/couriers/{external_id}/sessions/{session_id}", Tag: tagCouriers, Status: none,
		Roles: carrierOwners, Summary: "Revoke a courier session"}, s.revokeCourierSession)

	// A carrier's parcels.
	register(s, route{ID: "uploadManifest", Method: post, Path: "/v1/carriers/{carrier_id}/manifests", Tag: tagParcels,
		Roles: carrierOnly, MaxBody: maxManifestBody, Summary: "Upload a parcel manifest",
		Doc: "Creates or updates up to 1000 parcels by tracking number, all or nothing: if any item is invalid nothing is written and the 422 problem lists each bad item by index. A building that does not allow the carrier is answered exactly like one that does not exist."}, s.uploadManifest)
	register(s, route{ID: "listCarrierParcels", Method: get, Path: "/v1/carriers/{carrier_id}/parcels", Tag: tagParcels,
		Roles: carrierOwners, Summary: "List a carrier's parcels"}, s.listCarrierParcels)
	register(s, route{ID: "getCarrierParcel", Method: get, Path: "/v1/carriers/{carrier_id}/parcels/{tracking_number}", Tag: tagParcels,
		Roles: carrierOwners, Summary: "Get a parcel by tracking number"}, s.getCarrierParcel)
	register(s, route{ID: "updateCarrierParcel", Method: patch, Path: "/v1/carriers/{carrier_id}/parcels/{tracking_number}", Tag: tagParcels,
		Roles: carrierOnly, Errors: []int{conflict}, Summary: "Change a parcel's status or courier",
		Doc: "Moves the parcel to another status (transitions are checked, 409 if not allowed) and/or assigns it to a courier."}, s.updateCarrierParcel)

	// The courier at the door.
	register(s, route{ID: "requestAccess", Method: post, Path: "/v1/courier/access-requests", Tag: tagCourier,
		Roles: courierOnly, Errors: []int{unavailable}, Summary: "Ask to open a door",
		Doc: "The courier scans parcels at a door. The answer is 200 for both outcomes: `decision.allowed` with the grant the door opened for, or a denial with a stable `decision.reason` and no grant. A door that does not exist and a door of a building that does not allow the courier's carrier are both 422 `Unknown door_id.` (and nothing is recorded at that building). A `rate_limited` denial carries `Retry-After` and `RateLimit` headers; rate-limited requests are counted, not written to the audit log. Only malformed requests are errors, and a node deciding as many requests as it takes at once answers 503 with reason `busy` and `Retry-After` (nothing decided or recorded: ask again)."}, s.requestAccess)
	register(s, route{ID: "listCourierParcels", Method: get, Path: "/v1/courier/parcels", Tag: tagCourier,
		Roles: courierOnly, Summary: "List my assigned parcels", Doc: "Shows the building and unit label of each parcel, never who lives there."}, s.listCourierParcels)
	register(s, route{ID: "listCourierReturns", Method: get, Path: "/v1/courier/returns", Tag: tagCourier,
		Roles: courierOnly, Summary: "List returns to pick up", Doc: "Returns residents registered for the caller's carrier at buildings that allow it, oldest first: building, unit label and where the parcel was left, never who lives there. A return's tracking number opens the building's door like a parcel's."}, s.listCourierReturns)
	register(s, route{ID: "collectReturn", Method: post, Path: "/v1/courier/returns/{tracking_number}/collection", Tag: tagCourier,
		Roles: courierOnly, Errors: []int{conflict}, Summary: "Mark a return collected", Doc: "The resident is emailed that it was collected. Collecting it again is 409; another carrier's return is 404."}, s.collectReturn)
	register(s, route{ID: "deliverParcel", Method: post, Path: "/v1/courier/parcels/{tracking_number}/delivery", Tag: tagCourier,
		Roles: courierOnly, Errors: []int{conflict}, Summary: "Mark a parcel delivered", Doc: "Only parcels assigned to the calling courier and out for delivery. Marking it again is 409 with reason parcel_already_delivered; retry safely with an Idempotency-Key, which replays the first answer. Delivery is not tied to an entry: a courier refused at the door may still hand the parcel over, and the audit log shows both."}, s.deliverParcel)

	// Webhooks.
	register(s, route{ID: "createCarrierWebhook", Method: post, Path: "/v1/carriers/{carrier_id}/webhooks", Tag: tagWebhooks, Status: created,
		Roles: carrierOwners, Summary: "Add a carrier's webhook endpoint",
		Doc: "Doorman POSTs the carrier's events there (its couriers' access granted or denied, doors opened for its grants, its parcels delivered, its pickups collected), signed per Standard Webhooks. The signing secret is in this answer only. A URL that is not https or whose host resolves to a private, loopback, link-local, multicast or CGNAT address is refused (422)."}, s.createCarrierWebhook)
	register(s, route{ID: "listCarrierWebhooks", Method: get, Path: "/v1/carriers/{carrier_id}/webhooks", Tag: tagWebhooks,
		Roles: carrierOwners, Summary: "List a carrier's webhook endpoints"}, s.listCarrierWebhooks)
	register(s, route{ID: "createBuildingWebhook", Method: post, Path: "/v1/buildings/{building_id}/webhooks", Tag: tagWebhooks, Status: created,
		Roles: managers, Summary: "Add a building's webhook endpoint",
		Doc: "Doorman POSTs the building's events there (access, doors opened, deliveries, pickups, devices offline and back online), signed per Standard Webhooks, without the couriers' identity. The signing secret is in this answer only. URLs are refused as for carriers' endpoints."}, s.createBuildingWebhook)
	register(s, route{ID: "listBuildingWebhooks", Method: get, Path: "/v1/buildings/{building_id}/webhooks", Tag: tagWebhooks,
		Roles: managers, Summary: "List a building's webhook endpoints"}, s.listBuildingWebhooks)
	register(s, route{ID: "getWebhook", Method: get, Path: "/v1/webhooks/{endpoint_id}", Tag: tagWebhooks,
		Roles: buildingReader, Summary: "Get a webhook endpoint", Doc: "Carriers see their own endpoints, managers their buildings', operators all."}, s.getWebhook)
	register(s, route{ID: "updateWebhook", Method: patch, Path: "/v1/webhooks/{endpoint_id}", Tag: tagWebhooks,
		Roles: buildingReader, Summary: "Update a webhook endpoint", Doc: "Changes the fields given."}, s.updateWebhook)
	register(s, route{ID: "deleteWebhook", Method: del, Path: "/v1/webhooks/{endpoint_id}", Tag: tagWebhooks, Status: none,
		Roles: buildingReader, Summary: "Delete a webhook endpoint", Doc: "Calls still queued for it are dropped."}, s.deleteWebhook)
	register(s, route{ID: "rotateWebhookSecret", Method: post, Path: "/v1/webhooks/{endpoint_id}/secret-rotations", Tag: tagWebhooks, Status: created,
		Roles: buildingReader, Summary: "Rotate a webhook endpoint's secret",
		Doc: "Makes a new signing secret, in this answer only. For 24 hours calls carry the signatures of both the new and the old secret, so the receiver can switch without missing a call."}, s.rotateWebhookSecret)
	register(s, route{ID: "listWebhookDeliveries", Method: get, Path: "/v1/webhooks/{endpoint_id}/deliveries", Tag: tagWebhooks,
		Roles: buildingReader, Summary: "List a webhook endpoint's recent delivery attempts", Doc: "Newest first: the receiver's status code, or the error, and how long the call took."}, s.listWebhookDeliveries)

	// Audit.
	register(s, route{ID: "listAudit", Method: get, Path: "/v1/audit", Tag: tagAudit,
		Roles: everyone, Errors: []int{http.StatusNotFound}, Summary: "List audit entries",
		Doc: "Newest first. Operators see everything, managers the chains of their buildings, carriers the entries of their carrier, couriers their own. Carriers and couriers are shown entries without chain, seq, prev_hash and hash, and denial reasons as they were told them."}, s.listAudit)
	register(s, route{ID: "verifyAudit", Method: get, Path: "/v1/audit/verification", Tag: tagAudit,
		Roles: operatorOnly, Summary: "Verify the audit chains", Doc: "Checks every hash chain and, against this node's signed checkpoints, every chain's history, and lists the first break of each broken chain."}, s.verifyAudit)
	register(s, route{ID: "getAuditCheckpoint", Method: get, Path: "/v1/audit/chains/{chain}/checkpoint", Tag: tagAudit,
		Roles: logReaders, Errors: []int{http.StatusNotFound}, Summary: "Get a chain's latest signed checkpoint",
		Doc: "A C2SP tlog-checkpoint signed note: origin `doorman.audit/<chain>`, tree size and RFC 6962 root hash, signed with the deployment's audit checkpoint key (`doorman-audit`), which is not in the database. Keep it: a later checkpoint must prove consistent with it. Operators any chain, managers their buildings' chains, residents their building's; 404 before the first checkpoint."}, s.getAuditCheckpoint)
	register(s, route{ID: "getAuditConsistency", Method: get, Path: "/v1/audit/chains/{chain}/consistency", Tag: tagAudit,
		Roles: logReaders, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}, Summary: "Prove a chain's tree of one size a prefix of a larger one",
		Doc: "An RFC 6962 consistency proof from size `from` to size `to`, to be checked against two signed checkpoints."}, s.getAuditConsistency)
	register(s, route{ID: "getAuditInclusion", Method: get, Path: "/v1/audit/entries/{entry_id}/inclusion", Tag: tagAudit,
		Roles: logReaders, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}, Summary: "Prove an entry is in its chain",
		Doc: "An RFC 6962 inclusion proof of the entry (leaf: the RFC 6962 leaf hash of its canonical encoding) in its chain's tree of `size` entries, to be checked against a signed checkpoint of that size. Operators and the managers and residents of the entry's building: a proof tells the entry's position and the chain's size, which carriers and couriers are not shown."}, s.getAuditInclusion)

	// huma describes raw bodies as binary; the CSV import takes text.
	csv := s.api.OpenAPI().Paths["/v1/buildings/{building_id}/units/import"].Post.RequestBody.Content["text/csv"]
	csv.Schema = &huma.Schema{Type: huma.TypeString, Description: "CSV with the header label,floor and one unit per line.",
		Examples: []any{"label,floor\n1A,1\n1B,1\n2A,2\n"}}
}
