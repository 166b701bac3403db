package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// webRoute is one page or form of the site in the matrix: its method and
// path with {id} (the Elm building) and the other placeholders filled by
// the world's objects, the roles that may use it, and how its owner's
// answer is judged.
type webRoute struct {
	method, path string
	roles        []string
	form         url.Values
	// ownerMay404: the object named is made up (there is none to use),
	// so its owner may be told it is not found.
	ownerMay404 bool
	// once: the route removes its object, so only the first principal
	// allowed to finds it.
	once bool
}

// TestWebAuthorizationMatrix puts every page and form of the site behind
// a session (the public ones — sign-in pages, magic links, invitations,
// transparency pages, unsubscribing — excepted: they take no session)
// before each principal: an operator, the managers of two buildings, the
// couriers of two carriers, a carrier's API key presented as a session,
// the residents of the two buildings, and a visitor. Only the allowed
// cells succeed; a visitor is sent to sign in (GET) or told the session
// ended (POST); a principal of another role is refused the same way
// whether the object exists or not; a principal of the right role but
// another tenant (the other building's manager or resident, the other
// carrier's courier) gets exactly the answer a made-up object gets: the
// objects of others do not exist for them.
func TestWebAuthorizationMatrix(t *testing.T) {
	s := newCourierSite(t)
	ctx := context.Background()
	sys := doorman.NewContextWithPrincipal(ctx, doorman.System())

	// The world: Elm is the building of the routes; Oak is the other
	// tenant's.
	elmUnit := &doorman.Unit{BuildingID: s.elm.ID, Label: "9Z"}
	must(t, s.app.Buildings.CreateUnit(sys, elmUnit))
	must(t, s.app.Buildings.CreateResident(sys, &doorman.Resident{BuildingID: s.elm.ID, UnitID: elmUnit.ID, Name: "Ana", Email: "ana@example.org"}))
	// The resident the console removes is another than the one signed in.
	elmRes := &doorman.Resident{BuildingID: s.elm.ID, UnitID: elmUnit.ID, Name: "Bo", Email: "bo@example.org"}
	must(t, s.app.Buildings.CreateResident(sys, elmRes))
	oakUnit := &doorman.Unit{BuildingID: s.oak.ID, Label: "9Z"}
	must(t, s.app.Buildings.CreateUnit(sys, oakUnit))
	must(t, s.app.Buildings.CreateResident(sys, &doorman.Resident{BuildingID: s.oak.ID, UnitID: oakUnit.ID, Name: "Olga", Email: "olga@example.org"}))
	entry := &doorman.AuditEntry{Chain: s.elm.ID, BuildingID: s.elm.ID, At: time.Now().UTC(), Action: doorman.ActionAccessGranted}
	must(t, s.store.AppendAudit(ctx, entry))
	s.checkpoint()
	hook := &doorman.WebhookEndpoint{BuildingID: s.elm.ID, URL: "https://93.184.216.34/elm", EventTypes: []string{doorman.WebhookAccessGranted}, Enabled: true}
	_, err := s.app.Webhooks.CreateEndpoint(sys, hook)
	must(t, err)
	op, _, err := s.app.Credentials.CreateOperatorToken(sys, "matrix")
	must(t, err)
	apiKey, _, err := s.app.Credentials.CreateAPIKey(sys, s.allowed.ID, "matrix")
	must(t, err)
	_, key, err := s.app.Credentials.CreateAPIKey(sys, s.allowed.ID, "to revoke")
	must(t, err)
	resident := func(email string) string {
		link, err := s.app.Residents.CreateLink(sys, email, "http://doorman.test")
		must(t, err)
		rec := s.do(request{method: "POST", path: "/resident/link", form: url.Values{"t": {link[strings.Index(link, "t=")+2:]}}})
		if c := sessionCookie(rec); c != "" {
			return c
		}
		t.Fatalf("resident %s signs in: %d", email, rec.Code)
		return ""
	}

	type principal struct {
		name, session, role string
		// tenant tells whether the principal's own objects are Elm's
		// (the routes' objects): false for the other tenants.
		tenant bool
	}
	principals := []principal{
		{"visitor", "", "", false},
		{"carrier key", apiKey, doorman.RoleCarrier, true},
		{"courier of Stranger", s.courier["Stranger"], doorman.RoleCourier, false},
		{"courier of Allowed", s.courier["Allowed"], doorman.RoleCourier, true},
		{"resident of Oak", resident("olga@example.org"), doorman.RoleResident, false},
		{"resident of Elm", resident("ana@example.org"), doorman.RoleResident, true},
		{"manager of Oak", s.manager(s.oak, "oak@example.org"), doorman.RoleManager, false},
		{"operator", op, doorman.RoleOperator, true},
		{"manager of Elm", s.manager(s.elm, "elm@example.org"), doorman.RoleManager, true},
	}

	managers := []string{doorman.RoleManager, doorman.RoleOperator}
	manager := []string{doorman.RoleManager}
	operator := []string{doorman.RoleOperator}
	courier := []string{doorman.RoleCourier}
	res := []string{doorman.RoleResident}
	madeUp := func(prefix string) string { return doorman.NewID(prefix) }
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	b := "/console/buildings/{id}"
	routes := []webRoute{
		{method: "GET", path: "/console", roles: managers},
		{method: "GET", path: "/console/account", roles: manager},
		{method: "GET", path: b, roles: managers},
		{method: "GET", path: b + "/units", roles: managers},
		{method: "GET", path: b + "/doors", roles: managers},
		{method: "GET", path: b + "/doors/{door}/sticker", roles: managers},
		{method: "GET", path: b + "/carriers", roles: managers},
		{method: "GET", path: b + "/alerts", roles: managers},
		{method: "GET", path: b + "/webhooks", roles: managers},
		{method: "GET", path: b + "/mail", roles: managers},
		{method: "GET", path: b + "/transparency", roles: managers},
		{method: "GET", path: b + "/activity", roles: managers},
		{method: "GET", path: b + "/audit", roles: managers},
		{method: "GET", path: b + "/audit.csv", roles: managers},
		{method: "GET", path: b + "/checkpoint", roles: managers},
		{method: "GET", path: b + "/charts", roles: managers},
		{method: "GET", path: b + "/audit/{entry}/proof", roles: managers},
		{method: "GET", path: b + "/parcels/{parcel}/photo", roles: managers, ownerMay404: true},
		{method: "GET", path: "/operator", roles: operator},
		{method: "GET", path: "/operator/audit", roles: operator},
		{method: "GET", path: "/operator/buildings/{id}", roles: operator},
		{method: "GET", path: "/operator/carriers/{carrier}", roles: operator},
		{method: "POST", path: "/resident/returns", roles: res, form: form("carrier", "{carrier}", "tracking", "RET1", "place", "lobby")},
		{method: "GET", path: "/courier", roles: courier},
		{method: "GET", path: "/courier/doors/{door}", roles: courier},
		{method: "POST", path: "/courier/doors/{door}/open", roles: courier, form: form("parcel", "{tn}")},
		{method: "POST", path: "/courier/deliver", roles: courier, form: form("tracking", "{tn}")},
		{method: "POST", path: "/courier/returns/collect", roles: courier, form: form("tracking", "{ret}")},
		{method: "GET", path: "/resident", roles: res},
		{method: "GET", path: "/resident/returns", roles: res},
		{method: "GET", path: "/resident/delete", roles: res},
		{method: "GET", path: "/resident/entries/{entry}/proof", roles: res},
		{method: "GET", path: "/resident/buildings/{id}/checkpoint", roles: res},
		{method: "GET", path: "/resident/deliveries/{parcel}/photo", roles: res, ownerMay404: true},
		{method: "POST", path: "/resident/preferences", roles: res, form: form("notify_delivery", "on")},
		{method: "POST", path: "/resident/delete", roles: res, form: form()}, // unconfirmed: nothing goes
		{method: "POST", path: b, roles: managers, form: form("name", "Elm", "address", "1 Elm Road", "timezone", "UTC")},
		{method: "POST", path: b + "/units", roles: managers, form: form("label", "7C")},
		{method: "POST", path: b + "/units/import", roles: managers, form: form("csv", "label\n8D\n")},
		{method: "POST", path: b + "/units/import/confirm", roles: managers, form: form("csv", "label\n8E\n")},
		{method: "POST", path: b + "/residents", roles: managers, form: form("unit_id", "{unit}", "name", "Cy", "email", "cy@example.org")},
		{method: "POST", path: b + "/doors", roles: managers, form: form("name", "Back")},
		{method: "POST", path: b + "/doors/{door}/lockdown", roles: managers, form: form("locked_down", "false")},
		{method: "POST", path: b + "/doors/{door}/enrollments", roles: managers, form: form()},
		{method: "POST", path: b + "/devices/{device}/revoke", roles: managers, form: form(), ownerMay404: true},
		{method: "POST", path: b + "/carriers", roles: managers, form: form("carrier_id", "{carrier}")},
		{method: "POST", path: b + "/hours", roles: managers, form: form()},
		{method: "POST", path: b + "/notice-period", roles: managers, form: form("seconds", "0")},
		{method: "POST", path: b + "/alerts", roles: managers, form: form()},
		{method: "POST", path: b + "/transparency", roles: managers, form: form()},
		{method: "POST", path: b + "/webhooks", roles: managers, form: form("url", "https://93.184.216.34/new")},
		{method: "POST", path: b + "/webhooks/{hook}/enabled", roles: managers, form: form("enabled", "true")},
		{method: "POST", path: b + "/webhooks/{hook}/rotate", roles: managers, form: form()},
		{method: "POST", path: b + "/mail/{message}/retry", roles: managers, form: form(), ownerMay404: true},
		{method: "POST", path: "/operator/carriers", roles: operator, form: form("name", "New carrier")},
		{method: "POST", path: "/operator/buildings", roles: operator, form: form("name", "New", "address", "3 Road", "timezone", "UTC")},
		{method: "POST", path: "/operator/buildings/{id}/invites", roles: operator, form: form("email", "new@example.org")},
		{method: "POST", path: "/operator/carriers/{carrier}/keys", roles: operator, form: form("name", "another")},
		{method: "POST", path: "/console/account/totp", roles: manager, form: form()},
		{method: "POST", path: "/console/account/totp/confirm", roles: manager, form: form("code", "000000")},
		{method: "POST", path: "/console/account/totp/disable", roles: manager, form: form("code", "000000")},
		// What removes its object comes last.
		{method: "POST", path: b + "/webhooks/{hook}/delete", roles: managers, form: form(), once: true},
		{method: "POST", path: b + "/residents/{resident}/delete", roles: managers, form: form(), once: true},
		{method: "POST", path: b + "/units/{unit}/delete", roles: managers, form: form(), once: true},
		{method: "POST", path: b + "/carriers/{carrier}/disallow", roles: managers, form: form(), once: true},
		{method: "POST", path: "/operator/carriers/{carrier}/keys/{key}/revoke", roles: operator, form: form(), once: true},
		{method: "POST", path: "/console/account/signout-everywhere", roles: manager, form: form(), once: true},
	}
	real := map[string]string{
		"{id}": s.elm.ID, "{door}": s.elmDoor.ID, "{unit}": elmUnit.ID, "{resident}": elmRes.ID, "{entry}": entry.ID,
		"{hook}": hook.ID, "{carrier}": s.allowed.ID, "{key}": key.ID, "{tn}": "AL1", "{ret}": "RET1",
		"{parcel}": madeUp(doorman.PrefixParcel), "{device}": madeUp(doorman.PrefixDevice), "{message}": madeUp(doorman.PrefixMessage),
	}
	fake := map[string]string{
		"{id}": madeUp(doorman.PrefixBuilding), "{door}": madeUp(doorman.PrefixDoor), "{unit}": madeUp(doorman.PrefixUnit),
		"{resident}": madeUp(doorman.PrefixResident), "{entry}": madeUp(doorman.PrefixAudit), "{hook}": madeUp(doorman.PrefixWebhook),
		"{carrier}": madeUp(doorman.PrefixCarrier), "{key}": madeUp(doorman.PrefixCredential), "{tn}": "ZZ404", "{ret}": "ZZ405",
		"{parcel}": real["{parcel}"], "{device}": real["{device}"], "{message}": real["{message}"],
	}
	fill := func(s string, ids map[string]string) string {
		for k, v := range ids {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}
	fillForm := func(f url.Values, ids map[string]string) url.Values {
		if f == nil {
			return nil
		}
		out := url.Values{}
		for k, vs := range f {
			for _, v := range vs {
				out.Add(k, fill(v, ids))
			}
		}
		return out
	}
	// Pages carry a fresh nonce each time; the rest of an answer must be
	// the same for an object of another tenant and a made-up one.
	nonce := regexp.MustCompile(`nonce="[^"]*"|nonce-[A-Za-z0-9+/=_-]+`)
	// A form shown again with its error echoes what was typed: the real
	// and the made-up values are set alike.
	same := func(a, b string) bool {
		for k := range real {
			for _, v := range []string{real[k], fake[k]} {
				a, b = strings.ReplaceAll(a, v, k), strings.ReplaceAll(b, v, k)
			}
		}
		return nonce.ReplaceAllString(a, "") == nonce.ReplaceAllString(b, "")
	}

	cells, allowed := 0, 0
	for _, r := range routes {
		first := true
		for _, p := range principals {
			cells++
			send := func(ids map[string]string) (int, string, string) {
				ctx, cancel := context.WithTimeout(ctx, 2*time.Second) // the live event streams end with it
				defer cancel()
				rec := s.doContext(ctx, request{method: r.method, path: fill(r.path, ids), session: p.session, form: fillForm(r.form, ids)})
				return rec.Code, rec.Header().Get("Location"), rec.Body.String()
			}
			cell := r.method + " " + r.path + " as " + p.name
			code, location, body := send(real)
			mayUse := false
			for _, role := range r.roles {
				mayUse = mayUse || role == p.role
			}
			switch {
			case p.session == "" && r.method == "GET":
				if code != http.StatusSeeOther || !strings.Contains(location, "/signin?next=") {
					t.Errorf("%s: %d %s, want sent to sign in", cell, code, location)
				}
			case p.session == "":
				if code != http.StatusUnauthorized {
					t.Errorf("%s: %d, want 401", cell, code)
				}
			case !mayUse:
				fc, _, fb := send(fake)
				if code != http.StatusForbidden || fc != code || !same(body, fb) {
					t.Errorf("%s: %d (made-up objects: %d, same answer %v), want 403 either way", cell, code, fc, same(body, fb))
				}
			case !p.tenant:
				if !strings.Contains(r.path+r.form.Encode(), "{") && !strings.Contains(r.form.Encode(), "%7B") {
					break // a page or form of one's own, naming no object
				}
				fc, _, fb := send(fake)
				if fc != code || !same(body, fb) || code < 400 {
					t.Errorf("%s: %d, made-up objects %d (same answer: %v): another tenant's objects must not exist for it", cell, code, fc, same(body, fb))
				}
			default:
				allowed++
				refused := code == http.StatusUnauthorized || code == http.StatusForbidden ||
					code == http.StatusNotFound && !r.ownerMay404 && (!r.once || first) ||
					code == http.StatusSeeOther && strings.Contains(location, "/signin?next=")
				if refused || code >= 500 {
					t.Errorf("%s: %d %s, want it allowed", cell, code, location)
				}
				first = false
			}
		}
	}
	t.Logf("%d routes × %d principals: %d cells, %d allowed", len(routes), len(principals), cells, allowed)
}
