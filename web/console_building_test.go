package web_test

import (
	"context"
	"io"
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
	"github.com/pquerna/otp/totp"
)

// console is a web server over a store with two buildings, each with its
// own manager, a unit and a door, and a carrier the first allows.
type console struct {
	t       *testing.T
	app     *app.Services
	store   doorman.Store
	h       http.Handler
	b1, b2  *doorman.Building
	door1   *app.Door
	unit1   *doorman.Unit
	res1    *doorman.Resident
	carrier *doorman.Carrier
	device1 string
	m1, m2  string // session tokens
	email1  string
}

const testPassword = "correct horse battery"

func newConsole(t *testing.T) *console {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	services := app.New(store, app.Config{Access: access.NewService(store), PasswordParams: cheap})
	c := &console{t: t, app: services, store: store, h: web.NewServer(web.Config{App: services}).Handler()}
	sys := doorman.NewContextWithPrincipal(ctx, doorman.System())
	for i, b := range []**doorman.Building{&c.b1, &c.b2} {
		*b = &doorman.Building{Name: []string{"Maple", "Birch"}[i], Address: "1 Road", Timezone: "UTC"}
		must(t, services.Buildings.CreateBuilding(sys, *b))
	}
	if c.door1, err = services.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: c.b1.ID, Name: "Front"}); err != nil {
		t.Fatal(err)
	}
	c.unit1 = &doorman.Unit{BuildingID: c.b1.ID, Label: "1A", Floor: "1"}
	must(t, services.Buildings.CreateUnit(sys, c.unit1))
	c.res1 = &doorman.Resident{BuildingID: c.b1.ID, UnitID: c.unit1.ID, Name: "Ada", Email: "ada@example.com"}
	must(t, services.Buildings.CreateResident(sys, c.res1))
	c.carrier = &doorman.Carrier{Name: "ParcelPal"}
	must(t, services.Carriers.CreateCarrier(sys, c.carrier))
	must(t, services.Buildings.AllowCarrier(sys, c.b1.ID, c.carrier.ID))
	c.device1 = doorman.NewID(doorman.PrefixDevice)
	c.email1 = "one@example.com"
	c.m1 = c.manager(c.b1, c.email1)
	c.m2 = c.manager(c.b2, "two@example.com")
	return c
}

// manager invites a manager for b, accepts and signs in.
func (c *console) manager(b *doorman.Building, email string) string {
	ctx := context.Background()
	sys := doorman.NewContextWithPrincipal(ctx, doorman.System())
	inv, err := c.app.Accounts.CreateInvite(sys, b.ID, email)
	must(c.t, err)
	_, err = c.app.Accounts.AcceptInvite(ctx, inv.Token, "M", testPassword)
	must(c.t, err)
	signed, err := c.app.Accounts.SignIn(ctx, email, testPassword, "192.0.2.1")
	must(c.t, err)
	return signed.Token
}

// do sends a request as the holder of token ("" for nobody) and returns
// the answer; form, when not nil, is posted.
func (c *console) do(method, path, token string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		r.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: token})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w
}

// pages are every console URL of building 1 this area serves.
func (c *console) pages() []string {
	b := "/console/buildings/" + c.b1.ID
	return []string{b, b + "/units", b + "/doors", b + "/carriers"}
}

// posts are every form of building 1 this area takes, with a body that
// would work for its manager.
func (c *console) posts() map[string]url.Values {
	b := "/console/buildings/" + c.b1.ID
	return map[string]url.Values{
		b:                                      {"name": {"Taken"}, "address": {"2 Road"}, "timezone": {"UTC"}},
		b + "/units":                           {"label": {"9Z"}},
		b + "/units/" + c.unit1.ID + "/delete": {},
		b + "/units/import":                    {},
		b + "/units/import/confirm":            {"csv": {"bGFiZWwsZmxvb3IKOVksOQo="}},
		b + "/residents":                       {"name": {"Eve"}, "email": {"eve@example.com"}, "unit_id": {c.unit1.ID}},
		b + "/residents/" + c.res1.ID + "/delete": {},
		b + "/doors":                                  {"name": {"Back"}},
		b + "/doors/" + c.door1.ID + "/lockdown":      {"on": {"1"}},
		b + "/doors/" + c.door1.ID + "/enrollments":   {},
		b + "/devices/" + c.device1 + "/revoke":       {},
		b + "/carriers":                               {"carrier_id": {c.carrier.ID}},
		b + "/carriers/" + c.carrier.ID + "/disallow": {},
		b + "/hours":                                  {"monday": {"08:00-09:00"}, "max_distance": {"5"}},
		b + "/notice-period":                          {"notice_days": {"3"}},
	}
}

// unchanged checks building 1 is as newConsole made it.
func (c *console) unchanged() {
	c.t.Helper()
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	b, err := c.app.Buildings.Building(ctx, c.b1.ID)
	must(c.t, err)
	units, _, err := c.app.Buildings.ListUnits(ctx, c.b1.ID, doorman.Page{})
	must(c.t, err)
	residents, _, err := c.app.Buildings.ListResidents(ctx, c.b1.ID, doorman.Page{})
	must(c.t, err)
	doors, _, err := c.app.Buildings.ListDoors(ctx, c.b1.ID, doorman.Page{})
	must(c.t, err)
	carriers, _, err := c.app.Buildings.AllowedCarriers(ctx, c.b1.ID, doorman.Page{})
	must(c.t, err)
	if b.Name != "Maple" || b.DeliveryHours != nil || b.MaxDistanceMeters != 0 || len(units) != 1 || len(residents) != 1 ||
		len(doors) != 1 || doors[0].LockedDown || len(carriers) != 1 {
		c.t.Fatalf("building 1 changed: %+v, %d units, %d residents, %d doors (locked %v), %d carriers",
			b, len(units), len(residents), len(doors), len(doors) > 0 && doors[0].LockedDown, len(carriers))
	}
}

// TestConsoleOtherManagersBuilding: a manager of another building gets
// the not-found page for every page and form of building 1, exactly as
// for a building that does not exist, and changes nothing.
func TestConsoleOtherManagersBuilding(t *testing.T) {
	c := newConsole(t)
	for _, p := range append(c.pages(), "/console/buildings/"+c.b1.ID+"/doors/events") {
		if strings.HasSuffix(p, "/events") {
			// A stream: TestConsoleDoorEvents reads it.
		} else if w := c.do("GET", p, c.m1, nil); w.Code != http.StatusOK {
			t.Fatalf("GET %s as its manager: %d %s", p, w.Code, w.Body)
		}
		w := c.do("GET", p, c.m2, nil)
		missing := c.do("GET", strings.Replace(p, c.b1.ID, doorman.NewID(doorman.PrefixBuilding), 1), c.m2, nil)
		if w.Code != http.StatusNotFound || w.Body.String() != missing.Body.String() || strings.Contains(w.Body.String(), "Maple") {
			t.Errorf("GET %s as another manager: %d, body differs from a missing building's: %v", p, w.Code, w.Body.String() != missing.Body.String())
		}
	}
	for p, form := range c.posts() {
		w := c.do("POST", p, c.m2, form)
		if w.Code != http.StatusNotFound {
			t.Errorf("POST %s as another manager: %d", p, w.Code)
		}
		if strings.Contains(w.Body.String(), "Maple") {
			t.Errorf("POST %s as another manager shows the building", p)
		}
	}
	c.unchanged()
}

// TestConsoleRefusals: visitors are sent to sign in (GET) or refused
// (POST); forms sent from another site are refused; nothing changes.
func TestConsoleRefusals(t *testing.T) {
	c := newConsole(t)
	for _, p := range c.pages() {
		if w := c.do("GET", p, "", nil); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/console/signin?next=") {
			t.Errorf("GET %s as a visitor: %d %s", p, w.Code, w.Header().Get("Location"))
		}
	}
	for p, form := range c.posts() {
		if w := c.do("POST", p, "", form); w.Code != http.StatusUnauthorized {
			t.Errorf("POST %s as a visitor: %d", p, w.Code)
		}
		if w := c.do("POST", p, c.m1, form, "Sec-Fetch-Site", "cross-site"); w.Code != http.StatusForbidden {
			t.Errorf("POST %s from another site: %d", p, w.Code)
		}
		if w := c.do("POST", p, c.m1, form, "Origin", "https://evil.example"); w.Code != http.StatusForbidden {
			t.Errorf("POST %s with a foreign Origin: %d", p, w.Code)
		}
	}
	c.unchanged()
	for _, p := range []string{"/console/account/totp", "/console/account/signout-everywhere"} {
		if w := c.do("POST", p, c.m1, url.Values{}, "Sec-Fetch-Site", "cross-site"); w.Code != http.StatusForbidden {
			t.Errorf("POST %s from another site: %d", p, w.Code)
		}
	}
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	if _, err := c.app.Credentials.Authenticate(ctx, c.m1); err != nil {
		t.Fatalf("the session was ended by a cross-site form: %v", err)
	}
}

// TestConsoleImportPreviewWritesNothing: the preview lists each row with
// its error and stores nothing; confirming a good file imports it.
func TestConsoleImportPreviewWritesNothing(t *testing.T) {
	c := newConsole(t)
	path := "/console/buildings/" + c.b1.ID + "/units/import"
	w := c.upload(path, "label,floor\n2A,2\n1A,1\n2B\n")
	body := w.Body.String()
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `already exists`) || !strings.Contains(body, "Expected 2 fields") ||
		strings.Contains(body, "confirm-import") {
		t.Fatalf("preview of a bad file: %d\n%s", w.Code, body)
	}
	c.unchanged()

	w = c.upload(path, "label,floor\n2A,2\n2B,2\n")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "confirm-import") {
		t.Fatalf("preview of a good file: %d\n%s", w.Code, w.Body)
	}
	c.unchanged()
	csv := between(w.Body.String(), `name="csv" value="`, `"`)
	w = c.do("POST", path+"/confirm", c.m1, url.Values{"csv": {csv}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", w.Code, w.Body)
	}
	ctx := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	units, _, err := c.app.Buildings.ListUnits(ctx, c.b1.ID, doorman.Page{})
	must(t, err)
	if len(units) != 3 {
		t.Fatalf("after confirming: %d units, want 3", len(units))
	}
	// Confirming twice is refused row by row, and writes nothing.
	if w = c.do("POST", path+"/confirm", c.m1, url.Values{"csv": {csv}}); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "already exists") {
		t.Fatalf("confirming twice: %d", w.Code)
	}
}

func (c *console) upload(path, csv string) *httptest.ResponseRecorder {
	c.t.Helper()
	var b strings.Builder
	b.WriteString("--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"units.csv\"\r\nContent-Type: text/csv\r\n\r\n")
	b.WriteString(csv)
	b.WriteString("\r\n--X--\r\n")
	r := httptest.NewRequest("POST", path, strings.NewReader(b.String()))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=X")
	r.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: c.m1})
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, to)
	return v
}

// TestConsoleTOTP: a manager turns sign-in codes on; signing in then
// needs a code in a second step, which no password alone can skip; a
// code works once; the API's sign-in asks for the code too (app); and
// codes are limited per manager.
func TestConsoleTOTP(t *testing.T) {
	c := newConsole(t)
	if w := c.do("POST", "/console/account/totp", c.m1, url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("start: %d %s", w.Code, w.Body)
	}
	page := c.do("GET", "/console/account", c.m1, nil).Body.String()
	secret := between(page, `id="totp-secret">`, "<")
	if secret == "" || !strings.Contains(page, `src="data:image/png;base64,`) {
		t.Fatalf("the setup shows no secret or QR:\n%s", page)
	}
	if w := c.do("POST", "/console/account/totp/confirm", c.m1, url.Values{"code": {"000000"}}); w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("confirm with a wrong code: %d", w.Code)
	}
	code := func(at time.Time) string {
		s, err := totp.GenerateCode(secret, at)
		must(t, err)
		return s
	}
	now := time.Now()
	if w := c.do("POST", "/console/account/totp/confirm", c.m1, url.Values{"code": {code(now.Add(-30 * time.Second))}}); w.Code != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", w.Code, w.Body)
	}

	signIn := url.Values{"email": {c.email1}, "password": {testPassword}}
	w := c.do("POST", "/console/signin", "", signIn)
	challenge := between(w.Body.String(), `name="challenge" value="`, `"`)
	if w.Code != http.StatusOK || challenge == "" || len(w.Result().Cookies()) != 0 {
		t.Fatalf("a right password must ask for the code and start no session: %d %v", w.Code, w.Result().Cookies())
	}
	if w := c.do("POST", "/console/signin/code", "", url.Values{"challenge": {challenge + "x"}, "code": {code(now)}}); w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
		t.Fatalf("a forged challenge: %d", w.Code)
	}
	if w := c.do("POST", "/console/signin/code", "", url.Values{"challenge": {challenge}, "code": {"123456"}}); w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
		t.Fatalf("a wrong code: %d", w.Code)
	}
	// The code used to confirm does not work again.
	if w := c.do("POST", "/console/signin/code", "", url.Values{"challenge": {challenge}, "code": {code(now.Add(-30 * time.Second))}}); w.Code != http.StatusUnauthorized {
		t.Fatalf("a used code: %d", w.Code)
	}
	w = c.do("POST", "/console/signin/code", "", url.Values{"challenge": {challenge}, "code": {code(now)}})
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 1 {
		t.Fatalf("the right code: %d %s", w.Code, w.Body)
	}
	token := w.Result().Cookies()[0].Value
	if w := c.do("GET", "/console/account", token, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="totp-state">On`) {
		t.Fatalf("the new session: %d", w.Code)
	}

	// One step (the API): a password alone is refused, as is a used code.
	_, err := c.app.Accounts.SignInWithCode(context.Background(), c.email1, testPassword, "", "192.0.2.1")
	if doorman.ErrorReason(err) != app.ReasonTOTPRequired {
		t.Fatalf("API sign-in without a code: %v", err)
	}
	_, err = c.app.Accounts.SignIn(context.Background(), c.email1, testPassword, "192.0.2.1")
	if doorman.ErrorReason(err) != app.ReasonTOTPRequired {
		t.Fatalf("SignIn without a code: %v", err)
	}
	_, err = c.app.Accounts.SignInWithCode(context.Background(), c.email1, testPassword, code(now), "192.0.2.1")
	if doorman.ErrorReason(err) != app.ReasonTOTPInvalid {
		t.Fatalf("API sign-in with a used code: %v", err)
	}

	// Wrong codes are limited per manager: past the limit even the right
	// code waits.
	for range app.SignInTOTPFailures {
		c.do("POST", "/console/signin/code", "", url.Values{"challenge": {challenge}, "code": {"000001"}})
	}
	w = c.do("POST", "/console/signin/code", "", url.Values{"challenge": {challenge}, "code": {code(now.Add(30 * time.Second))}})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("past the code limit: %d", w.Code)
	}

	// Turning it off needs a code.
	if w := c.do("POST", "/console/account/totp/disable", token, url.Values{"code": {""}}); w.Code == http.StatusSeeOther {
		t.Fatal("codes turned off without a code")
	}
}

// TestConsoleSignOutEverywhere ends every session of the manager, and no
// other manager's.
func TestConsoleSignOutEverywhere(t *testing.T) {
	c := newConsole(t)
	other, err := c.app.Accounts.SignIn(context.Background(), c.email1, testPassword, "192.0.2.2")
	must(t, err)
	if w := c.do("POST", "/console/account/signout-everywhere", c.m1, url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", w.Code)
	}
	for _, tok := range []string{c.m1, other.Token} {
		if w := c.do("GET", "/console/account", tok, nil); w.Code != http.StatusSeeOther {
			t.Errorf("a session still works after signing out everywhere: %d", w.Code)
		}
	}
	if w := c.do("GET", "/console/account", c.m2, nil); w.Code != http.StatusOK {
		t.Errorf("another manager's session ended: %d", w.Code)
	}
}

// TestConsoleDoorEvents: the live status is a text/event-stream whose
// first event is the status table; it ends when the session is revoked.
func TestConsoleDoorEvents(t *testing.T) {
	c := newConsole(t)
	srv := httptest.NewServer(c.h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/console/buildings/"+c.b1.ID+"/doors/events", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: c.m1})
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	buf := make([]byte, 4096)
	n, err := res.Body.Read(buf)
	must(t, err)
	if first := string(buf[:n]); !strings.HasPrefix(first, "event: doors\ndata: ") || !strings.Contains(first, "Front") {
		t.Fatalf("first event: %q", first)
	}
	// Lock the door down: the next event says so.
	if w := c.do("POST", "/console/buildings/"+c.b1.ID+"/doors/"+c.door1.ID+"/lockdown", c.m1, url.Values{"on": {"1"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("lockdown: %d", w.Code)
	}
	var got strings.Builder
	for !strings.Contains(got.String(), "Locked down") {
		n, err := res.Body.Read(buf)
		if err != nil {
			t.Fatalf("waiting for the lockdown event: %v (%q)", err, got.String())
		}
		got.Write(buf[:n])
	}
	// Revoke the session: the stream ends.
	if w := c.do("POST", "/console/account/signout-everywhere", c.m1, url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", w.Code)
	}
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, res.Body); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the stream broke instead of ending: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream outlived its session")
	}
}

// TestConsoleHours: the hours form saves windows per weekday and the
// distance; the building service refuses impossible times and the form
// keeps what was typed; "any hour" clears the hours.
func TestConsoleHours(t *testing.T) {
	c := newConsole(t)
	path := "/console/buildings/" + c.b1.ID + "/hours"
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	w := c.do("POST", path, c.m1, url.Values{"monday": {"08:00-12:00, 14:00-20:00"}, "saturday": {"10:00-14:00"}, "max_distance": {"150"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", w.Code, w.Body)
	}
	b, err := c.app.Buildings.Building(sys, c.b1.ID)
	must(t, err)
	if b.DeliveryHours == nil || len(b.DeliveryHours.Monday) != 2 || b.DeliveryHours.Monday[1].End != "20:00" ||
		len(b.DeliveryHours.Saturday) != 1 || len(b.DeliveryHours.Sunday) != 0 || b.MaxDistanceMeters != 150 {
		t.Fatalf("saved %+v, distance %v", b.DeliveryHours, b.MaxDistanceMeters)
	}
	w = c.do("POST", path, c.m1, url.Values{"monday": {"20:00-08:00"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "must start before it ends") ||
		!strings.Contains(w.Body.String(), `value="20:00-08:00"`) {
		t.Fatalf("an impossible window: %d\n%s", w.Code, w.Body)
	}
	if w = c.do("POST", path, c.m1, url.Values{"any_hour": {"1"}, "monday": {"whatever"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("any hour: %d %s", w.Code, w.Body)
	}
	b, err = c.app.Buildings.Building(sys, c.b1.ID)
	must(t, err)
	if b.DeliveryHours != nil || b.MaxDistanceMeters != 0 {
		t.Fatalf("after any hour: %+v, %v", b.DeliveryHours, b.MaxDistanceMeters)
	}
}

// TestConsoleOfflineDays: the hours form sets the building's offline
// delivery window; a bad value is refused with the typed value kept, and
// a manager of another building cannot change it.
func TestConsoleOfflineDays(t *testing.T) {
	c := newConsole(t)
	path := "/console/buildings/" + c.b1.ID + "/hours"
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	if w := c.do("POST", path, c.m1, url.Values{"any_hour": {"1"}, "offline_days": {"14"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", w.Code, w.Body)
	}
	b, err := c.app.Buildings.Building(sys, c.b1.ID)
	must(t, err)
	if b.OfflineDeliveryDays != 14 {
		t.Fatalf("saved %d days", b.OfflineDeliveryDays)
	}
	for _, typed := range []string{"31", "-1", "two"} {
		w := c.do("POST", path, c.m1, url.Values{"any_hour": {"1"}, "offline_days": {typed}})
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `value="`+typed+`"`) {
			t.Fatalf("%q: %d\n%s", typed, w.Code, w.Body)
		}
	}
	if w := c.do("GET", "/console/buildings/"+c.b1.ID+"/carriers", c.m1, nil); !strings.Contains(w.Body.String(), `id="offline_days" name="offline_days" inputmode="numeric" value="14"`) {
		t.Fatalf("the form does not show the window:\n%s", w.Body)
	}
	if w := c.do("POST", path, c.m2, url.Values{"any_hour": {"1"}, "offline_days": {"0"}}); w.Code == http.StatusSeeOther {
		t.Fatalf("another building's manager changed it: %d", w.Code)
	}
	b, err = c.app.Buildings.Building(sys, c.b1.ID)
	must(t, err)
	if b.OfflineDeliveryDays != 14 {
		t.Fatalf("after refusals: %d days", b.OfflineDeliveryDays)
	}
}

// TestConsoleDoorPositionOfAnOfflineDevice: a door whose device is offline
// is not shown closed on the strength of its last report (a jammed or cut
// sensor must not pass for a shut door); the page says the position is
// unknown and what the device last reported, and when.
func TestConsoleDoorPositionOfAnOfflineDevice(t *testing.T) {
	c := newConsole(t)
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	at := time.Now().Add(-time.Hour).UTC()
	must(t, c.store.AppendAudit(sys, &doorman.AuditEntry{BuildingID: c.b1.ID, DoorID: c.door1.ID, At: at,
		Action: doorman.DeviceEventAction(doorman.EventDoorClosed), Actor: "device:" + c.device1}))
	w := c.do("GET", "/console/buildings/"+c.b1.ID+"/doors", c.m1, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("doors page: %d", w.Code)
	}
	body := w.Body.String()
	if strings.Contains(body, `badge ok">Closed`) {
		t.Fatal("an offline door is shown closed")
	}
	if !strings.Contains(body, "the device is offline; it last reported closed") {
		t.Fatalf("the page does not say what the offline device last reported:\n%s", body)
	}
}

// TestConsoleRefusesNamesThatAreNotText: a form field posted as %D0 (not
// UTF-8) or with a line break is refused with the form kept, never stored
// (PostgreSQL would answer invalid UTF-8 with an internal error) and
// never a server error.
func TestConsoleRefusesNamesThatAreNotText(t *testing.T) {
	c := newConsole(t)
	b := "/console/buildings/" + c.b1.ID
	for path, form := range map[string]url.Values{
		b + "/doors": {"name": {"\xd0"}},
		b + "/units": {"label": {"9Z\r\nBcc: x@example.com"}},
		b:            {"name": {"Maple\x00"}, "address": {"1 Road"}, "timezone": {"UTC"}},
	} {
		w := c.do("POST", path, c.m1, form)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "plain text") {
			t.Errorf("POST %s %q: %d, want 422 saying plain text", path, form, w.Code)
		}
	}
	c.unchanged()
}
