package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// manager signs in a new manager of b and returns the session token.
func (s *courierSite) manager(b *doorman.Building, email string) string {
	s.t.Helper()
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	inv, err := s.app.Accounts.CreateInvite(sys, b.ID, email)
	must(s.t, err)
	_, err = s.app.Accounts.AcceptInvite(context.Background(), inv.Token, "M", "a long enough password")
	must(s.t, err)
	signed, err := s.app.Accounts.SignIn(context.Background(), email, "a long enough password", "192.0.2.1")
	must(s.t, err)
	return signed.Token
}

// TestTransparencyOffHidesEverything: a building's transparency page is a
// missing page until its manager turns it on, exactly like a building
// that does not exist; on, it shows the allowed carriers and doors and
// nothing of another carrier, a courier or a resident; another building's
// manager can neither see nor turn the switch; the switch refuses
// cross-site posts.
func TestTransparencyOffHidesEverything(t *testing.T) {
	s := newCourierSite(t)
	public := "/buildings/" + s.elm.ID + "/transparency"
	missing := s.do(request{method: "GET", path: "/buildings/" + doorman.NewID(doorman.PrefixBuilding) + "/transparency"})
	off := s.do(request{method: "GET", path: public})
	if off.Code != http.StatusNotFound || missing.Code != http.StatusNotFound || off.Body.String() != missing.Body.String() {
		t.Fatalf("off: %d, missing: %d; bodies equal: %v", off.Code, missing.Code, off.Body.String() == missing.Body.String())
	}
	if strings.Contains(off.Body.String(), "Elm") {
		t.Fatal("a page turned off names the building")
	}

	elmManager := s.manager(s.elm, "elm@example.org")
	oakManager := s.manager(s.oak, "oak@example.org")
	console := "/console/buildings/" + s.elm.ID + "/transparency"
	if rec := s.do(request{method: "GET", path: console, session: oakManager}); rec.Code != http.StatusNotFound {
		t.Fatalf("another building's manager sees the switch: %d", rec.Code)
	}
	if rec := s.do(request{method: "POST", path: console, session: oakManager, form: url.Values{"on": {"true"}}}); rec.Code != http.StatusNotFound {
		t.Fatalf("another building's manager turns it on: %d", rec.Code)
	}
	if rec := s.do(request{method: "POST", path: console, session: elmManager, form: url.Values{"on": {"true"}}, crossSite: true}); rec.Code != http.StatusForbidden {
		t.Fatalf("a cross-site post turns it on: %d", rec.Code)
	}
	if rec := s.do(request{method: "POST", path: console, session: s.courier["Allowed"], form: url.Values{"on": {"true"}}}); rec.Code != http.StatusForbidden {
		t.Fatalf("a courier turns it on: %d", rec.Code)
	}
	if rec := s.do(request{method: "GET", path: public}); rec.Code != http.StatusNotFound {
		t.Fatalf("after refused attempts the page is %d", rec.Code)
	}

	page := s.do(request{method: "GET", path: console, session: elmManager})
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "/courier/doors/"+s.elmDoor.ID) || !strings.Contains(page.Body.String(), "data:image/png;base64,") {
		t.Fatalf("the manager's page: %d\n%s", page.Code, page.Body)
	}
	if rec := s.do(request{method: "POST", path: console, session: elmManager, form: url.Values{"on": {"true"}}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("turning it on: %d", rec.Code)
	}
	on := s.do(request{method: "GET", path: public})
	body := on.Body.String()
	if on.Code != http.StatusOK || !strings.Contains(body, "Elm") || !strings.Contains(body, "Allowed") || !strings.Contains(body, "Elm front") {
		t.Fatalf("on: %d\n%s", on.Code, body)
	}
	for _, never := range []string{"Stranger", "Courier", "AL1", "1A", "elm@example.org", s.elmDoor.ID} {
		if strings.Contains(body, never) {
			t.Errorf("the public page shows %q", never)
		}
	}
	// Delivery hours are shown per weekday in the building's zone.
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	hours := &doorman.WeeklyHours{Monday: []doorman.Window{{Start: "08:00", End: "12:00"}, {Start: "14:00", End: "20:00"}}}
	_, err := s.app.Buildings.UpdateBuilding(sys, s.elm.ID, app.BuildingChange{DeliveryHours: hours})
	must(t, err)
	body = s.do(request{method: "GET", path: public}).Body.String()
	for _, want := range []string{"UTC time", "Monday", "08:00–12:00, 14:00–20:00", "Sunday", "No deliveries"} {
		if !strings.Contains(body, want) {
			t.Errorf("the hours lack %q", want)
		}
	}
	if rec := s.do(request{method: "GET", path: "/buildings/" + s.oak.ID + "/transparency"}); rec.Code != http.StatusNotFound {
		t.Fatalf("turning Elm's on showed Oak's: %d", rec.Code)
	}
	if rec := s.do(request{method: "GET", path: "/console/buildings/" + s.elm.ID + "/doors/" + s.elmDoor.ID + "/sticker", session: elmManager}); rec.Code != http.StatusOK {
		t.Fatalf("the sticker: %d", rec.Code)
	}
	if rec := s.do(request{method: "GET", path: "/console/buildings/" + s.oak.ID + "/doors/" + s.oakDoor.ID + "/sticker", session: elmManager}); rec.Code != http.StatusNotFound {
		t.Fatalf("another building's sticker: %d", rec.Code)
	}
}
