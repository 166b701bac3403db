package web_test

import (
	"context"
	"crypto/rand"
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
	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/password"
	"github.com/doorman-dev/doorman/sqlite"
	"github.com/doorman-dev/doorman/web"
	"golang.org/x/mod/sumdb/note"
)

// courierSite is a web server over a real SQLite store with a building
// ("Elm") and its door, a second building ("Oak") with a door, two
// carriers (Allowed at Elm, Stranger at Oak only), a courier of each with
// a session, and a parcel of each courier out for delivery.
type courierSite struct {
	t        *testing.T
	h        http.Handler
	app      *app.Services
	store    *sqlite.Store
	elm, oak *doorman.Building
	elmDoor  *app.Door
	oakDoor  *app.Door
	allowed  *doorman.Carrier
	stranger *doorman.Carrier
	// Tokens of the couriers' sessions, by carrier name.
	courier map[string]string
	// checkpoint signs a checkpoint of every chain, as the control
	// plane's checkpointer does each second.
	checkpoint func()
}

func newCourierSite(t *testing.T, opts ...access.Option) *courierSite {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	skey, vkey, err := note.GenerateKey(rand.Reader, "doorman-test-audit")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	store.SetAuditSealer(auditlog.Sealer(signer))
	dir := t.TempDir()
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	services := app.New(store, app.Config{Access: access.NewService(store, opts...), PasswordParams: cheap,
		AuditCheckpoints: &app.AuditCheckpoints{Dir: dir, Verifier: verifier, VKey: vkey}})
	cp := &auditlog.Checkpointer{Store: store, Signer: signer, Verifier: verifier, Dir: dir}
	s := &courierSite{t: t, app: services, store: store, courier: map[string]string{}, checkpoint: func() {
		if err := cp.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}}
	s.h = web.NewServer(web.Config{App: services}).Handler()
	sys := doorman.NewContextWithPrincipal(ctx, doorman.System())
	s.elm = &doorman.Building{Name: "Elm", Address: "1 Elm Road", Timezone: "UTC"}
	s.oak = &doorman.Building{Name: "Oak", Address: "2 Oak Road", Timezone: "UTC"}
	s.allowed, s.stranger = &doorman.Carrier{Name: "Allowed"}, &doorman.Carrier{Name: "Stranger"}
	for _, b := range []*doorman.Building{s.elm, s.oak} {
		must(t, services.Buildings.CreateBuilding(sys, b))
		must(t, services.Notices.SetNoticePeriod(sys, b.ID, 0))
		_, err := services.Buildings.ImportUnits(sys, b.ID, []byte("label,floor\n1A,1\n"))
		must(t, err)
	}
	if s.elmDoor, err = services.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: s.elm.ID, Name: "Elm front"}); err != nil {
		t.Fatal(err)
	}
	if s.oakDoor, err = services.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: s.oak.ID, Name: "Oak front"}); err != nil {
		t.Fatal(err)
	}
	checked := time.Now().AddDate(1, 0, 0)
	for _, c := range []struct {
		carrier  *doorman.Carrier
		building *doorman.Building
		parcel   string
	}{{s.allowed, s.elm, "AL1"}, {s.stranger, s.oak, "ST1"}} {
		must(t, services.Carriers.CreateCarrier(sys, c.carrier))
		must(t, services.Buildings.AllowCarrier(sys, c.building.ID, c.carrier.ID))
		as := doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleCarrier, SubjectID: c.carrier.ID, CarrierID: c.carrier.ID})
		_, err := services.Carriers.PutCourier(as, &doorman.Courier{CarrierID: c.carrier.ID, ExternalID: "c1", Name: "Courier",
			BackgroundCheckVerifiedUntil: &checked})
		must(t, err)
		_, err = services.Carriers.UploadManifest(as, c.carrier.ID, []doorman.ParcelInput{{TrackingNumber: c.parcel,
			BuildingID: c.building.ID, UnitLabel: "1A", CourierExternalID: "c1", Status: doorman.ParcelOutForDelivery}})
		must(t, err)
		token, _, err := services.Credentials.CreateCourierSession(as, c.carrier.ID, "c1", time.Hour)
		must(t, err)
		s.courier[c.carrier.Name] = token
	}
	return s
}

// request is one request to the site: a session token (or none), a form
// for POST, and whether it comes from another site.
type request struct {
	method, path, session string
	form                  url.Values
	crossSite             bool
	remote                string
}

func (s *courierSite) do(r request) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.doContext(context.Background(), r)
}

// doContext is do with the request's context.
func (s *courierSite) doContext(ctx context.Context, r request) *httptest.ResponseRecorder {
	s.t.Helper()
	var body *strings.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequestWithContext(ctx, r.method, "http://doorman.test"+r.path, body)
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.session != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: r.session})
	}
	if r.crossSite {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// sessionCookie returns the session cookie an answer sets, or "".
func sessionCookie(rec *httptest.ResponseRecorder) string {
	for _, c := range rec.Result().Cookies() {
		if c.Name == "__Host-doorman-session" {
			return c.Value
		}
	}
	return ""
}

// TestCourierOfAnotherCarrierCannotSeeOrOpen: a courier whose carrier the
// building does not allow gets "not found" for the building's door page,
// cannot open it by posting, and never sees its doors in the list; its
// own door works.
func TestCourierOfAnotherCarrierCannotSeeOrOpen(t *testing.T) {
	s := newCourierSite(t)
	stranger := s.courier["Stranger"]

	if rec := s.do(request{method: "GET", path: "/courier/doors/" + s.elmDoor.ID, session: stranger}); rec.Code != http.StatusNotFound {
		t.Fatalf("another carrier's courier sees the door page: %d", rec.Code)
	}
	rec := s.do(request{method: "POST", path: "/courier/doors/" + s.elmDoor.ID + "/open", session: stranger,
		form: url.Values{"tracking": {"AL1"}}})
	if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "OPEN") {
		t.Fatalf("another carrier's courier opening the door: %d\n%s", rec.Code, rec.Body)
	}
	entries, _, err := s.app.Audit.List(doorman.NewContextWithPrincipal(context.Background(), doorman.System()),
		app.AuditQuery{BuildingID: s.elm.ID}, doorman.Page{})
	must(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "access.") {
			t.Fatalf("the refused courier wrote to the building's chain: %+v", e)
		}
	}
	home := s.do(request{method: "GET", path: "/courier", session: stranger})
	if home.Code != http.StatusOK || strings.Contains(home.Body.String(), "Elm") || !strings.Contains(home.Body.String(), "Oak front") {
		t.Fatalf("the stranger's door list: %d\n%s", home.Code, home.Body)
	}
	// A courier cannot mark another carrier's parcel delivered either.
	rec = s.do(request{method: "POST", path: "/courier/deliver", session: stranger, form: url.Values{"tracking": {"AL1"}, "note": {"x"}}})
	if rec.Code != http.StatusNotFound {
		t.Fatalf("delivering another carrier's parcel: %d", rec.Code)
	}
	// The allowed courier sees its door.
	if rec := s.do(request{method: "GET", path: "/courier/doors/" + s.elmDoor.ID, session: s.courier["Allowed"]}); rec.Code != http.StatusOK {
		t.Fatalf("the allowed courier's door page: %d", rec.Code)
	}
}

// TestCourierPagesRefuseOthers: a visitor is sent to sign in, a manager
// or operator session is not a courier's, a cross-site post is refused,
// and a sign-in link does nothing until its Continue button is pressed.
func TestCourierPagesRefuseOthers(t *testing.T) {
	s := newCourierSite(t)
	rec := s.do(request{method: "GET", path: "/courier/doors/" + s.elmDoor.ID})
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/courier/signin?next=") {
		t.Fatalf("a visitor: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	rec = s.do(request{method: "POST", path: "/courier/doors/" + s.elmDoor.ID + "/open", session: s.courier["Allowed"],
		form: url.Values{"tracking": {"AL1"}}, crossSite: true})
	if rec.Code != http.StatusForbidden {
		t.Fatalf("a cross-site post: %d", rec.Code)
	}
	rec = s.do(request{method: "GET", path: "/courier/signin?t=" + url.QueryEscape(s.courier["Allowed"])})
	if rec.Code != http.StatusOK || sessionCookie(rec) != "" || !strings.Contains(rec.Body.String(), "Continue") {
		t.Fatalf("following a sign-in link: %d, cookie %q", rec.Code, sessionCookie(rec))
	}
	rec = s.do(request{method: "POST", path: "/courier/signin", form: url.Values{"code": {s.courier["Allowed"]}}})
	if rec.Code != http.StatusSeeOther || sessionCookie(rec) != s.courier["Allowed"] {
		t.Fatalf("signing in: %d, cookie %q", rec.Code, sessionCookie(rec))
	}
	// Wrong codes are limited per address; another address is not.
	for i := 0; i < app.TokenSignInFailures; i++ {
		s.do(request{method: "POST", path: "/courier/signin", form: url.Values{"code": {"dmc_wrong"}}, remote: "198.51.100.20:1"})
	}
	rec = s.do(request{method: "POST", path: "/courier/signin", form: url.Values{"code": {s.courier["Allowed"]}}, remote: "198.51.100.20:1"})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || sessionCookie(rec) != "" {
		t.Fatalf("past the limit: %d", rec.Code)
	}
	rec = s.do(request{method: "POST", path: "/courier/signin", form: url.Values{"code": {s.courier["Allowed"]}}, remote: "198.51.100.21:1"})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("another address: %d", rec.Code)
	}
	// An operator token is not a courier's code.
	op, _, err := s.app.Credentials.CreateOperatorToken(doorman.NewContextWithPrincipal(context.Background(), doorman.System()), "ops")
	must(t, err)
	rec = s.do(request{method: "POST", path: "/courier/signin", form: url.Values{"code": {op}}})
	if rec.Code != http.StatusUnauthorized || sessionCookie(rec) != "" {
		t.Fatalf("an operator token on the courier sign-in: %d", rec.Code)
	}
}

// TestCourierDeliveryNote: a note that is too long is refused with what
// was typed kept, and nothing is written; a good one is kept.
func TestCourierDeliveryNote(t *testing.T) {
	s := newCourierSite(t)
	long := strings.Repeat("x", doorman.MaxDeliveryNoteLen+1)
	rec := s.do(request{method: "POST", path: "/courier/deliver", session: s.courier["Allowed"],
		form: url.Values{"tracking": {"AL1"}, "note": {long}, "back": {"/courier/doors/" + s.elmDoor.ID}}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), long) {
		t.Fatalf("a long note: %d", rec.Code)
	}
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	p, err := s.store.ParcelByTracking(sys, s.allowed.ID, "AL1")
	must(t, err)
	if p.Status != doorman.ParcelOutForDelivery {
		t.Fatalf("a refused note delivered the parcel: %s", p.Status)
	}
	rec = s.do(request{method: "POST", path: "/courier/deliver", session: s.courier["Allowed"],
		form: url.Values{"tracking": {"AL1"}, "note": {"  In the   parcel box "}, "back": {"https://evil.example/"}}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/courier?done=delivered" {
		t.Fatalf("delivering: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	notes, err := s.app.Carriers.DeliveryNotes(sys, s.elm.ID, []string{p.ID})
	must(t, err)
	if notes[p.ID] != "In the parcel box" {
		t.Fatalf("note %q", notes[p.ID])
	}
	// Another building's manager cannot read it.
	other := doorman.NewContextWithPrincipal(context.Background(), &doorman.Principal{Role: doorman.RoleManager, SubjectID: doorman.NewID(doorman.PrefixManager)})
	if _, err := s.app.Carriers.DeliveryNotes(other, s.elm.ID, []string{p.ID}); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("another manager reads the notes: %v", err)
	}
	// Delivering twice is told plainly.
	rec = s.do(request{method: "POST", path: "/courier/deliver", session: s.courier["Allowed"], form: url.Values{"tracking": {"AL1"}}})
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "already marked delivered") {
		t.Fatalf("delivering twice: %d", rec.Code)
	}
}

// offlineDoor is a door link whose doors never answer.
type offlineDoor struct{}

func (offlineDoor) Unlock(context.Context, *doorman.Door, *doorman.Grant) (*doorman.UnlockAck, error) {
	e := doorman.Errorf(doorman.EUNAVAILABLE, "The door did not answer.")
	e.Reason = doorman.ReasonDoorOffline
	return nil, e
}

// TestCourierDoorAnswers: the courier is told in words when the door is
// locked down or offline, and OPEN when it opened; the answer names no
// code.
func TestCourierDoorAnswers(t *testing.T) {
	open := func(s *courierSite) string {
		t.Helper()
		rec := s.do(request{method: "POST", path: "/courier/doors/" + s.elmDoor.ID + "/open", session: s.courier["Allowed"],
			form: url.Values{"parcel": {"AL1"}}})
		if rec.Code != http.StatusOK {
			t.Fatalf("open: %d\n%s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	s := newCourierSite(t)
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	_, err := s.app.Buildings.SetLockdown(sys, s.elm.ID, s.elmDoor.ID, true)
	must(t, err)
	if body := open(s); !strings.Contains(body, "NOT OPENED") || !strings.Contains(body, "locked this door") || strings.Contains(body, "door_locked_down") {
		t.Fatalf("a locked door:\n%s", body)
	}
	_, err = s.app.Buildings.SetLockdown(sys, s.elm.ID, s.elmDoor.ID, false)
	must(t, err)
	if body := open(s); !strings.Contains(body, "OPEN<span") || !strings.Contains(body, "open for about a minute") || !strings.Contains(body, "Mark delivered") {
		t.Fatalf("an open door:\n%s", body)
	}

	offline := newCourierSite(t, access.WithDoorLink(offlineDoor{}))
	if body := open(offline); !strings.Contains(body, "NOT OPENED") || !strings.Contains(body, "may be offline") {
		t.Fatalf("an offline door:\n%s", body)
	}
	// Outside the delivery hours the courier is told so, and shown them.
	closed := &doorman.WeeklyHours{}
	_, err = s.app.Buildings.UpdateBuilding(sys, s.elm.ID, app.BuildingChange{DeliveryHours: closed})
	must(t, err)
	if body := open(s); !strings.Contains(body, "does not take deliveries at this hour") || !strings.Contains(body, "Monday: no deliveries") {
		t.Fatalf("outside delivery hours:\n%s", body)
	}
	// Nothing ticked or typed is asked for again, keeping the page.
	rec := s.do(request{method: "POST", path: "/courier/doors/" + s.elmDoor.ID + "/open", session: s.courier["Allowed"], form: url.Values{}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Tick a parcel") {
		t.Fatalf("an empty request: %d", rec.Code)
	}
}
