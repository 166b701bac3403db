package http

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// The leaks a review from outside found, each shown from the attacker's
// side.

// TestLeakForeignDoor: a courier cannot tell a door of a building that
// does not allow its carrier from a door that does not exist, and its
// attempt leaves nothing in that building's chain.
func TestLeakForeignDoor(t *testing.T) {
	f := newFixture(t)
	ask := func(door string) *response {
		return f.do(request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
			Body: map[string]any{"door_id": door, "tracking_numbers": []string{"TRK-X-1"}}})
	}
	real, fake := ask(f.doorB.ID), ask(doorman.NewID(doorman.PrefixDoor))
	if real.Status != fake.Status || !bytes.Equal(real.Body, fake.Body) {
		t.Fatalf("a real foreign door answers %d %s; a made-up door %d %s", real.Status, real.Body, fake.Status, fake.Body)
	}
	entries := decode[Page[*doorman.AuditEntry]](t, f.must(200, request{Method: "GET", Path: "/v1/audit?building_id=" + f.buildingB.ID, Token: f.tokens[pManagerB]}))
	for _, e := range entries.Items {
		if e.CourierID == f.courierX.ID {
			t.Fatalf("the foreign building's chain holds the attempt: %+v", e)
		}
	}
}

// TestLeakAuditChainPositions: what a carrier or courier reads of the
// audit log is its own entries, without chain positions or hashes.
func TestLeakAuditChainPositions(t *testing.T) {
	f := newFixture(t)
	f.must(200, request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
		Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"TRK-X-1"}}})
	for _, who := range []string{pCarrierX, pCourierX} {
		res := f.must(200, request{Method: "GET", Path: "/v1/audit", Token: f.tokens[who]})
		page := decode[Page[*doorman.AuditEntry]](t, res)
		if len(page.Items) == 0 {
			t.Fatalf("%s sees none of its entries", who)
		}
		for _, field := range []string{`"seq"`, `"hash"`, `"prev_hash"`, `"chain"`} {
			if bytes.Contains(res.Body, []byte(field)) {
				t.Fatalf("%s is shown %s: %s", who, field, res.Body)
			}
		}
	}
	// The manager still sees the chain.
	res := f.must(200, request{Method: "GET", Path: "/v1/audit", Token: f.tokens[pManagerA]})
	if !bytes.Contains(res.Body, []byte(`"hash"`)) {
		t.Fatalf("the manager lost the chain: %s", res.Body)
	}
}

// TestLeakIdempotencyKeyAcrossCarriers: carrier Y sending the key carrier
// X used, to X's path, learns nothing: the answer is the one it gets
// without a key.
func TestLeakIdempotencyKeyAcrossCarriers(t *testing.T) {
	f := newFixture(t)
	path := "/v1/carriers/" + f.carrierX.ID + "/manifests"
	body := map[string]any{"parcels": []map[string]any{{"tracking_number": "IDEM-1", "building_id": f.buildingA.ID, "unit": "4B"}}}
	f.must(200, request{Method: "POST", Path: path, Token: f.tokens[pCarrierX], Body: body, Header: map[string]string{"Idempotency-Key": "k-1"}})

	other := map[string]any{"parcels": []map[string]any{{"tracking_number": "IDEM-2", "building_id": f.buildingB.ID, "unit": "1A"}}}
	with := f.do(request{Method: "POST", Path: path, Token: f.tokens[pCarrierY], Body: other, Header: map[string]string{"Idempotency-Key": "k-1"}})
	without := f.do(request{Method: "POST", Path: path, Token: f.tokens[pCarrierY], Body: other})
	if with.Status != 404 || with.Status != without.Status || !bytes.Equal(with.Body, without.Body) {
		t.Fatalf("carrier Y with X's key: %d %s; without a key: %d %s", with.Status, with.Body, without.Status, without.Body)
	}
	// On its own path the key is Y's own and fresh.
	f.must(200, request{Method: "POST", Path: "/v1/carriers/" + f.carrierY.ID + "/manifests", Token: f.tokens[pCarrierY], Body: other,
		Header: map[string]string{"Idempotency-Key": "k-1"}})
	// Two operators do not share keys either.
	op2 := f.credential(doorman.RoleOperator, "", "")
	c1 := f.must(201, request{Method: "POST", Path: "/v1/carriers", Token: f.tokens[pOperator], Body: map[string]any{"name": "Idem A"}, Header: map[string]string{"Idempotency-Key": "op-1"}})
	c2 := f.do(request{Method: "POST", Path: "/v1/carriers", Token: op2, Body: map[string]any{"name": "Idem A"}, Header: map[string]string{"Idempotency-Key": "op-1"}})
	if c2.Header.Get("Idempotent-Replayed") != "" || bytes.Equal(c1.Body, c2.Body) {
		t.Fatalf("another operator got the first operator's answer replayed: %d %s", c2.Status, c2.Body)
	}
}

// TestLeakRateLimitedFlood: one courier flooding a door is told when to
// come back, and the flood does not fill the building's chain.
func TestLeakRateLimitedFlood(t *testing.T) {
	f := newFixture(t)
	var last *response
	for range 40 {
		last = f.must(200, request{Method: "POST", Path: "/v1/courier/access-requests", Token: f.tokens[pCourierX],
			Body: map[string]any{"door_id": f.doorA.ID, "tracking_numbers": []string{"NOT-MINE"}}})
	}
	res := decode[doorman.AccessResult](t, last)
	if res.Decision.Reason != doorman.ReasonRateLimited {
		t.Fatalf("the 40th request: %+v", res.Decision)
	}
	secs, err := strconv.Atoi(last.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > int((doorman.RateWindow+doorman.RateResolution)/time.Second) {
		t.Fatalf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	if !strings.Contains(last.Header.Get("RateLimit"), "r=0") {
		t.Fatalf("RateLimit %q", last.Header.Get("RateLimit"))
	}
	page := decode[Page[*doorman.AuditEntry]](t, f.must(200, request{Method: "GET", Path: "/v1/audit?door_id=" + f.doorA.ID + "&limit=500", Token: f.tokens[pManagerA]}))
	n := 0
	for _, e := range page.Items {
		if strings.HasPrefix(e.Action, "access.") {
			n++
		}
	}
	if n != doorman.CourierRateLimit {
		t.Fatalf("40 requests wrote %d access entries; want the %d within the limit", n, doorman.CourierRateLimit)
	}
}

// TestLeakManifestForeignBuilding: a manifest line for a building that
// does not allow the carrier is refused exactly like one for a building
// that does not exist, and never lands in that building's parcels.
func TestLeakManifestForeignBuilding(t *testing.T) {
	f := newFixture(t)
	path := "/v1/carriers/" + f.carrierX.ID + "/manifests"
	send := func(building, unit string) *response {
		return f.do(request{Method: "POST", Path: path, Token: f.tokens[pCarrierX],
			Body: map[string]any{"parcels": []map[string]any{{"tracking_number": "FOREIGN-1", "building_id": building, "unit": unit}}}})
	}
	real, fake := send(f.buildingB.ID, "1A"), send(doorman.NewID(doorman.PrefixBuilding), "1A")
	probe := send(f.buildingB.ID, "NO-SUCH-UNIT")
	if real.Status != 422 || !bytes.Equal(real.Body, fake.Body) || !bytes.Equal(probe.Body, fake.Body) {
		t.Fatalf("foreign building %d %s\nmade-up building %d %s\nunit probe %d %s", real.Status, real.Body, fake.Status, fake.Body, probe.Status, probe.Body)
	}
	page := decode[Page[*doorman.Parcel]](t, f.must(200, request{Method: "GET", Path: "/v1/buildings/" + f.buildingB.ID + "/parcels", Token: f.tokens[pManagerB]}))
	if len(page.Items) != 0 {
		t.Fatalf("building B lists %d parcels of a carrier it does not allow", len(page.Items))
	}
}

// TestLeakDeliverTwice: marking a parcel delivered twice is a conflict
// the second time, with a reason; a retry with an Idempotency-Key replays
// the first answer.
func TestLeakDeliverTwice(t *testing.T) {
	f := newFixture(t)
	path := "/v1/courier/parcels/TRK-X-1/delivery"
	key := map[string]string{"Idempotency-Key": "deliver-1"}
	first := f.must(200, request{Method: "POST", Path: path, Token: f.tokens[pCourierX], Header: key})
	retry := f.must(200, request{Method: "POST", Path: path, Token: f.tokens[pCourierX], Header: key})
	if !bytes.Equal(first.Body, retry.Body) || retry.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry with the key: %s", retry.Body)
	}
	p := f.expectProblem(409, doorman.ECONFLICT, request{Method: "POST", Path: path, Token: f.tokens[pCourierX]})
	if p.Reason != doorman.ReasonParcelAlreadyDelivered {
		t.Fatalf("reason %q", p.Reason)
	}
}

// TestLeakSignInLockout: whoever knows a manager's email cannot lock the
// manager out: wrong passwords from one address refuse that address, not
// the manager signing in from elsewhere.
func TestLeakSignInLockout(t *testing.T) {
	f := newFixture(t)
	login := func(addr, pw string) *response {
		return f.do(request{Method: "POST", Path: "/v1/sessions", RemoteAddr: addr,
			Body: map[string]any{"email": f.managerAEmail, "password": pw}})
	}
	const attacker, manager = "203.0.113.66:4000", "198.51.100.20:5000"
	for range app.SignInPairFailures {
		if r := login(attacker, "guess"); r.Status != 401 {
			t.Fatalf("guess: %d %s", r.Status, r.Body)
		}
	}
	if r := login(attacker, testPassword); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("the guessing address: %d %s", r.Status, r.Body)
	}
	if r := login(manager, testPassword); r.Status != 201 {
		t.Fatalf("the manager from another address was kept out: %d %s", r.Status, r.Body)
	}

	// Guesses from many addresses reach the email's own limit: then each
	// address keeps its first attempt (the manager typing the right
	// password from a new address gets in), and addresses the manager
	// signed in from lately keep all of theirs.
	for i := range app.SignInEmailFailures {
		login("198.18."+strconv.Itoa(i/200)+"."+strconv.Itoa(i%200+1)+":1000", "guess")
	}
	if r := login("192.0.2.77:1000", testPassword); r.Status != 201 {
		t.Fatalf("a fresh address's first attempt past the email's limit: %d %s", r.Status, r.Body)
	}
	if r := login("192.0.2.78:1000", "guess"); r.Status != 401 {
		t.Fatalf("a fresh address's first guess: %d %s", r.Status, r.Body)
	}
	if r := login("192.0.2.78:1000", testPassword); r.Status != 429 {
		t.Fatalf("a second attempt past the email's limit: %d %s", r.Status, r.Body)
	}
	if r := login(manager, testPassword); r.Status != 201 {
		t.Fatalf("the manager's known address past the email's limit: %d %s", r.Status, r.Body)
	}
}

// TestBuildingClearFields: generated clients that cannot send null clear
// delivery hours and the distance check with "clear"; null works too, and
// clears instead of being ignored.
func TestBuildingClearFields(t *testing.T) {
	f := newFixture(t)
	path := "/v1/buildings/" + f.buildingA.ID
	m := f.tokens[pManagerA]
	set := `{"max_distance_meters": 150, "delivery_hours": {"monday": [{"start": "08:00", "end": "18:00"}]}}`
	b := decode[*doorman.Building](t, f.must(200, request{Method: "PATCH", Path: path, Token: m, Body: set}))
	if b.MaxDistanceMeters != 150 || b.DeliveryHours == nil {
		t.Fatalf("set: %+v", b)
	}
	b = decode[*doorman.Building](t, f.must(200, request{Method: "PATCH", Path: path, Token: m, Body: `{"clear": ["delivery_hours", "max_distance_meters"]}`}))
	if b.MaxDistanceMeters != 0 || b.DeliveryHours != nil {
		t.Fatalf("clear: %+v", b)
	}
	f.must(200, request{Method: "PATCH", Path: path, Token: m, Body: set})
	b = decode[*doorman.Building](t, f.must(200, request{Method: "PATCH", Path: path, Token: m, Body: `{"max_distance_meters": null, "delivery_hours": null}`}))
	if b.MaxDistanceMeters != 0 || b.DeliveryHours != nil {
		t.Fatalf("null: %+v", b)
	}
	f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: path, Token: m, Body: `{"max_distance_meters": 5, "clear": ["max_distance_meters"]}`})
}

// withTrustedProxy makes the server believe X-Forwarded-For from
// 10.0.0.0/8.
func withTrustedProxy(e *env, cfg *Config) {
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
}

// TestSignInBehindProxy: behind a trusted reverse proxy the guessing limits
// count the client the proxy forwarded for, not the proxy, so one guesser
// does not lock everyone behind the proxy out; a forwarded header from an
// untrusted peer is ignored, so a guesser cannot dodge the limit by
// writing it.
func TestSignInBehindProxy(t *testing.T) {
	f := newFixture(t, withTrustedProxy)
	login := func(peer, forwarded, pw string) *response {
		return f.do(request{Method: "POST", Path: "/v1/sessions", RemoteAddr: peer,
			Header: map[string]string{"X-Forwarded-For": forwarded},
			Body:   map[string]any{"email": f.managerAEmail, "password": pw}})
	}
	const proxy = "10.1.2.3:443"
	for range app.SignInPairFailures {
		login(proxy, "203.0.113.66", "guess")
	}
	if r := login(proxy, "203.0.113.66", testPassword); r.Status != 429 {
		t.Fatalf("the guesser behind the proxy: %d %s", r.Status, r.Body)
	}
	if r := login(proxy, "198.51.100.20, 10.9.9.9", testPassword); r.Status != 201 {
		t.Fatalf("the manager behind the proxy (and a second proxy hop): %d %s", r.Status, r.Body)
	}
	// An untrusted peer writing the header is counted as itself.
	for range app.SignInPairFailures {
		login("203.0.113.99:1", "192.0.2."+strconv.Itoa(rand.IntN(250)+1), "guess")
	}
	if r := login("203.0.113.99:1", "192.0.2.251", testPassword); r.Status != 429 {
		t.Fatalf("a guesser forging X-Forwarded-For: %d %s", r.Status, r.Body)
	}
}

// TestBuildingOfflineDeliveryDays: a building's managers turn offline
// delivery on (1 to 30 days) and off (0); anything else is refused with a
// problem naming the field, and a manager of another building cannot
// touch it.
func TestBuildingOfflineDeliveryDays(t *testing.T) {
	f := newFixture(t)
	path := "/v1/buildings/" + f.buildingA.ID
	m := f.tokens[pManagerA]
	for _, days := range []int{7, 30, 0, 1} {
		b := decode[*doorman.Building](t, f.must(200, request{Method: "PATCH", Path: path, Token: m, Body: fmt.Sprintf(`{"offline_delivery_days": %d}`, days)}))
		if b.OfflineDeliveryDays != days {
			t.Fatalf("set %d: %+v", days, b)
		}
	}
	for _, body := range []string{`{"offline_delivery_days": 31}`, `{"offline_delivery_days": -1}`, `{"offline_delivery_days": "7"}`, `{"offline_delivery_days": 1.5}`} {
		p := f.expectProblem(422, doorman.EINVALID, request{Method: "PATCH", Path: path, Token: m, Body: body})
		said := p.Detail
		for _, it := range p.Errors {
			said += " " + it.Location + " " + it.Message
		}
		if !strings.Contains(said, "offline_delivery_days") {
			t.Errorf("%s: the problem does not name the field: %+v", body, p)
		}
	}
	f.expectProblem(404, doorman.ENOTFOUND, request{Method: "PATCH", Path: path, Token: f.tokens[pManagerB], Body: `{"offline_delivery_days": 30}`})
	b := decode[*doorman.Building](t, f.must(200, request{Method: "GET", Path: path, Token: m}))
	if b.OfflineDeliveryDays != 1 {
		t.Fatalf("after refused changes: %+v", b)
	}
}
