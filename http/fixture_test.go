package http

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// Principals of the authorisation tests.
const (
	pOperator = "operator"
	pManagerA = "managerA"
	pManagerB = "managerB"
	pCarrierX = "carrierX"
	pCarrierY = "carrierY"
	pCourierX = "courierX"
	pCourierY = "courierY"
	// pResidentA is a resident of building A with a session from a magic
	// link, as the resident pages use: no operation of the API is theirs.
	pResidentA = "residentA"
	pResidentB = "residentB"
	pNone      = "none"
	pGarbage   = "garbage"
)

var principals = []string{pOperator, pManagerA, pManagerB, pCarrierX, pCarrierY, pCourierX, pCourierY, pResidentA, pResidentB, pNone, pGarbage}

// principalRole is the role behind each principal ("" without a valid one).
var principalRole = map[string]string{
	pOperator: doorman.RoleOperator,
	pManagerA: doorman.RoleManager, pManagerB: doorman.RoleManager,
	pCarrierX: doorman.RoleCarrier, pCarrierY: doorman.RoleCarrier,
	pCourierX: doorman.RoleCourier, pCourierY: doorman.RoleCourier,
	pResidentA: doorman.RoleResident, pResidentB: doorman.RoleResident,
}

const testPassword = "correct horse battery staple"

// fixture is a small world: building A (managed by managerA, allowing
// carrier X, with a door, a unit and a parcel of X assigned to courier X's
// courier) and building B (managed by managerB); carriers X, Y and Z.
type fixture struct {
	*env
	tokens map[string]string

	buildingA, buildingB *doorman.Building
	carrierX, carrierY   *doorman.Carrier
	carrierZ             *doorman.Carrier
	doorA, doorA2        *doorman.Door
	doorB                *doorman.Door
	unitA, unitB         *doorman.Unit
	courierX             *doorman.Courier
	courierY             *doorman.Courier
	parcelX              *doorman.Parcel
	managerAEmail        string

	seq *atomic.Int64
}

// with returns a view of the fixture that reports to t (for subtests).
func (f *fixture) with(t testing.TB) *fixture {
	c := *f
	c.env = f.env.with(t)
	return &c
}

// next returns a number unique within the fixture.
func (f *fixture) next() int64 { return f.seq.Add(1) }

func newFixture(t testing.TB, opts ...envOption) *fixture {
	t.Helper()
	f := &fixture{env: newEnv(t, opts...), tokens: map[string]string{}, seq: &atomic.Int64{}}
	op := f.credential(doorman.RoleOperator, "", "")
	f.tokens[pOperator] = op
	f.tokens[pGarbage] = doorman.TokenCarrier + "not-a-real-token-at-all-0123456789abcdefghij"

	f.buildingA = f.createBuilding(op, "A")
	f.buildingB = f.createBuilding(op, "B")
	// No notice period: the fixture's carriers are let in at once (the
	// notice rule has its own tests in access/).
	for _, b := range []*doorman.Building{f.buildingA, f.buildingB} {
		if err := f.store.SetNoticePeriod(context.Background(), b.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	f.carrierX = f.createCarrier(op, "Carrier X")
	f.carrierY = f.createCarrier(op, "Carrier Y")
	f.carrierZ = f.createCarrier(op, "Carrier Z")
	f.tokens[pCarrierX] = f.apiKey(op, f.carrierX.ID)
	f.tokens[pCarrierY] = f.apiKey(op, f.carrierY.ID)

	f.managerAEmail = "manager.a@example.com"
	f.tokens[pManagerA] = f.manager(op, f.buildingA.ID, f.managerAEmail)
	f.tokens[pManagerB] = f.manager(op, f.buildingB.ID, "manager.b@example.com")

	mA, mB := f.tokens[pManagerA], f.tokens[pManagerB]
	f.must(204, request{Method: "PUT", Path: "/v1/buildings/" + f.buildingA.ID + "/carriers/" + f.carrierX.ID, Token: mA})
	f.must(204, request{Method: "PUT", Path: "/v1/buildings/" + f.buildingB.ID + "/carriers/" + f.carrierY.ID, Token: mB})
	f.doorA = decode[*doorman.Door](t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingA.ID + "/doors", Token: mA,
		Body: map[string]any{"name": "Front"}}))
	f.doorA2 = decode[*doorman.Door](t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingA.ID + "/doors", Token: mA,
		Body: map[string]any{"name": "Back"}}))
	f.doorB = decode[*doorman.Door](t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingB.ID + "/doors", Token: mB,
		Body: map[string]any{"name": "Front"}}))
	f.unitA = decode[*doorman.Unit](t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingA.ID + "/units", Token: mA,
		Body: map[string]any{"label": "4B", "floor": "4"}}))
	f.unitB = decode[*doorman.Unit](t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingB.ID + "/units", Token: mB,
		Body: map[string]any{"label": "1A"}}))

	f.courierX = f.putCourier(f.tokens[pCarrierX], f.carrierX.ID, "cx-1")
	f.courierY = f.putCourier(f.tokens[pCarrierY], f.carrierY.ID, "cy-1")
	sess := decode[NewCredential](t, f.must(201, request{Method: "POST",
		Path:  "/v1/carriers/" + f.carrierX.ID + "/couriers/cx-1/sessions",
		Token: f.tokens[pCarrierX], Body: map[string]any{}}))
	f.tokens[pCourierX] = sess.Token
	sess = decode[NewCredential](t, f.must(201, request{Method: "POST",
		Path:  "/v1/carriers/" + f.carrierY.ID + "/couriers/cy-1/sessions",
		Token: f.tokens[pCarrierY], Body: map[string]any{}}))
	f.tokens[pCourierY] = sess.Token

	f.parcelX = f.parcel(f.carrierX.ID, f.buildingA.ID, "4B", "cx-1", "TRK-X-1")
	return f
}

func (f *fixture) createBuilding(token, name string) *doorman.Building {
	f.t.Helper()
	return decode[*doorman.Building](f.t, f.must(201, request{Method: "POST", Path: "/v1/buildings", Token: token,
		Body: map[string]any{"name": "Building " + name, "address": name + " Street 1, Berlin", "timezone": "Europe/Berlin"}}))
}

func (f *fixture) createCarrier(token, name string) *doorman.Carrier {
	f.t.Helper()
	return decode[*doorman.Carrier](f.t, f.must(201, request{Method: "POST", Path: "/v1/carriers", Token: token,
		Body: map[string]any{"name": name}}))
}

func (f *fixture) apiKey(token, carrierID string) string {
	f.t.Helper()
	k := decode[NewCredential](f.t, f.must(201, request{Method: "POST", Path: "/v1/carriers/" + carrierID + "/api-keys", Token: token,
		Body: map[string]any{"name": "test"}}))
	return k.Token
}

// manager invites, accepts and logs in a manager of a building, returning
// the session token.
func (f *fixture) manager(opToken, buildingID, email string) string {
	f.t.Helper()
	inv := decode[app.NewInvite](f.t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + buildingID + "/invites", Token: opToken,
		Body: map[string]any{"email": email}}))
	f.must(201, request{Method: "POST", Path: "/v1/invites/accept",
		Body: map[string]any{"token": inv.Token, "name": "Manager", "password": testPassword}})
	s := decode[Session](f.t, f.must(201, request{Method: "POST", Path: "/v1/sessions",
		Body: map[string]any{"email": email, "password": testPassword}}))
	return s.Token
}

func (f *fixture) putCourier(token, carrierID, ext string) *doorman.Courier {
	f.t.Helper()
	until := f.clock.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339)
	return decode[*doorman.Courier](f.t, f.must(201, request{Method: "PUT", Path: "/v1/carriers/" + carrierID + "/couriers/" + ext,
		Token: token, Body: map[string]any{"name": "Courier " + ext, "background_check_verified_until": until}}))
}

// parcel manifests an out-for-delivery parcel through the store.
func (f *fixture) parcel(carrierID, buildingID, unit, courierExt, tracking string) *doorman.Parcel {
	f.t.Helper()
	res, err := f.store.UpsertParcels(context.Background(), carrierID, []doorman.ParcelInput{{
		TrackingNumber: tracking, BuildingID: buildingID, UnitLabel: unit, CourierExternalID: courierExt, Status: doorman.ParcelOutForDelivery,
	}})
	if err != nil {
		f.t.Fatalf("manifest %s: %v %+v", tracking, err, res)
	}
	return res[0].Parcel
}

// freshUnit makes a unit of building A that nothing refers to.
func (f *fixture) freshUnit() *doorman.Unit {
	f.t.Helper()
	u := &doorman.Unit{BuildingID: f.buildingA.ID, Label: fmt.Sprintf("U%d", f.next())}
	if err := f.store.CreateUnits(context.Background(), []*doorman.Unit{u}); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// freshResident makes a resident of building A.
func (f *fixture) freshResident() *doorman.Resident {
	f.t.Helper()
	r := &doorman.Resident{BuildingID: f.buildingA.ID, UnitID: f.unitA.ID, Name: "Res", Email: fmt.Sprintf("r%d@example.com", f.next())}
	if err := f.store.CreateResident(context.Background(), r); err != nil {
		f.t.Fatal(err)
	}
	return r
}

// freshCredential stores a credential and returns its ID.
func (f *fixture) freshCredential(role, subjectID, carrierID string) string {
	f.t.Helper()
	tok := f.credential(role, subjectID, carrierID)
	c, err := f.store.CredentialByTokenHash(context.Background(), doorman.HashToken(tok), f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return c.ID
}

// freshToken returns a new token acting as the principal.
func (f *fixture) freshToken(principal string) string {
	f.t.Helper()
	ctx := context.Background()
	switch principal {
	case pNone:
		return ""
	case pGarbage:
		return f.tokens[pGarbage]
	case pCourierX:
		return f.credential(doorman.RoleCourier, f.courierX.ID, f.carrierX.ID)
	}
	c, err := f.store.CredentialByTokenHash(ctx, doorman.HashToken(f.tokens[principal]), f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return f.credential(c.Role, c.SubjectID, c.CarrierID)
}

// freshInvite makes an invitation to building A and returns its token.
func (f *fixture) freshInvite() string {
	f.t.Helper()
	token, hash := doorman.NewToken(doorman.TokenInvite)
	now := f.clock.Now()
	inv := &doorman.ManagerInvite{ID: doorman.NewID(doorman.PrefixInvite), BuildingID: f.buildingA.ID,
		Email: fmt.Sprintf("new%d@example.com", f.next()), TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.store.CreateInvite(context.Background(), inv); err != nil {
		f.t.Fatal(err)
	}
	return token
}

// countParcels counts a carrier's parcels through the store.
func (f *fixture) countParcels(carrierID string) int {
	f.t.Helper()
	items, _, err := f.store.ListParcels(context.Background(), doorman.ParcelFilter{CarrierID: carrierID}, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(items)
}

// countUnits counts a building's units through the store.
func (f *fixture) countUnits(buildingID string) int {
	f.t.Helper()
	items, _, err := f.store.ListUnits(context.Background(), buildingID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(items)
}

// freshWebhook stores an endpoint of the carrier or building f names.
func (f *fixture) freshWebhook(owner doorman.WebhookFilter) *doorman.WebhookEndpoint {
	f.t.Helper()
	e := &doorman.WebhookEndpoint{CarrierID: owner.CarrierID, BuildingID: owner.BuildingID, URL: "https://93.184.216.34/hook",
		EventTypes: []string{doorman.WebhookAccessGranted}, Enabled: true, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	if err := f.store.CreateWebhookEndpoint(context.Background(), e); err != nil {
		f.t.Fatal(err)
	}
	return e
}

// registerReturn registers a return of the carrier at building A, for a
// new resident of unit A.
func (f *fixture) registerReturn(carrierID, tracking string) *doorman.Return {
	f.t.Helper()
	ctx := context.Background()
	res := &doorman.Resident{BuildingID: f.buildingA.ID, UnitID: f.unitA.ID, Name: "Ret", Email: fmt.Sprintf("ret-%d@example.org", f.next())}
	if err := f.store.CreateResident(ctx, res); err != nil {
		f.t.Fatal(err)
	}
	r := &doorman.Return{BuildingID: f.buildingA.ID, UnitID: f.unitA.ID, ResidentID: res.ID, CarrierID: carrierID,
		TrackingNumber: tracking, Place: doorman.ReturnPlaceLobby}
	if err := f.store.RegisterReturn(ctx, r); err != nil {
		f.t.Fatal(err)
	}
	return r
}

// addResidents gives buildings A and B a resident each, with a session
// (pResidentA, pResidentB); the other tests' fixture has none.
func (f *fixture) addResidents() {
	f.t.Helper()
	for p, r := range map[string]*doorman.Resident{
		pResidentA: {BuildingID: f.buildingA.ID, UnitID: f.unitA.ID, Name: "Ana", Email: "ana@example.org"},
		pResidentB: {BuildingID: f.buildingB.ID, UnitID: f.unitB.ID, Name: "Olga", Email: "olga@example.org"},
	} {
		if err := f.store.CreateResident(context.Background(), r); err != nil {
			f.t.Fatal(err)
		}
		f.tokens[p] = f.credential(doorman.RoleResident, r.ID, "")
	}
}
