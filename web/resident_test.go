package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/password"
	"github.com/doorman-dev/doorman/sqlite"
	"github.com/doorman-dev/doorman/web"
)

// residentSite is a web server over a real store with two buildings,
// each with a resident, and a manager of the first.
type residentSite struct {
	t        *testing.T
	store    *sqlite.Store
	app      *app.Services
	handler  http.Handler
	sys      context.Context
	maple    *doorman.Building
	birch    *doorman.Building
	manager  string // session token of Maple's manager
	mapleRes *doorman.Resident
	birchRes *doorman.Resident
}

func newResidentSite(t *testing.T, publicURL string) *residentSite {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	services := app.New(store, app.Config{Access: access.NewService(store),
		PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	s := &residentSite{t: t, store: store, app: services, sys: doorman.NewContextWithPrincipal(ctx, doorman.System())}
	s.handler = web.NewServer(web.Config{App: services, PublicURL: publicURL}).Handler()
	s.maple, s.mapleRes = s.building("Maple", "ana@example.org")
	s.birch, s.birchRes = s.building("Birch", "olga@example.org")
	inv, err := services.Accounts.CreateInvite(s.sys, s.maple.ID, "m@example.org")
	must(t, err)
	if _, err := services.Accounts.AcceptInvite(ctx, inv.Token, "M", "a long password here"); err != nil {
		t.Fatal(err)
	}
	signed, err := services.Accounts.SignIn(ctx, "m@example.org", "a long password here", "192.0.2.1")
	must(t, err)
	s.manager = signed.Token
	return s
}

func (s *residentSite) building(name, email string) (*doorman.Building, *doorman.Resident) {
	b := &doorman.Building{Name: name, Address: "1 Road", Timezone: "UTC"}
	must(s.t, s.app.Buildings.CreateBuilding(s.sys, b))
	u := &doorman.Unit{BuildingID: b.ID, Label: "2B"}
	must(s.t, s.app.Buildings.CreateUnit(s.sys, u))
	r := &doorman.Resident{BuildingID: b.ID, UnitID: u.ID, Name: name + " Resident", Email: email}
	must(s.t, s.app.Buildings.CreateResident(s.sys, r))
	return b, r
}

// do sends a request as a browser on this site would (same-origin), with
// the session token as cookie when given.
func (s *residentSite) do(method, target, session string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Host = "127.0.0.1:8080"
	req.RemoteAddr = "192.0.2.7:5000"
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: session})
	}
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, req)
	return w
}

// link makes a magic link for the resident (as Doorman) and returns its
// token.
func (s *residentSite) link(email string) string {
	u, err := s.app.Residents.CreateLink(s.sys, email, "http://127.0.0.1:8080")
	must(s.t, err)
	return u[strings.Index(u, "t=")+2:]
}

// signIn follows a magic link and returns the session cookie's value.
func (s *residentSite) signIn(email string) string {
	s.t.Helper()
	w := s.do("POST", "/resident/link", "", url.Values{"t": {s.link(email)}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/resident" {
		s.t.Fatalf("following a link: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == "__Host-doorman-session" {
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				s.t.Errorf("session cookie %+v", c)
			}
			return c.Value
		}
	}
	s.t.Fatal("no session cookie")
	return ""
}

func (s *residentSite) queued() []*doorman.Message {
	m, err := s.app.Residents.OutboxMail(s.sys, 500)
	must(s.t, err)
	return m
}

// TestResidentLinkPageDoesNotUseTheLink: fetching a magic link (as a mail
// scanner would) leaves it usable; only the Continue form uses it, once,
// and only from this site.
func TestResidentLinkPageDoesNotUseTheLink(t *testing.T) {
	s := newResidentSite(t, "")
	tok := s.link("ana@example.org")
	for range 3 {
		if w := s.do("GET", "/resident/link?t="+tok, "", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Continue") {
			t.Fatalf("GET link: %d %s", w.Code, w.Body)
		}
	}
	if w := s.do("POST", "/resident/link", "", url.Values{"t": {tok}}, "Sec-Fetch-Site", "cross-site"); w.Code != http.StatusForbidden {
		t.Fatalf("a cross-site post of the link: %d", w.Code)
	}
	if w := s.do("POST", "/resident/link", "", url.Values{"t": {tok}}); w.Code != http.StatusSeeOther {
		t.Fatalf("Continue: %d %s", w.Code, w.Body)
	}
	if w := s.do("POST", "/resident/link", "", url.Values{"t": {tok}}); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "does not work") {
		t.Fatalf("the link again: %d %s", w.Code, w.Body)
	}
}

// TestResidentSignInAnswersAlike: the sign-in form answers known and
// unknown emails alike, mails only residents, and never puts a Host the
// request named into a link unless it is this machine.
func TestResidentSignInAnswersAlike(t *testing.T) {
	s := newResidentSite(t, "")
	before := len(s.queued())
	bodies := map[string]string{}
	for _, email := range []string{"ana@example.org", "nobody@example.org"} {
		w := s.do("POST", "/resident/signin", "", url.Values{"email": {email}})
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d", email, w.Code)
		}
		bodies[email] = strings.ReplaceAll(w.Body.String(), email, "EMAIL")
	}
	if bodies["ana@example.org"] != bodies["nobody@example.org"] {
		t.Error("the sign-in answer differs for a known and an unknown email")
	}
	mail := s.queued()[before:]
	if len(mail) != 1 || !strings.Contains(mail[0].Text, "http://127.0.0.1:8080/resident/link?t=dml_") {
		t.Fatalf("mail after two requests: %+v", mail)
	}

	if w := s.do("POST", "/resident/signin", "", url.Values{"email": {"ana@example.org"}}, "Host", "evil.example"); w.Code != http.StatusServiceUnavailable {
		t.Errorf("a request naming another host: %d", w.Code)
	}
	if w := s.do("POST", "/resident/signin", "", url.Values{"email": {"not an email"}}); w.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(w.Body.String(), `value="not an email"`) {
		t.Errorf("a malformed email: %d, the form must keep what was typed", w.Code)
	}
	if len(s.queued()) != before+1 {
		t.Errorf("refused requests mailed links")
	}

	// With a public URL, links lead there whatever the Host.
	p := newResidentSite(t, "https://doorman.example/")
	if w := p.do("POST", "/resident/signin", "", url.Values{"email": {"ana@example.org"}}, "Host", "evil.example"); w.Code != http.StatusOK {
		t.Fatalf("with a public URL: %d", w.Code)
	}
	if m := p.queued(); len(m) != 1 || !strings.Contains(m[0].Text, "https://doorman.example/resident/link?t=") {
		t.Fatalf("link with a public URL: %+v", m)
	}
}

// TestResidentPagesAuthorised: each resident page needs a resident's
// session; a resident reaches only their own building's proofs and
// checkpoint, never the console; a manager reads only their buildings'
// mail; form posts from another site are refused.
func TestResidentPagesAuthorised(t *testing.T) {
	s := newResidentSite(t, "")
	ana := s.signIn("ana@example.org")
	birchEntry := &doorman.AuditEntry{Chain: s.birch.ID, BuildingID: s.birch.ID, At: time.Now().UTC(), Action: doorman.ActionAccessGranted}
	must(t, s.store.AppendAudit(context.Background(), birchEntry))

	if w := s.do("GET", "/resident", "", nil); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/resident/signin") {
		t.Errorf("a visitor on /resident: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := s.do("GET", "/resident", ana, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Maple Resident") {
		t.Fatalf("Ana's page: %d", w.Code)
	}
	if w := s.do("GET", "/resident", s.manager, nil); w.Code != http.StatusForbidden {
		t.Errorf("a manager on the resident page: %d", w.Code)
	}
	for _, path := range []string{
		"/resident/entries/" + birchEntry.ID + "/proof",
		"/resident/entries/" + doorman.NewID(doorman.PrefixAudit) + "/proof",
		"/resident/buildings/" + s.birch.ID + "/checkpoint",
	} {
		if w := s.do("GET", path, ana, nil); w.Code != http.StatusNotFound {
			t.Errorf("Ana GET %s: %d", path, w.Code)
		}
	}
	for _, path := range []string{"/console/buildings/" + s.maple.ID + "/mail", "/console"} {
		if w := s.do("GET", path, ana, nil); w.Code != http.StatusForbidden {
			t.Errorf("Ana GET %s: %d", path, w.Code)
		}
	}
	if w := s.do("GET", "/console/buildings/"+s.maple.ID+"/mail", s.manager, nil); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), "ana@example.org") || strings.Contains(w.Body.String(), doorman.TokenResidentLink) {
		t.Errorf("the manager's mail log: %d", w.Code)
	}
	if w := s.do("GET", "/console/buildings/"+s.birch.ID+"/mail", s.manager, nil); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "olga@") {
		t.Errorf("another building's mail log: %d", w.Code)
	}

	for _, path := range []string{"/resident/preferences", "/resident/delete"} {
		if w := s.do("POST", path, ana, url.Values{"confirm": {"yes"}}, "Sec-Fetch-Site", "cross-site"); w.Code != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d", path, w.Code)
		}
		if w := s.do("POST", path, "", url.Values{"confirm": {"yes"}}); w.Code != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %d", path, w.Code)
		}
	}
	if w := s.do("POST", "/resident/delete", ana, url.Values{}); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("deleting without confirming: %d", w.Code)
	}
	if w := s.do("GET", "/resident", ana, nil); w.Code != http.StatusOK {
		t.Fatalf("Ana's data went without her confirmation: %d", w.Code)
	}

	if w := s.do("POST", "/resident/delete", ana, url.Values{"confirm": {"yes"}}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/resident/signin?done=deleted" {
		t.Fatalf("deleting: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := s.do("GET", "/resident", ana, nil); w.Code != http.StatusSeeOther {
		t.Errorf("the deleted resident's session: %d", w.Code)
	}
	if w := s.do("GET", "/resident", s.signIn("olga@example.org"), nil); w.Code != http.StatusOK {
		t.Errorf("the other building's resident after Ana deleted her data: %d", w.Code)
	}
}
