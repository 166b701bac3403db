package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// TestOperatorTokenThrottle: wrong operator tokens from one address are
// refused after app.TokenSignInFailures attempts, even the right token,
// with a Retry-After; another address is not affected (no lockout
// switch); a courier session or a manager's is never an operator's.
func TestOperatorTokenThrottle(t *testing.T) {
	s := newCourierSite(t)
	op, _, err := s.app.Credentials.CreateOperatorToken(doorman.NewContextWithPrincipal(context.Background(), doorman.System()), "ops")
	must(t, err)
	signIn := func(token, remote string) (int, string, http.Header) {
		rec := s.do(request{method: "POST", path: "/operator/signin", form: url.Values{"token": {token}}, remote: remote})
		return rec.Code, sessionCookie(rec), rec.Header()
	}
	if code, cookie, _ := signIn(s.courier["Allowed"], "198.51.100.7:1234"); code != http.StatusUnauthorized || cookie != "" {
		t.Fatalf("a courier session on the operator sign-in: %d", code)
	}
	for i := 1; i < app.TokenSignInFailures; i++ {
		if code, _, _ := signIn("dmo_wrong", "198.51.100.7:1234"); code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d", i, code)
		}
	}
	code, _, h := signIn(op, "198.51.100.7:1234")
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("past the limit: %d, Retry-After %q", code, h.Get("Retry-After"))
	}
	code, cookie, _ := signIn(op, "203.0.113.9:1234")
	if code != http.StatusSeeOther || cookie == "" || cookie == op {
		t.Fatalf("another address with the right token: %d, cookie is the token itself: %v", code, cookie == op)
	}
	// The cookie holds a session of its own: operator pages work with it,
	// and signing out revokes it, not the token.
	if rec := s.do(request{method: "GET", path: "/operator", session: cookie}); rec.Code != http.StatusOK {
		t.Fatalf("operator home: %d", rec.Code)
	}
	if rec := s.do(request{method: "POST", path: "/signout", session: cookie}); rec.Code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", rec.Code)
	}
	if _, err := s.app.Credentials.Authenticate(context.Background(), cookie); err == nil {
		t.Fatal("the session survived signing out")
	}
	if _, err := s.app.Credentials.Authenticate(context.Background(), op); err != nil {
		t.Fatalf("signing out revoked the operator token: %v", err)
	}
}

// TestOperatorPagesRefuseOthers: a manager, a courier and a visitor get no
// operator page and cannot post to one; cross-site posts are refused.
func TestOperatorPagesRefuseOthers(t *testing.T) {
	s := newCourierSite(t)
	manager := s.manager(s.elm, "elm@example.org")
	for _, session := range []string{manager, s.courier["Allowed"]} {
		for _, r := range []request{
			{method: "GET", path: "/operator"},
			{method: "GET", path: "/operator/audit"},
			{method: "GET", path: "/operator/carriers/" + s.allowed.ID},
			{method: "POST", path: "/operator/carriers", form: url.Values{"name": {"X"}}},
			{method: "POST", path: "/operator/carriers/" + s.allowed.ID + "/keys", form: url.Values{"name": {"X"}}},
			{method: "POST", path: "/operator/buildings/" + s.elm.ID + "/invites", form: url.Values{"email": {"x@example.org"}}},
		} {
			r.session = session
			if rec := s.do(r); rec.Code != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d", r.method, r.path, session[:4], rec.Code)
			}
		}
	}
	if rec := s.do(request{method: "POST", path: "/operator/carriers", form: url.Values{"name": {"X"}}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("a visitor posts: %d", rec.Code)
	}
	keys, _, err := s.app.Credentials.ListAPIKeys(doorman.NewContextWithPrincipal(context.Background(), doorman.System()), s.allowed.ID, doorman.Page{})
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("a refused post created %d keys", len(keys))
	}
	op := s.operator()
	if rec := s.do(request{method: "POST", path: "/operator/carriers", session: op, form: url.Values{"name": {"X"}}, crossSite: true}); rec.Code != http.StatusForbidden {
		t.Errorf("a cross-site post: %d", rec.Code)
	}
	if rec := s.do(request{method: "GET", path: "/operator/audit?chain=" + s.elm.ID, session: op}); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "building.created") {
		t.Errorf("the audit of a chain: %d", rec.Code)
	}
}

// operator signs the operator in and returns the session cookie.
func (s *courierSite) operator() string {
	s.t.Helper()
	op, _, err := s.app.Credentials.CreateOperatorToken(doorman.NewContextWithPrincipal(context.Background(), doorman.System()), "ops")
	must(s.t, err)
	rec := s.do(request{method: "POST", path: "/operator/signin", form: url.Values{"token": {op}}})
	if rec.Code != http.StatusSeeOther {
		s.t.Fatalf("operator sign-in: %d", rec.Code)
	}
	return sessionCookie(rec)
}

// TestInviteSingleUse: an invitation link makes one account; a second use,
// a made-up token and mismatched passwords are refused, keeping what was
// typed; the API key is shown once only.
func TestInviteSingleUse(t *testing.T) {
	s := newCourierSite(t)
	op := s.operator()
	rec := s.do(request{method: "POST", path: "/operator/buildings/" + s.elm.ID + "/invites", session: op, form: url.Values{"email": {"new@example.org"}}})
	if rec.Code != http.StatusOK {
		t.Fatalf("invite: %d", rec.Code)
	}
	body := rec.Body.String()
	i := strings.Index(body, "/console/invite?t=")
	if i < 0 {
		t.Fatalf("no invitation link:\n%s", body)
	}
	token := body[i+len("/console/invite?t="):]
	token = token[:strings.IndexAny(token, "<\" ")]
	if rec := s.do(request{method: "GET", path: "/operator/buildings/" + s.elm.ID, session: op}); strings.Contains(rec.Body.String(), token) {
		t.Fatal("the invitation is shown again")
	}
	accept := func(token, name, pw, pw2 string) *httptest.ResponseRecorder {
		return s.do(request{method: "POST", path: "/console/invite", form: url.Values{"token": {token}, "name": {name}, "password": {pw}, "password2": {pw2}}})
	}
	if rec := accept(token, "Nia", "a long password 1", "a long password 2"); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Nia") {
		t.Fatalf("mismatched passwords: %d", rec.Code)
	}
	if rec := accept("dmi_made-up", "Nia", "a long password 1", "a long password 1"); rec.Code != http.StatusNotFound {
		t.Fatalf("a made-up invitation: %d", rec.Code)
	}
	if rec := accept(token, "Nia", "a long password 1", "a long password 1"); rec.Code != http.StatusSeeOther {
		t.Fatalf("accepting: %d\n%s", rec.Code, rec.Body)
	}
	if rec := accept(token, "Eve", "another password", "another password"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "does not work") {
		t.Fatalf("a second use: %d", rec.Code)
	}
	if _, err := s.app.Accounts.SignIn(context.Background(), "new@example.org", "a long password 1", "192.0.2.2"); err != nil {
		t.Fatalf("the invited manager signs in: %v", err)
	}
	if _, err := s.app.Accounts.SignIn(context.Background(), "new@example.org", "another password", "192.0.2.2"); err == nil {
		t.Fatal("the second use set a password")
	}

	rec = s.do(request{method: "POST", path: "/operator/carriers/" + s.allowed.ID + "/keys", session: op, form: url.Values{"name": {"dispatch"}}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "dmk_") {
		t.Fatalf("creating a key: %d", rec.Code)
	}
	if rec := s.do(request{method: "GET", path: "/operator/carriers/" + s.allowed.ID, session: op}); strings.Contains(rec.Body.String(), "new-key-token") || !strings.Contains(rec.Body.String(), "dispatch") {
		t.Fatal("the key is shown again, or not listed")
	}
	body = rec.Body.String()
	key := body[strings.Index(body, "dmk_"):]
	key = key[:strings.IndexAny(key, "<\" ")]
	p, err := s.app.Credentials.Authenticate(context.Background(), key)
	must(t, err)
	rec = s.do(request{method: "POST", path: "/operator/carriers/" + s.allowed.ID + "/keys/" + p.CredentialID + "/revoke", session: op})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("revoking: %d", rec.Code)
	}
	if _, err := s.app.Credentials.Authenticate(context.Background(), key); err == nil {
		t.Fatal("a revoked key still works")
	}
	// Revoking through another carrier's page is a missing key.
	rec = s.do(request{method: "POST", path: "/operator/carriers/" + s.stranger.ID + "/keys/" + p.CredentialID + "/revoke", session: op})
	if rec.Code != http.StatusNotFound {
		t.Fatalf("revoking through another carrier: %d", rec.Code)
	}
}

// TestOperatorFormsKeepInput: a building with an unknown time zone is
// refused with the reason and what was typed, and nothing is created.
func TestOperatorFormsKeepInput(t *testing.T) {
	s := newCourierSite(t)
	op := s.operator()
	rec := s.do(request{method: "POST", path: "/operator/buildings", session: op,
		form: url.Values{"name": {"Birch Hall"}, "address": {"5 Birch Way"}, "timezone": {"Mars/Olympus"}}})
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "Unknown time zone") || !strings.Contains(body, "Birch Hall") || !strings.Contains(body, "5 Birch Way") {
		t.Fatalf("a bad time zone: %d\n%s", rec.Code, body)
	}
	all, _, err := s.app.Buildings.ListBuildings(doorman.NewContextWithPrincipal(context.Background(), doorman.System()), doorman.Page{})
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("%d buildings after a refused one, want 2", len(all))
	}
	rec = s.do(request{method: "POST", path: "/operator/carriers", session: op, form: url.Values{"name": {"Allowed"}}})
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "carrier-error") {
		t.Fatalf("a taken carrier name: %d", rec.Code)
	}
}
