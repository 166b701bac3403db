package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// The real bus is what the server is wired to in production.
var _ app.DeviceBus = (*natsbus.Bus)(nil)

// hangGuard bounds waits for asynchronous events; it is not a timing
// assertion.
const hangGuard = 20 * time.Second

// deviceKey is a device's NATS user key pair, as a device generates it.
type deviceKey struct{ pub, seed string }

func newDeviceKey(t testing.TB) deviceKey {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	return deviceKey{pub: pub, seed: string(seed)}
}

// freshEnrollment stores an enrollment code for a door and returns it.
func (f *fixture) freshEnrollment(doorID string) string {
	f.t.Helper()
	code := app.NewEnrollmentCode()
	canonical, _ := app.NormalizeEnrollmentCode(code)
	e := &doorman.Enrollment{DoorID: doorID, CodeHash: doorman.HashToken(canonical), ExpiresAt: f.clock.Now().Add(doorman.EnrollmentTTL)}
	if err := f.store.CreateEnrollment(ctxBG, e); err != nil {
		f.t.Fatal(err)
	}
	return code
}

// freshDevice enrolls a device for a door through the store.
func (f *fixture) freshDevice(doorID string) *doorman.Device {
	f.t.Helper()
	canonical, _ := app.NormalizeEnrollmentCode(f.freshEnrollment(doorID))
	d := &doorman.Device{PublicKey: newDeviceKey(f.t).pub}
	if _, err := f.store.EnrollDevice(ctxBG, doorman.HashToken(canonical), d, f.clock.Now()); err != nil {
		f.t.Fatal(err)
	}
	return d
}

// createEnrollment asks the API for a code as a principal.
func (f *fixture) createEnrollment(principal, buildingID, doorID string) app.NewEnrollment {
	f.t.Helper()
	return decode[app.NewEnrollment](f.t, f.must(201, request{Method: "POST", Token: f.tokens[principal],
		Path: "/v1/buildings/" + buildingID + "/doors/" + doorID + "/enrollments"}))
}

// enroll posts an enrollment request from an address.
func (f *fixture) enroll(code, nkey, remote string) *response {
	f.t.Helper()
	return f.do(f.enrollRequest(code, nkey, remote))
}

// enrollRequest is the request a device sends to enroll.
func (f *fixture) enrollRequest(code, nkey, remote string) request {
	return request{Method: "POST", Path: wire.EnrollPath, RemoteAddr: remote, Body: map[string]any{"code": code, "nkey": nkey}}
}

// devices lists building A's devices through the store.
func (f *fixture) devices() []*doorman.Device {
	f.t.Helper()
	list, _, err := f.store.ListDevices(ctxBG, f.buildingA.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

// connect opens a bus connection with an enrolled identity, as the agent
// does.
func connect(id *agent.Identity, opts ...nats.Option) (*nats.Conn, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(id.CACertPEM))
	return nats.Connect(strings.Join(id.NATSURLs, ","), append([]nats.Option{
		nats.UserJWTAndSeed(id.UserJWT, id.NKeySeed),
		nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), nats.TLSHandshakeFirst(),
		nats.CustomInboxPrefix(wire.InboxPrefix(id.DoorID)),
		nats.MaxReconnects(0),
		// Revocations close the connection; tests watch ClosedHandler.
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
	}, opts...)...)
}

// enrollAgent enrolls a real agent for a door over HTTP with a new code.
func (f *fixture) enrollAgent(srvURL, doorID string) (*agent.Identity, string) {
	f.t.Helper()
	code := f.createEnrollment(pManagerA, f.buildingA.ID, doorID).Code
	dir := f.t.TempDir()
	id, err := agent.Enroll(context.Background(), agent.EnrollOptions{Server: srvURL, Code: code, DataDir: dir})
	if err != nil {
		f.t.Fatalf("agent enroll: %v", err)
	}
	return id, dir
}

var codeFormat = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`)

// TestEnrollAgent enrolls a real agent against the API over the real
// embedded bus and checks what it stored and that it can connect.
func TestEnrollAgent(t *testing.T) {
	f := newFixture(t, withBus)
	srv := httptest.NewServer(f.server.Handler())
	defer srv.Close()

	created := f.createEnrollment(pManagerA, f.buildingA.ID, f.doorA.ID)
	if !codeFormat.MatchString(created.Code) || created.DoorID != f.doorA.ID || !doorman.HasPrefix(created.ID, doorman.PrefixEnrollment) {
		t.Fatalf("enrollment %+v", created)
	}
	if want := f.clock.Now().Add(doorman.EnrollmentTTL); !created.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want %v", created.ExpiresAt, want)
	}

	// The code is typed by hand: lower case and spaces are fine.
	dir := t.TempDir()
	typed := strings.ToLower(strings.ReplaceAll(created.Code, "-", " "))
	id, err := agent.Enroll(context.Background(), agent.EnrollOptions{Server: srv.URL, Code: typed, DataDir: dir})
	if err != nil {
		t.Fatalf("agent enroll: %v", err)
	}
	stored, err := agent.LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.FromSeed([]byte(stored.NKeySeed))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	devs := f.devices()
	if len(devs) != 1 {
		t.Fatalf("%d devices, want 1", len(devs))
	}
	d := devs[0]
	switch {
	case stored.DeviceID != id.DeviceID || stored.DeviceID != d.ID:
		t.Fatalf("device ID %s, store has %s", stored.DeviceID, d.ID)
	case stored.DoorID != f.doorA.ID || d.DoorID != f.doorA.ID || d.BuildingID != f.buildingA.ID:
		t.Fatalf("door %s, device %+v", stored.DoorID, d)
	case d.PublicKey != pub || d.RevokedAt != nil:
		t.Fatalf("store has key %s (revoked %v), device holds %s", d.PublicKey, d.RevokedAt, pub)
	case stored.CACertPEM != string(f.bus.CACertPEM()):
		t.Fatal("the device did not pin the bus CA")
	case !slices.Equal(stored.NATSURLs, f.bus.DeviceURLs()):
		t.Fatalf("bus URLs %v, want %v", stored.NATSURLs, f.bus.DeviceURLs())
	case !slices.Equal(stored.CommandKeys, f.keys.VerifyKeys()):
		t.Fatalf("command keys %v, want %v", stored.CommandKeys, f.keys.VerifyKeys())
	case stored.Door.PulseMillis != f.doorA.PulseMillis:
		t.Fatalf("pulse %d, want %d", stored.Door.PulseMillis, f.doorA.PulseMillis)
	}
	uc, err := jwt.DecodeUserClaims(stored.UserJWT)
	if err != nil || uc.Subject != pub {
		t.Fatalf("user JWT %+v, %v", uc, err)
	}
	nc, err := connect(stored)
	if err != nil {
		t.Fatalf("enrolled device cannot connect: %v", err)
	}
	defer nc.Close()

	// The code worked once.
	_, err = agent.Enroll(context.Background(), agent.EnrollOptions{Server: srv.URL, Code: created.Code, DataDir: t.TempDir()})
	if doorman.ErrorCode(err) != doorman.EUNAUTHORIZED {
		t.Fatalf("second use of the code: %v", err)
	}
	if n := len(f.devices()); n != 1 {
		t.Fatalf("%d devices after a refused enrollment", n)
	}

	// The API lists the device.
	page := decode[Page[*doorman.Device]](t, f.must(200, request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID + "/devices", Token: f.tokens[pManagerA]}))
	if len(page.Items) != 1 || page.Items[0].ID != d.ID || page.Items[0].PublicKey != pub || page.NextCursor != "" {
		t.Fatalf("list %+v", page)
	}

	// Enrolling a new device for the door replaces the old one: it is
	// revoked and thrown off the bus.
	closed := make(chan struct{})
	old, err := connect(stored, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	second, _ := f.enrollAgent(srv.URL, f.doorA.ID)
	select {
	case <-closed:
	case <-time.After(hangGuard):
		t.Fatal("the replaced device is still connected")
	}
	if c, err := connect(stored); err == nil {
		c.Close()
		t.Fatal("the replaced device reconnected")
	}
	if c, err := connect(second); err != nil {
		t.Fatalf("the new device cannot connect: %v", err)
	} else {
		c.Close()
	}
	devs = f.devices()
	if len(devs) != 2 || devs[0].RevokedAt == nil || devs[1].RevokedAt != nil || devs[1].ID != second.DeviceID {
		t.Fatalf("devices after replacement: %+v %+v", devs[0], devs[1])
	}
}

// TestRevokeDevice: after DELETE the device's bus connection is closed and
// refused from then on.
func TestRevokeDevice(t *testing.T) {
	f := newFixture(t, withBus)
	srv := httptest.NewServer(f.server.Handler())
	defer srv.Close()
	id, _ := f.enrollAgent(srv.URL, f.doorA.ID)
	other, _ := f.enrollAgent(srv.URL, f.doorA2.ID)

	closed := make(chan struct{})
	nc, err := connect(id, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	otherNC, err := connect(other)
	if err != nil {
		t.Fatal(err)
	}
	defer otherNC.Close()

	bA, bB := "/v1/buildings/"+f.buildingA.ID, "/v1/buildings/"+f.buildingB.ID
	// Not through another building, nor by its manager: the same 404 as
	// a device that does not exist.
	missing := f.must(404, request{Method: "DELETE", Path: bB + "/devices/" + doorman.NewID(doorman.PrefixDevice), Token: f.tokens[pOperator]})
	foreign := f.must(404, request{Method: "DELETE", Path: bB + "/devices/" + id.DeviceID, Token: f.tokens[pOperator]})
	byB := f.must(404, request{Method: "DELETE", Path: bA + "/devices/" + id.DeviceID, Token: f.tokens[pManagerB]})
	if !bytes.Equal(missing.Body, foreign.Body) {
		t.Fatalf("foreign device answered differently:\n%s\n%s", missing.Body, foreign.Body)
	}
	if byB.Problem(t).Code != doorman.ENOTFOUND || !nc.IsConnected() {
		t.Fatalf("a refused revocation took effect: %s", byB.Body)
	}

	f.must(204, request{Method: "DELETE", Path: bA + "/devices/" + id.DeviceID, Token: f.tokens[pManagerA]})
	select {
	case <-closed:
	case <-time.After(hangGuard):
		t.Fatal("the revoked device is still connected")
	}
	if c, err := connect(id); err == nil {
		c.Close()
		t.Fatal("the revoked device reconnected")
	}
	if !otherNC.IsConnected() {
		t.Fatal("revoking one device disconnected another")
	}
	d, err := f.store.Device(ctxBG, id.DeviceID)
	if err != nil || d.RevokedAt == nil {
		t.Fatalf("device %+v, %v: not revoked in the store", d, err)
	}
	// Revoking again changes nothing and is not an error.
	f.must(204, request{Method: "DELETE", Path: bA + "/devices/" + id.DeviceID, Token: f.tokens[pOperator]})
	d2, _ := f.store.Device(ctxBG, id.DeviceID)
	if !d2.RevokedAt.Equal(*d.RevokedAt) {
		t.Fatalf("second revocation moved revoked_at from %v to %v", d.RevokedAt, d2.RevokedAt)
	}
	// Garbage IDs are 404 too.
	for _, dev := range []string{"dev_x", f.doorA.ID, "%00"} {
		f.expectProblem(404, doorman.ENOTFOUND, request{Method: "DELETE", Path: bA + "/devices/" + dev, Token: f.tokens[pOperator]})
	}
}

func TestEnrollBadInput(t *testing.T) {
	f := newFixture(t, withBus)
	key := newDeviceKey(t)
	enr := f.freshEnrollment(f.doorA.ID)
	canonical, _ := app.NormalizeEnrollmentCode(enr)
	last := byte('A')
	if key.pub[55] == 'A' {
		last = 'B'
	}
	badSum := key.pub[:55] + string(last)
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"truncated", `{"code":"` + enr + `","nkey":`, 400},
		{"not JSON", `code=` + enr, 400},
		{"empty", ``, 400},
		{"unknown field", map[string]any{"code": enr, "nkey": key.pub, "door_id": f.doorA2.ID}, 422},
		{"case-folded field", map[string]any{"Code": enr, "nkey": key.pub}, 422},
		{"no nkey", map[string]any{"code": enr}, 422},
		{"short nkey", map[string]any{"code": enr, "nkey": key.pub[:55]}, 422},
		{"long nkey", map[string]any{"code": enr, "nkey": key.pub + "A"}, 422},
		{"nkey with a bad checksum", map[string]any{"code": enr, "nkey": badSum}, 422},
		{"account key", map[string]any{"code": enr, "nkey": "A" + key.pub[1:]}, 422},
		{"seed as nkey", map[string]any{"code": enr, "nkey": key.seed[:56]}, 422},
		{"short code", map[string]any{"code": enr[:7], "nkey": key.pub}, 422},
		{"long code", map[string]any{"code": enr + strings.Repeat("A", 120), "nkey": key.pub}, 422},
		{"long agent version", map[string]any{"code": enr, "nkey": key.pub, "agent_version": strings.Repeat("1", 65)}, 422},
		{"oversized", `{"code":"` + enr + `","nkey":"` + key.pub + `","agent_version":"` + strings.Repeat("1", wire.MaxEnrollSize) + `"}`, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := f.with(t)
			want := doorman.EINVALID
			if tc.status == 413 {
				want = doorman.ETOOLARGE
			}
			p := f.expectProblem(tc.status, want, request{Method: "POST", Path: wire.EnrollPath, Body: tc.body})
			if b := mustJSON(t, p); bytes.Contains(b, []byte(enr[:7])) || bytes.Contains(b, []byte(canonical[:7])) {
				t.Fatalf("problem echoes the code: %s", b)
			}
		})
	}
	// Nothing was written, nothing counted as a guess, and the code still
	// works.
	if n := len(f.devices()); n != 0 {
		t.Fatalf("%d devices after bad requests", n)
	}
	f.must(201, f.enrollRequest(enr, key.pub, ""))
	// A key that was registered once cannot enroll again.
	f.expectProblem(409, doorman.ECONFLICT, f.enrollRequest(f.freshEnrollment(f.doorA.ID), key.pub, ""))
}

// TestEnrollCodeGuessing: wrong, used and expired codes all get the same
// 404; after app.EnrollFailures wrong codes an address gets 429, even with a
// right code, which stays unused; other addresses are not held back, and
// the global limit holds back everyone.
func TestEnrollCodeGuessing(t *testing.T) {
	f := newFixture(t, withBus)
	good := f.freshEnrollment(f.doorA.ID)
	expiring := f.freshEnrollment(f.doorA2.ID)
	used := f.freshEnrollment(f.doorB.ID)
	f.must(201, f.enrollRequest(used, newDeviceKey(t).pub, "198.51.100.7:4000"))

	const attacker = "203.0.113.9:5555"
	var first []byte
	for i := range app.EnrollFailures {
		res := f.enroll(app.NewEnrollmentCode(), newDeviceKey(t).pub, attacker)
		if res.Status != 404 {
			t.Fatalf("guess %d: %d %s", i, res.Status, res.Body)
		}
		if first == nil {
			first = res.Body
			if p := res.Problem(t); p.Code != doorman.ENOTFOUND {
				t.Fatalf("code %q", p.Code)
			}
		} else if !bytes.Equal(res.Body, first) {
			t.Fatalf("wrong codes answered differently:\n%s\n%s", first, res.Body)
		}
	}
	res := f.enroll(good, newDeviceKey(t).pub, attacker)
	if res.Status != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d wrong codes: %d %s", app.EnrollFailures, res.Status, res.Body)
	}
	if p := res.Problem(t); p.Code != doorman.ETOOMANYREQUEST || p.Reason != doorman.ReasonRateLimited {
		t.Fatalf("problem %+v", p)
	}
	// Another port of the same address is the same caller.
	if res := f.enroll(good, newDeviceKey(t).pub, "203.0.113.9:6666"); res.Status != 429 {
		t.Fatalf("same address, other port: %d", res.Status)
	}
	if n := len(f.devices()); n != 0 {
		t.Fatalf("%d devices in building A after refused attempts", n)
	}

	// A used code gets the very answer of a wrong one, also from an
	// address in good standing.
	const installer = "192.0.2.50:1234"
	if res := f.enroll(used, newDeviceKey(t).pub, installer); res.Status != 404 || !bytes.Equal(res.Body, first) {
		t.Fatalf("used code: %d %s", res.Status, res.Body)
	}
	// The right code was not used up by the refused attempts.
	f.must(201, f.enrollRequest(good, newDeviceKey(t).pub, installer))

	// IPv6 callers are counted per /64.
	for range app.EnrollFailures {
		f.must(404, f.enrollRequest(app.NewEnrollmentCode(), newDeviceKey(t).pub, "[2001:db8:1:2::1]:443"))
	}
	if res := f.enroll(f.freshEnrollment(f.doorA.ID), newDeviceKey(t).pub, "[2001:db8:1:2:ffff::9]:443"); res.Status != 429 {
		t.Fatalf("same /64: %d %s", res.Status, res.Body)
	}
	f.must(201, f.enrollRequest(f.freshEnrollment(f.doorA.ID), newDeviceKey(t).pub, "[2001:db8:1:3::1]:443"))

	// The global limit: past it, wrong codes from many addresses hold
	// back every address that tried before, but a fresh address keeps its
	// first attempt, so an installer is never shut out by a spray.
	counted, _, err := f.store.Throttle(ctxBG, app.EnrollGlobalKey, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	prefill := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for range app.EnrollGlobalFailures - 5 - counted {
		wg.Add(1)
		prefill <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-prefill }()
			if _, _, err := f.store.ThrottleFail(ctxBG, app.EnrollGlobalKey, f.clock.Now(), app.EnrollWindow); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 5 {
		f.must(404, f.enrollRequest(app.NewEnrollmentCode(), newDeviceKey(t).pub, fmt.Sprintf("198.18.0.%d:1000", i+1)))
	}
	if res := f.enroll(f.freshEnrollment(f.doorA.ID), newDeviceKey(t).pub, "198.18.0.1:1000"); res.Status != 429 {
		t.Fatalf("an address that tried before, after the global limit: %d %s", res.Status, res.Body)
	}
	f.must(201, f.enrollRequest(f.freshEnrollment(f.doorA.ID), newDeviceKey(t).pub, "192.0.2.200:1000"))

	// The window passes: the attacker may try again, and the code that
	// was never used has expired, with the answer of a wrong code.
	f.clock.Advance(app.EnrollWindow + time.Second)
	f.must(404, f.enrollRequest(app.NewEnrollmentCode(), newDeviceKey(t).pub, attacker))
	if res := f.enroll(expiring, newDeviceKey(t).pub, installer); res.Status != 404 || !bytes.Equal(res.Body, first) {
		t.Fatalf("expired code: %d %s", res.Status, res.Body)
	}
}

// TestEnrollWithoutBus: a server without a bus refuses enrollment with 503
// before the code is looked at, so the code still works on a server that
// has one.
func TestEnrollWithoutBus(t *testing.T) {
	f := newFixture(t)
	code := f.createEnrollment(pManagerA, f.buildingA.ID, f.doorA.ID).Code
	p := f.expectProblem(503, doorman.EUNAVAILABLE, f.enrollRequest(code, newDeviceKey(t).pub, ""))
	if !strings.Contains(p.Detail, "no device bus") {
		t.Fatalf("detail %q", p.Detail)
	}
	if n := len(f.devices()); n != 0 {
		t.Fatalf("%d devices", n)
	}
	// Revoking works without a bus: the store refuses the device's events.
	dev := f.freshDevice(f.doorA2.ID)
	f.must(204, request{Method: "DELETE", Path: "/v1/buildings/" + f.buildingA.ID + "/devices/" + dev.ID, Token: f.tokens[pManagerA]})

	// Another server over the same store, with a bus.
	other := *f.env
	appCfg := *f.appCfg
	appCfg.Bus, appCfg.Keys = openBus(t)
	other.server = NewServer(Config{App: app.New(f.store, appCfg), Idempotency: f.store, Logger: f.server.logger})
	other.must(201, f.enrollRequest(code, newDeviceKey(t).pub, ""))
}

// TestEnrollIssueFails: when the bus refuses credentials after the code
// was used, the new device is revoked again, the answer is 503 and the
// code stays used; the door's previous device stays revoked too.
func TestEnrollIssueFails(t *testing.T) {
	f := newFixture(t, withBus)
	previous := f.freshDevice(f.doorA.ID)
	// The bus refuses a key it revoked before (as after a theft).
	key := newDeviceKey(t)
	if err := f.bus.RevokeDevice(ctxBG, key.pub); err != nil {
		t.Fatal(err)
	}
	code := f.createEnrollment(pManagerA, f.buildingA.ID, f.doorA.ID).Code
	p := f.expectProblem(503, doorman.EUNAVAILABLE, f.enrollRequest(code, key.pub, ""))
	if !strings.Contains(p.Detail, "new one") {
		t.Fatalf("detail %q", p.Detail)
	}
	devs := f.devices()
	if len(devs) != 2 || devs[0].ID != previous.ID || devs[1].PublicKey != key.pub {
		t.Fatalf("devices %+v", devs)
	}
	for _, d := range devs {
		if d.RevokedAt == nil {
			t.Fatalf("device %s left active without credentials", d.ID)
		}
	}
	// Neither device is heard about what happens from now on.
	for i, d := range devs {
		_, err := f.store.RecordDeviceEvent(ctxBG, &doorman.DeviceEvent{ID: fmt.Sprintf("ev-%d", i), DeviceID: d.ID,
			DoorID: f.doorA.ID, Kind: doorman.EventDoorForced, At: f.clock.Now()})
		if doorman.ErrorCode(err) != doorman.EFORBIDDEN {
			t.Fatalf("event of revoked device %s: %v", d.ID, err)
		}
	}
	f.expectProblem(404, doorman.ENOTFOUND, f.enrollRequest(code, newDeviceKey(t).pub, ""))
	if !strings.Contains(f.logText(), "got no credentials") {
		t.Fatal("the failure was not logged")
	}
}

// TestEnrollmentScope: codes are made only for doors of the building named,
// and a foreign door is answered like a missing one.
func TestEnrollmentScope(t *testing.T) {
	f := newFixture(t)
	bA := "/v1/buildings/" + f.buildingA.ID
	missing := f.must(404, request{Method: "POST", Path: bA + "/doors/" + doorman.NewID(doorman.PrefixDoor) + "/enrollments", Token: f.tokens[pOperator]})
	foreign := f.must(404, request{Method: "POST", Path: bA + "/doors/" + f.doorB.ID + "/enrollments", Token: f.tokens[pOperator]})
	if !bytes.Equal(missing.Body, foreign.Body) {
		t.Fatalf("foreign door answered differently:\n%s\n%s", missing.Body, foreign.Body)
	}
	f.must(404, request{Method: "POST", Path: "/v1/buildings/" + f.buildingB.ID + "/doors/" + f.doorB.ID + "/enrollments", Token: f.tokens[pManagerA]})
	f.must(404, request{Method: "GET", Path: "/v1/buildings/" + f.buildingB.ID + "/devices", Token: f.tokens[pManagerA]})

	// Each answer is a new code; codes are never repeated.
	a := f.createEnrollment(pManagerA, f.buildingA.ID, f.doorA.ID)
	b := f.createEnrollment(pManagerA, f.buildingA.ID, f.doorA.ID)
	if a.Code == b.Code || a.ID == b.ID {
		t.Fatalf("two enrollments alike: %+v %+v", a, b)
	}
}

// TestDoorOnline: doors show when their device last reported and whether
// that was recent enough to count as online.
func TestDoorOnline(t *testing.T) {
	f := newFixture(t)
	path := "/v1/buildings/" + f.buildingA.ID + "/doors/" + f.doorA.ID
	get := func() app.Door {
		t.Helper()
		var d app.Door
		res := f.must(200, request{Method: "GET", Path: path, Token: f.tokens[pCarrierX]})
		res.JSON(t, &d)
		if !bytes.Contains(res.Body, []byte(`"online":`)) {
			t.Fatalf("no online field: %s", res.Body)
		}
		return d
	}
	if d := get(); d.Online || d.LastSeenAt != nil {
		t.Fatalf("a door that never reported: %+v", d)
	}
	dev := f.freshDevice(f.doorA.ID)
	at := f.clock.Now()
	if _, err := f.store.RecordDeviceEvent(ctxBG, &doorman.DeviceEvent{ID: "hb-1", DeviceID: dev.ID, DoorID: f.doorA.ID, Kind: doorman.EventHeartbeat, At: at}); err != nil {
		t.Fatal(err)
	}
	if d := get(); !d.Online || d.LastSeenAt == nil || !d.LastSeenAt.Equal(at) {
		t.Fatalf("after a heartbeat: %+v", d)
	}
	list := decode[Page[app.Door]](t, f.must(200, request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID + "/doors", Token: f.tokens[pManagerA]}))
	for _, d := range list.Items {
		if d.Online != (d.ID == f.doorA.ID) {
			t.Fatalf("listed door %s online %v", d.ID, d.Online)
		}
	}
	f.clock.Advance(doorman.DoorOnlineWindow)
	if d := get(); d.Online || d.LastSeenAt == nil {
		t.Fatalf("%s after the heartbeat: %+v", doorman.DoorOnlineWindow, d)
	}
	// Updates and lockdowns answer with the same view.
	d := decode[app.Door](t, f.must(200, request{Method: "PUT", Path: path + "/lockdown", Token: f.tokens[pManagerA]}))
	if !d.LockedDown || d.LastSeenAt == nil {
		t.Fatalf("lockdown answer %+v", d)
	}
}

// TestDoorClockSynced: a door shows whether its device has synced its
// clock (and so accepts commands), as the device's latest heartbeat said;
// a heartbeat delivered late does not overwrite a newer one.
func TestDoorClockSynced(t *testing.T) {
	f := newFixture(t)
	path := "/v1/buildings/" + f.buildingA.ID + "/doors/" + f.doorA.ID
	get := func() app.Door {
		t.Helper()
		res := f.must(200, request{Method: "GET", Path: path, Token: f.tokens[pManagerA]})
		if !bytes.Contains(res.Body, []byte(`"clock_synced":`)) {
			t.Fatalf("no clock_synced field: %s", res.Body)
		}
		var d app.Door
		res.JSON(t, &d)
		return d
	}
	if d := get(); d.ClockSynced {
		t.Fatalf("a door that never reported: %+v", d)
	}
	dev := f.freshDevice(f.doorA.ID)
	beat := func(id string, at time.Time, synced bool) {
		t.Helper()
		if _, err := f.store.RecordDeviceEvent(ctxBG, &doorman.DeviceEvent{ID: id, DeviceID: dev.ID, DoorID: f.doorA.ID,
			Kind: doorman.EventHeartbeat, At: at, ClockSynced: synced}); err != nil {
			t.Fatal(err)
		}
	}
	at := f.clock.Now()
	beat("hb-unsynced", at.Add(-2*time.Second), false)
	if d := get(); d.ClockSynced || !d.Online {
		t.Fatalf("after a heartbeat of an unsynced device: %+v", d)
	}
	beat("hb-synced", at, true)
	if d := get(); !d.ClockSynced {
		t.Fatalf("after a heartbeat of a synced device: %+v", d)
	}
	beat("hb-late", at.Add(-time.Second), false)
	if d := get(); !d.ClockSynced {
		t.Fatalf("a heartbeat delivered late overwrote a newer one: %+v", d)
	}
}

// TestDoorStorageFault: a door shows that its device cannot write its
// records (a full disk), as its latest heartbeat said, and that it can
// again.
func TestDoorStorageFault(t *testing.T) {
	f := newFixture(t)
	path := "/v1/buildings/" + f.buildingA.ID + "/doors/" + f.doorA.ID
	get := func() app.Door {
		t.Helper()
		res := f.must(200, request{Method: "GET", Path: path, Token: f.tokens[pManagerA]})
		if !bytes.Contains(res.Body, []byte(`"storage_fault":`)) {
			t.Fatalf("no storage_fault field: %s", res.Body)
		}
		var d app.Door
		res.JSON(t, &d)
		return d
	}
	if d := get(); d.StorageFault {
		t.Fatalf("a door that never reported: %+v", d)
	}
	dev := f.freshDevice(f.doorA.ID)
	at := f.clock.Now()
	for i, fault := range []bool{true, false} {
		if _, err := f.store.RecordDeviceEvent(ctxBG, &doorman.DeviceEvent{ID: fmt.Sprintf("hb-%d", i), DeviceID: dev.ID,
			DoorID: f.doorA.ID, Kind: doorman.EventHeartbeat, At: at.Add(time.Duration(i) * time.Second),
			ClockSynced: true, StorageFault: fault}); err != nil {
			t.Fatal(err)
		}
		if d := get(); d.StorageFault != fault || !d.ClockSynced {
			t.Fatalf("after a heartbeat with storage_fault %v: %+v", fault, d)
		}
	}
}

// logText returns what the server logged so far.
func (e *env) logText() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.String()
}
