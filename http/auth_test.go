package http

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

func TestBearerTokens(t *testing.T) {
	f := newFixture(t)
	me := func(header string) *response {
		return f.do(request{Method: "GET", Path: "/v1/me", Header: map[string]string{"Authorization": header}})
	}
	valid := f.tokens[pCarrierX]
	for name, header := range map[string]string{
		"missing":           "",
		"basic scheme":      "Basic " + valid,
		"no scheme":         valid,
		"unknown prefix":    "Bearer xyz_" + valid[4:],
		"prefix only":       "Bearer dmk_",
		"truncated":         "Bearer " + valid[:len(valid)-1],
		"extended":          "Bearer " + valid + "A",
		"other role prefix": "Bearer " + doorman.TokenOperator + valid[4:],
		"huge":              "Bearer dmk_" + strings.Repeat("A", 5000),
		"hash as token":     "Bearer " + doorman.HashToken(valid),
	} {
		t.Run(name, func(t *testing.T) {
			res := me(header)
			if res.Status != 401 {
				t.Fatalf("status %d; body %s", res.Status, res.Body)
			}
			if p := res.Problem(t); p.Code != doorman.EUNAUTHORIZED {
				t.Fatalf("code %q", p.Code)
			}
			if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if res := me("bearer " + valid); res.Status != 200 {
		t.Fatalf("lower-case scheme refused: %d", res.Status)
	}
	got := decode[app.Me](t, f.must(200, request{Method: "GET", Path: "/v1/me", Token: valid}))
	if got.Role != doorman.RoleCarrier || got.CarrierID != f.carrierX.ID {
		t.Fatalf("me %+v", got)
	}
	got = decode[app.Me](t, f.must(200, request{Method: "GET", Path: "/v1/me", Token: f.tokens[pManagerA]}))
	if got.Role != doorman.RoleManager || len(got.BuildingIDs) != 1 || got.BuildingIDs[0] != f.buildingA.ID {
		t.Fatalf("me %+v", got)
	}
}

func TestAPIKeyLifecycle(t *testing.T) {
	f := newFixture(t)
	op := f.tokens[pOperator]
	path := "/v1/carriers/" + f.carrierX.ID + "/api-keys"
	k := decode[NewCredential](t, f.must(201, request{Method: "POST", Path: path, Token: op, Body: map[string]any{"name": "ci"}}))
	if !strings.HasPrefix(k.Token, doorman.TokenCarrier) || !strings.HasPrefix(k.Token, k.Credential.Prefix) || len(k.Credential.Prefix) >= len(k.Token) {
		t.Fatalf("key %+v", k)
	}
	f.must(200, request{Method: "GET", Path: "/v1/me", Token: k.Token})

	list := f.must(200, request{Method: "GET", Path: path, Token: f.tokens[pCarrierX]})
	if bytes.Contains(list.Body, []byte(k.Token)) || bytes.Contains(list.Body, []byte(doorman.HashToken(k.Token))) {
		t.Fatal("a listing shows a token or its hash")
	}
	keys := decode[Page[*doorman.Credential]](t, list)
	found := false
	for _, c := range keys.Items {
		found = found || (c.ID == k.Credential.ID && c.Prefix == k.Credential.Prefix)
	}
	if !found {
		t.Fatalf("new key not listed by prefix: %s", list.Body)
	}

	// Carrier Y cannot revoke X's key; X can.
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "DELETE", Path: "/v1/carriers/" + f.carrierY.ID + "/api-keys/" + k.Credential.ID, Token: f.tokens[pCarrierY]})
	f.must(200, request{Method: "GET", Path: "/v1/me", Token: k.Token})
	f.must(204, request{Method: "DELETE", Path: path + "/" + k.Credential.ID, Token: f.tokens[pCarrierX]})
	f.expectProblem(401, doorman.EUNAUTHORIZED, request{Method: "GET", Path: "/v1/me", Token: k.Token})
	// A key of X revoked through Y's path is not found.
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "DELETE", Path: "/v1/carriers/" + f.carrierY.ID + "/api-keys/" + k.Credential.ID, Token: op})
}

func TestManagerLogin(t *testing.T) {
	f := newFixture(t)
	login := func(email, password string) *response {
		return f.do(request{Method: "POST", Path: "/v1/sessions", Body: map[string]any{"email": email, "password": password}})
	}
	s := decode[Session](t, f.must(201, request{Method: "POST", Path: "/v1/sessions", Body: map[string]any{"email": "MANAGER.A@example.com", "password": testPassword}}))
	if s.Credential.ExpiresAt == nil || s.Credential.ExpiresAt.Sub(f.clock.Now()) != doorman.ManagerSessionTTL {
		t.Fatalf("session expiry %v", s.Credential.ExpiresAt)
	}
	if bytes.Contains(mustJSON(t, s), []byte("argon2")) {
		t.Fatal("the password hash is shown")
	}

	wrong := login(f.managerAEmail, "not the password")
	unknown := login("nobody@example.com", "not the password")
	if wrong.Status != 401 || unknown.Status != 401 || !bytes.Equal(wrong.Body, unknown.Body) {
		t.Fatalf("wrong password and unknown email answer differently:\n%s\n%s", wrong.Body, unknown.Body)
	}

	// Ten failures lock the email out, even for the right password.
	for i := 0; i < app.SignInPairFailures-1; i++ {
		if r := login(f.managerAEmail, "guess"); r.Status != 401 {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	r := login(f.managerAEmail, testPassword)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures: %d %s", app.SignInPairFailures, r.Status, r.Body)
	}
	if p := r.Problem(t); p.Code != doorman.ETOOMANYREQUEST {
		t.Fatalf("code %q", p.Code)
	}
	f.clock.Advance(app.SignInWindow)
	f.must(201, request{Method: "POST", Path: "/v1/sessions", Body: map[string]any{"email": f.managerAEmail, "password": testPassword}})

	// The session expires after 12 hours.
	tok := s.Token
	f.must(200, request{Method: "GET", Path: "/v1/me", Token: tok})
	f.clock.Advance(doorman.ManagerSessionTTL)
	f.expectProblem(401, doorman.EUNAUTHORIZED, request{Method: "GET", Path: "/v1/me", Token: tok})
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	tok := f.freshToken(pManagerA)
	f.must(204, request{Method: "DELETE", Path: "/v1/sessions/current", Token: tok})
	f.expectProblem(401, doorman.EUNAUTHORIZED, request{Method: "GET", Path: "/v1/me", Token: tok})
	f.must(200, request{Method: "GET", Path: "/v1/me", Token: f.tokens[pManagerA]})
}

func TestInvites(t *testing.T) {
	f := newFixture(t)
	op := f.tokens[pOperator]
	accept := func(body map[string]any) *response {
		return f.do(request{Method: "POST", Path: "/v1/invites/accept", Body: body})
	}
	inv := decode[app.NewInvite](t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingB.ID + "/invites", Token: op,
		Body: map[string]any{"email": "carol@example.com"}}))
	if !strings.HasPrefix(inv.Token, doorman.TokenInvite) || !inv.Invite.ExpiresAt.Equal(f.clock.Now().Add(doorman.InviteTTL)) {
		t.Fatalf("invite %+v: expires %v after creation", inv.Invite, inv.Invite.ExpiresAt.Sub(inv.Invite.CreatedAt))
	}
	for _, body := range []map[string]any{
		{"token": inv.Token, "name": "Carol", "password": "short"},
		{"token": inv.Token, "password": testPassword},
	} {
		if r := accept(body); r.Status != 422 {
			t.Fatalf("%v: %d %s", body, r.Status, r.Body)
		}
	}
	if r := accept(map[string]any{"token": "dmi_wrong", "name": "Carol", "password": testPassword}); r.Status != 404 {
		t.Fatalf("unknown token: %d", r.Status)
	}
	f.must(201, request{Method: "POST", Path: "/v1/invites/accept", Body: map[string]any{"token": inv.Token, "name": "Carol", "password": testPassword}})
	if r := accept(map[string]any{"token": inv.Token, "name": "Mallory", "password": testPassword}); r.Status != 404 {
		t.Fatalf("token used twice: %d %s", r.Status, r.Body)
	}
	s := decode[Session](t, f.must(201, request{Method: "POST", Path: "/v1/sessions", Body: map[string]any{"email": "carol@example.com", "password": testPassword}}))
	me := decode[app.Me](t, f.must(200, request{Method: "GET", Path: "/v1/me", Token: s.Token}))
	if len(me.BuildingIDs) != 1 || me.BuildingIDs[0] != f.buildingB.ID {
		t.Fatalf("carol manages %v", me.BuildingIDs)
	}

	// An existing manager joins a second building without a new password.
	inv2 := decode[app.NewInvite](t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingA.ID + "/invites", Token: op,
		Body: map[string]any{"email": "carol@example.com"}}))
	f.expectProblem(409, doorman.ECONFLICT, request{Method: "POST", Path: "/v1/invites/accept", Body: map[string]any{"token": inv2.Token, "name": "Carol", "password": "another password!"}})
	f.must(201, request{Method: "POST", Path: "/v1/invites/accept", Body: map[string]any{"token": inv2.Token}})
	me = decode[app.Me](t, f.must(200, request{Method: "GET", Path: "/v1/me", Token: s.Token}))
	if len(me.BuildingIDs) != 2 {
		t.Fatalf("carol manages %v", me.BuildingIDs)
	}

	// Invitations expire.
	inv3 := decode[app.NewInvite](t, f.must(201, request{Method: "POST", Path: "/v1/buildings/" + f.buildingA.ID + "/invites", Token: op,
		Body: map[string]any{"email": "dave@example.com"}}))
	f.clock.Advance(doorman.InviteTTL + time.Second)
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "POST", Path: "/v1/invites/accept", Body: map[string]any{"token": inv3.Token, "name": "Dave", "password": testPassword}})

	f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: "/v1/buildings/" + f.buildingA.ID + "/invites", Token: op,
		Body: map[string]any{"email": "not an email"}})
}

func TestCourierSessions(t *testing.T) {
	f := newFixture(t)
	cx := f.tokens[pCarrierX]
	path := "/v1/carriers/" + f.carrierX.ID + "/couriers/cx-1/sessions"

	s := decode[NewCredential](t, f.must(201, request{Method: "POST", Path: path, Token: cx, Body: map[string]any{}}))
	if got := s.Credential.ExpiresAt.Sub(f.clock.Now()); got != doorman.CourierSessionDefaultTTL {
		t.Fatalf("default ttl %v", got)
	}
	for _, ttl := range []int{0, 59, 43201, -5} {
		if ttl == 0 {
			continue
		}
		f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: path, Token: cx, Body: map[string]any{"ttl_seconds": ttl}})
	}
	short := decode[NewCredential](t, f.must(201, request{Method: "POST", Path: path, Token: cx, Body: map[string]any{"ttl_seconds": 60}}))
	f.must(200, request{Method: "GET", Path: "/v1/courier/parcels", Token: short.Token})
	f.clock.Advance(time.Minute)
	f.expectProblem(401, doorman.EUNAUTHORIZED, request{Method: "GET", Path: "/v1/courier/parcels", Token: short.Token})

	// The carrier revokes a session; carrier Y cannot.
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "DELETE", Path: "/v1/carriers/" + f.carrierY.ID + "/couriers/cx-1/sessions/" + s.Credential.ID, Token: f.tokens[pCarrierY]})
	f.must(200, request{Method: "GET", Path: "/v1/courier/parcels", Token: s.Token})
	f.must(204, request{Method: "DELETE", Path: path + "/" + s.Credential.ID, Token: cx})
	f.expectProblem(401, doorman.EUNAUTHORIZED, request{Method: "GET", Path: "/v1/courier/parcels", Token: s.Token})

	// Suspended couriers get no session.
	f.must(200, request{Method: "PUT", Path: "/v1/carriers/" + f.carrierX.ID + "/couriers/cx-1", Token: cx, Body: map[string]any{"name": "C", "status": "suspended"}})
	f.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: path, Token: cx, Body: map[string]any{}})
	// Carrier Y cannot mint sessions for X's courier.
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "POST", Path: "/v1/carriers/" + f.carrierX.ID + "/couriers/cx-1/sessions", Token: f.tokens[pCarrierY], Body: map[string]any{}})
}
