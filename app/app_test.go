package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/password"
	"github.com/doorman-dev/doorman/sqlite"
	"github.com/doorman-dev/doorman/wire"
)

// cheap are argon2id costs that keep the tests fast.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// world is a store with a building, a door, two carriers (one allowed),
// a courier of each, and the services over it; no HTTP anywhere.
type world struct {
	store    *sqlite.Store
	app      *app.Services
	building *doorman.Building
	door     *app.Door
	allowed  *doorman.Carrier
	stranger *doorman.Carrier
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w := &world{store: store}
	w.app = app.New(store, app.Config{Access: access.NewService(store), PasswordParams: cheap})
	sys := doorman.NewContextWithPrincipal(ctx, doorman.System())
	w.building = &doorman.Building{Name: "B", Address: "1 Road", Timezone: "UTC"}
	must(t, w.app.Buildings.CreateBuilding(sys, w.building))
	if w.door, err = w.app.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: w.building.ID, Name: "Front"}); err != nil {
		t.Fatal(err)
	}
	w.allowed, w.stranger = &doorman.Carrier{Name: "Allowed"}, &doorman.Carrier{Name: "Stranger"}
	must(t, w.app.Carriers.CreateCarrier(sys, w.allowed))
	must(t, w.app.Carriers.CreateCarrier(sys, w.stranger))
	must(t, w.app.Buildings.AllowCarrier(sys, w.building.ID, w.allowed.ID))
	for _, c := range []*doorman.Carrier{w.allowed, w.stranger} {
		if _, err := w.app.Carriers.PutCourier(as(doorman.RoleCarrier, c.ID, c.ID), &doorman.Courier{CarrierID: c.ID, ExternalID: "c1", Name: "C"}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func as(role, subject, carrier string) context.Context {
	return doorman.NewContextWithPrincipal(context.Background(), &doorman.Principal{Role: role, SubjectID: subject, CarrierID: carrier})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, name string, err error, code string) {
	t.Helper()
	if got := doorman.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want %q", name, err, got, code)
	}
}

// TestServicesAuthoriseTheCaller: every service refuses callers outside
// its rule by itself, whatever surface calls it, and answers objects
// outside the caller's scope as missing.
func TestServicesAuthoriseTheCaller(t *testing.T) {
	w := newWorld(t)
	anon := context.Background()
	stranger := as(doorman.RoleCarrier, w.stranger.ID, w.stranger.ID)
	courier := as(doorman.RoleCourier, doorman.NewID(doorman.PrefixCourier), w.allowed.ID)
	otherManager := as(doorman.RoleManager, doorman.NewID(doorman.PrefixManager), "")
	device := doorman.NewContextWithPrincipal(anon, app.DevicePrincipal(w.door.ID, doorman.NewID(doorman.PrefixDevice)))

	_, _, err := w.app.Buildings.ListBuildings(anon, doorman.Page{})
	wantCode(t, "anonymous lists buildings", err, doorman.EUNAUTHORIZED)
	wantCode(t, "a carrier creates a building", w.app.Buildings.CreateBuilding(stranger, &doorman.Building{Name: "X", Address: "Y", Timezone: "UTC"}), doorman.EFORBIDDEN)
	_, err = w.app.Buildings.Building(stranger, w.building.ID)
	wantCode(t, "a carrier the building does not allow reads it", err, doorman.ENOTFOUND)
	_, err = w.app.Buildings.Door(stranger, w.building.ID, w.door.ID)
	wantCode(t, "a carrier the building does not allow reads its door", err, doorman.ENOTFOUND)
	_, err = w.app.Buildings.SetLockdown(otherManager, w.building.ID, w.door.ID, true)
	wantCode(t, "another building's manager locks the door down", err, doorman.ENOTFOUND)
	_, err = w.app.Buildings.SetLockdown(courier, w.building.ID, w.door.ID, true)
	wantCode(t, "a courier locks the door down", err, doorman.EFORBIDDEN)
	_, _, err = w.app.Credentials.CreateAPIKey(stranger, w.stranger.ID, "mine")
	wantCode(t, "a carrier mints its own API key", err, doorman.EFORBIDDEN)
	_, _, err = w.app.Credentials.CreateCourierSession(stranger, w.allowed.ID, "c1", 0)
	wantCode(t, "a carrier mints a session for another carrier's courier", err, doorman.ENOTFOUND)
	_, err = w.app.Carriers.PutCourier(doorman.NewContextWithPrincipal(anon, doorman.System()), &doorman.Courier{CarrierID: w.allowed.ID, ExternalID: "x", Name: "X"})
	wantCode(t, "even the operator does not run a carrier's couriers", err, doorman.EFORBIDDEN)
	_, err = w.app.Devices.CreateEnrollment(stranger, w.building.ID, w.door.ID)
	wantCode(t, "a carrier enrolls a device", err, doorman.EFORBIDDEN)
	wantCode(t, "a manager reports a device event", w.app.Devices.RecordEvent(otherManager, &wire.Event{ID: "e", Kind: wire.EventHeartbeat}), doorman.EFORBIDDEN)
	_, err = w.app.Audit.Verify(courier)
	wantCode(t, "a courier verifies the audit chains", err, doorman.EFORBIDDEN)
	_, err = w.app.Access.RequestAccess(stranger, doorman.AccessRequest{DoorID: w.door.ID, TrackingNumbers: []string{"T1"}})
	wantCode(t, "a carrier asks to open a door", err, doorman.EFORBIDDEN)
	_, err = w.app.Access.RequestAccess(device, doorman.AccessRequest{DoorID: w.door.ID, TrackingNumbers: []string{"T1"}})
	wantCode(t, "a device asks to open a door", err, doorman.EFORBIDDEN)
}

// TestCourierSessionsMintedInOnePlace: the rules of a courier session hold
// for every caller: only active couriers, lifetimes within bounds, one
// token prefix length.
func TestCourierSessionsMintedInOnePlace(t *testing.T) {
	w := newWorld(t)
	carrier := as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)
	_, err := w.app.Carriers.PutCourier(carrier, &doorman.Courier{CarrierID: w.allowed.ID, ExternalID: "gone", Name: "G", Status: doorman.CourierSuspended})
	must(t, err)
	_, _, err = w.app.Credentials.CreateCourierSession(carrier, w.allowed.ID, "gone", 0)
	wantCode(t, "a suspended courier's session", err, doorman.EINVALID)
	_, _, err = w.app.Credentials.CreateCourierSession(carrier, w.allowed.ID, "c1", 13*time.Hour)
	wantCode(t, "a 13-hour session", err, doorman.EINVALID)
	token, cred, err := w.app.Credentials.CreateCourierSession(carrier, w.allowed.ID, "c1", 0)
	must(t, err)
	if cred.ExpiresAt == nil || (cred.ExpiresAt.Sub(cred.CreatedAt)-doorman.CourierSessionDefaultTTL).Abs() > time.Second {
		t.Fatalf("default lifetime: %+v", cred)
	}
	op, opCred, err := w.app.Credentials.CreateOperatorToken(doorman.NewContextWithPrincipal(context.Background(), doorman.System()), "ops")
	must(t, err)
	if len(cred.Prefix) != len(opCred.Prefix) || !strings.HasPrefix(token, cred.Prefix) || !strings.HasPrefix(op, opCred.Prefix) {
		t.Fatalf("prefixes %q and %q", cred.Prefix, opCred.Prefix)
	}
	p, err := w.app.Credentials.Authenticate(context.Background(), token)
	must(t, err)
	if p.Role != doorman.RoleCourier || p.CarrierID != w.allowed.ID {
		t.Fatalf("principal %+v", p)
	}
}

// newManager invites and creates a manager of the world's building with
// the given argon2id costs.
func newManager(t *testing.T, w *world, email, pw string, costs password.Params) {
	t.Helper()
	accounts := app.New(w.store, app.Config{PasswordParams: costs}).Accounts
	inv, err := accounts.CreateInvite(doorman.NewContextWithPrincipal(context.Background(), doorman.System()), w.building.ID, email)
	must(t, err)
	_, err = accounts.AcceptInvite(context.Background(), inv.Token, "M", pw)
	must(t, err)
}

// TestSignInRehashes: a password hashed with old costs is rehashed with
// the current ones at the next sign-in, and still works after.
func TestSignInRehashes(t *testing.T) {
	w := newWorld(t)
	old := cheap
	newer := cheap
	newer.Time = 2
	const email, pw = "m@example.org", "correct horse battery"
	newManager(t, w, email, pw, old)
	m, err := w.store.ManagerByEmail(context.Background(), email)
	must(t, err)
	if !password.NeedsRehash(m.PasswordHash, newer) {
		t.Fatal("the test's costs do not differ")
	}
	accounts := app.New(w.store, app.Config{PasswordParams: newer}).Accounts
	_, err = accounts.SignIn(context.Background(), email, pw, "192.0.2.1")
	must(t, err)
	m, err = w.store.ManagerByEmail(context.Background(), email)
	must(t, err)
	if password.NeedsRehash(m.PasswordHash, newer) {
		t.Fatalf("not rehashed: %s", m.PasswordHash)
	}
	_, err = accounts.SignIn(context.Background(), email, pw, "192.0.2.1")
	must(t, err)
}

// TestThrottlesHoldAcrossNodes: two control-plane nodes over one store
// count one address's wrong guesses together.
func TestThrottlesHoldAcrossNodes(t *testing.T) {
	w := newWorld(t)
	const email, pw = "m@example.org", "correct horse battery"
	newManager(t, w, email, pw, cheap)
	nodes := []*app.Accounts{
		app.New(w.store, app.Config{PasswordParams: cheap}).Accounts,
		app.New(w.store, app.Config{PasswordParams: cheap}).Accounts,
	}
	var wg sync.WaitGroup
	for i := range app.SignInPairFailures {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := nodes[i%2].SignIn(context.Background(), email, "guess", "203.0.113.5")
			if doorman.ErrorCode(err) != doorman.EUNAUTHORIZED {
				t.Errorf("guess %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	for i, n := range nodes {
		_, err := n.SignIn(context.Background(), email, pw, "203.0.113.5")
		if doorman.ErrorCode(err) != doorman.ETOOMANYREQUEST || doorman.ErrorRetryAfter(err) <= 0 {
			t.Fatalf("node %d after %d guesses on two nodes: %v", i, app.SignInPairFailures, err)
		}
	}
	_, err := nodes[1].SignIn(context.Background(), email, pw, "198.51.100.9")
	must(t, err)
}
