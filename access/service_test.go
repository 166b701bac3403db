package access_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fixture is a building with a door, an allowed carrier, its active courier
// and one parcel out for delivery to the building, on a real SQLite store.
type fixture struct {
	store   *sqlite.Store
	door    *doorman.Door
	courier *doorman.Courier
	carrier *doorman.Carrier
	parcel  string // tracking number
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{store: store, parcel: "TN0001"}
	b := &doorman.Building{Name: "B", Address: "1 Road", Timezone: "UTC"}
	must(t, store.CreateBuilding(ctx, b))
	must(t, store.SetNoticePeriod(ctx, b.ID, 0))
	must(t, store.CreateUnits(ctx, []*doorman.Unit{{BuildingID: b.ID, Label: "1A"}}))
	f.door = &doorman.Door{BuildingID: b.ID, Name: "Front", PulseMillis: 1000}
	must(t, store.CreateDoor(ctx, f.door))
	f.carrier = &doorman.Carrier{Name: "C"}
	must(t, store.CreateCarrier(ctx, f.carrier))
	must(t, store.AllowCarrier(ctx, b.ID, f.carrier.ID))
	until := time.Now().Add(time.Hour)
	f.courier = &doorman.Courier{CarrierID: f.carrier.ID, ExternalID: "c1", Name: "Cee", Status: doorman.CourierActive, BackgroundCheckVerifiedUntil: &until}
	if _, err := store.UpsertCourier(ctx, f.courier); err != nil {
		t.Fatal(err)
	}
	_, err = store.UpsertParcels(ctx, f.carrier.ID, []doorman.ParcelInput{{TrackingNumber: f.parcel, BuildingID: b.ID, UnitLabel: "1A", CourierExternalID: "c1", Status: doorman.ParcelOutForDelivery}})
	must(t, err)
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// accessEntries returns the door's access audit entries, newest first.
func accessEntries(t *testing.T, f *fixture) []*doorman.AuditEntry {
	t.Helper()
	all, _, err := f.store.ListAudit(context.Background(), doorman.AuditFilter{DoorID: f.door.ID}, doorman.Page{})
	must(t, err)
	var out []*doorman.AuditEntry
	for _, e := range all {
		if strings.HasPrefix(e.Action, "access.") {
			out = append(out, e)
		}
	}
	return out
}

// ctx is the context of a request by the fixture's courier.
func (f *fixture) ctx() context.Context {
	return doorman.NewContextWithPrincipal(context.Background(),
		&doorman.Principal{Role: doorman.RoleCourier, SubjectID: f.courier.ID, CarrierID: f.carrier.ID})
}

func (f *fixture) request(tracking ...string) doorman.AccessRequest {
	return doorman.AccessRequest{CourierID: f.courier.ID, DoorID: f.door.ID, TrackingNumbers: tracking}
}

func TestRequestAccessCommitsGrantAndAudit(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx()
	reg := prometheus.NewRegistry()
	svc := access.NewService(f.store, access.WithMetrics(reg))

	res, err := svc.RequestAccess(ctx, f.request(f.parcel, " "+f.parcel+" "))
	must(t, err)
	if !res.Decision.Allowed || res.Grant == nil {
		t.Fatalf("want a grant, got %+v", res)
	}
	g, err := f.store.Grant(ctx, res.Grant.ID)
	must(t, err)
	if g.DoorID != f.door.ID || g.CourierID != f.courier.ID || len(g.ParcelIDs) != 1 || g.ExpiresAt.Sub(g.IssuedAt) != doorman.GrantTTL {
		t.Fatalf("stored grant %+v", g)
	}
	entries := accessEntries(t, f)
	if len(entries) != 1 || entries[0].Action != doorman.ActionAccessGranted || entries[0].GrantID != g.ID || entries[0].CourierID != f.courier.ID {
		t.Fatalf("audit %+v", entries)
	}

	res, err = svc.RequestAccess(ctx, f.request("NOPE"))
	must(t, err)
	if res.Decision.Allowed || res.Decision.Reason != doorman.ReasonUnknownParcel || res.Grant != nil {
		t.Fatalf("want unknown_parcel, got %+v", res)
	}
	entries = accessEntries(t, f)
	if len(entries) != 2 || entries[0].Action != doorman.ActionAccessDenied || entries[0].Reason != doorman.ReasonUnknownParcel {
		t.Fatalf("audit %+v", entries)
	}
	if got := testutil.ToFloat64(svc.Metrics().WithLabelValues("allowed")); got != 1 {
		t.Fatalf("allowed counter %v", got)
	}
	if got := testutil.ToFloat64(svc.Metrics().WithLabelValues(doorman.ReasonUnknownParcel)); got != 1 {
		t.Fatalf("unknown_parcel counter %v", got)
	}
}

func TestRequestAccessRejectsMalformed(t *testing.T) {
	f := newFixture(t)
	svc := access.NewService(f.store)
	many := make([]string, doorman.MaxScannedParcels+1)
	for i := range many {
		many[i] = "T" + strings.Repeat("1", i+1)
	}
	for name, req := range map[string]doorman.AccessRequest{
		"no parcels":      f.request(),
		"too many":        f.request(many...),
		"bad tracking":    f.request("has space"),
		"no door":         {CourierID: f.courier.ID, TrackingNumbers: []string{f.parcel}},
		"bad position":    {CourierID: f.courier.ID, DoorID: f.door.ID, TrackingNumbers: []string{f.parcel}, Position: &doorman.Position{Latitude: 91}},
		"unknown door":    {CourierID: f.courier.ID, DoorID: doorman.NewID(doorman.PrefixDoor), TrackingNumbers: []string{f.parcel}},
		"unknown courier": {CourierID: doorman.NewID(doorman.PrefixCourier), DoorID: f.door.ID, TrackingNumbers: []string{f.parcel}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := svc.RequestAccess(doorman.NewContextWithPrincipal(context.Background(), doorman.System()), req)
			if code := doorman.ErrorCode(err); code != doorman.EINVALID && code != doorman.ENOTFOUND {
				t.Fatalf("want EINVALID or ENOTFOUND, got %v", err)
			}
		})
	}
	if entries := accessEntries(t, f); len(entries) != 0 {
		t.Fatalf("malformed requests must not be recorded, got %d entries", len(entries))
	}
}

func TestRequestAccessRateLimitsCourier(t *testing.T) {
	f := newFixture(t)
	svc := access.NewService(f.store)
	for i := range doorman.CourierRateLimit + 1 {
		res, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
		must(t, err)
		if i < doorman.CourierRateLimit && !res.Decision.Allowed {
			t.Fatalf("request %d denied: %+v", i, res.Decision)
		} else if i == doorman.CourierRateLimit && res.Decision.Reason != doorman.ReasonRateLimited {
			t.Fatalf("request %d: want rate_limited, got %+v", i, res.Decision)
		}
	}
	// A window (and the resolution it is counted to) later it has moved on.
	later := access.NewService(f.store, access.WithClock(func() time.Time {
		return time.Now().Add(doorman.RateWindow + doorman.RateResolution + time.Second)
	}))
	res, err := later.RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	if !res.Decision.Allowed {
		t.Fatalf("after the window: %+v", res.Decision)
	}
}

// recordingLink is a door link that checks the grant is committed before it
// is asked to unlock, and can play an offline door.
type recordingLink struct {
	t       *testing.T
	store   doorman.Store
	offline bool
	// executed is the device's time of execution in its last ack.
	executed time.Time
	mu       sync.Mutex
	grants   []string
}

func (l *recordingLink) Unlock(ctx context.Context, door *doorman.Door, g *doorman.Grant) (*doorman.UnlockAck, error) {
	if _, err := l.store.Grant(ctx, g.ID); err != nil {
		l.t.Errorf("unlock before the grant was committed: %v", err)
	}
	l.mu.Lock()
	l.grants = append(l.grants, g.ID)
	l.mu.Unlock()
	if l.offline {
		return nil, &doorman.Error{Code: doorman.EUNAVAILABLE, Reason: doorman.ReasonDoorOffline, Message: "The door did not answer."}
	}
	l.executed = time.Now().UTC().Truncate(time.Microsecond)
	return &doorman.UnlockAck{ExecutedAt: l.executed}, nil
}

func TestRequestAccessDrivesDoorAfterCommit(t *testing.T) {
	f := newFixture(t)
	link := &recordingLink{t: t, store: f.store}
	svc := access.NewService(f.store, access.WithDoorLink(link))
	res, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	if !res.Decision.Allowed || len(link.grants) != 1 || link.grants[0] != res.Grant.ID {
		t.Fatalf("result %+v, link saw %v", res, link.grants)
	}
	executed := link.executed
	if res.Grant.UsedAt == nil || !res.Grant.UsedAt.Equal(executed) {
		t.Fatalf("the answer's grant was used at %v; want the device's execution time %v", res.Grant.UsedAt, executed)
	}
	must(t, svc.Close(context.Background())) // the grant is marked used after the answer
	if g, err := f.store.Grant(context.Background(), res.Grant.ID); err != nil || g.UsedAt == nil || !g.UsedAt.Equal(executed) {
		t.Fatalf("an acknowledged grant is not marked used at the device's time: %+v %v", g, err)
	}

	// A door that does not answer: the courier hears door_offline.
	link.offline = true
	res, err = svc.RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	if res.Decision.Allowed || res.Decision.Reason != doorman.ReasonDoorOffline || res.Grant != nil {
		t.Fatalf("want door_offline without a grant, got %+v", res)
	}
	if latest := accessEntries(t, f)[0]; latest.Action != doorman.ActionUnlockFailed || latest.GrantID != link.grants[1] || latest.Reason != doorman.ReasonDoorOffline {
		t.Fatalf("the audit log does not say the door stayed shut: %+v", latest)
	}

	// A denied request never reaches the door.
	before := len(link.grants)
	_, err = svc.RequestAccess(f.ctx(), f.request("NOPE"))
	must(t, err)
	if len(link.grants) != before {
		t.Fatal("a denied request reached the door")
	}
}

func TestRequestAccessRefusesLockedDownDoor(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx()
	locked := true
	_, err := f.store.UpdateDoor(ctx, f.door.ID, doorman.DoorUpdate{LockedDown: &locked})
	must(t, err)
	res, err := access.NewService(f.store).RequestAccess(ctx, f.request(f.parcel))
	must(t, err)
	if res.Decision.Reason != doorman.ReasonDoorLockedDown || res.Grant != nil {
		t.Fatalf("want door_locked_down, got %+v", res)
	}
}

// lockingStore locks the door down right after a grant commits, as a
// manager pressing "lockdown" while the command is about to leave would.
type lockingStore struct {
	*sqlite.Store
}

func (s lockingStore) RecordAccess(ctx context.Context, rec *doorman.AccessRecord) (*doorman.AuditEntry, error) {
	e, err := s.Store.RecordAccess(ctx, rec)
	if err == nil && rec.Grant != nil {
		locked := true
		_, err = s.Store.UpdateDoor(ctx, rec.DoorID, doorman.DoorUpdate{LockedDown: &locked})
	}
	return e, err
}

func TestLockdownCancelsGrantInFlight(t *testing.T) {
	f := newFixture(t)
	link := &recordingLink{t: t, store: f.store}
	svc := access.NewService(lockingStore{f.store}, access.WithDoorLink(link))
	res, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	if res.Decision.Allowed || res.Decision.Reason != doorman.ReasonDoorLockedDown {
		t.Fatalf("want door_locked_down, got %+v", res.Decision)
	}
	if len(link.grants) != 0 {
		t.Fatal("a grant revoked by a lockdown was sent to the door")
	}
	if res.Grant != nil {
		t.Fatalf("a refused answer carries a grant: %+v", res.Grant)
	}
	latest := accessEntries(t, f)[0]
	if latest.Action != doorman.ActionUnlockFailed || latest.Reason != doorman.ReasonDoorLockedDown {
		t.Fatalf("the audit log does not say the door stayed shut: %+v", latest)
	}
	g, err := f.store.Grant(context.Background(), latest.GrantID)
	must(t, err)
	if g.RevokedAt == nil || g.UsedAt != nil {
		t.Fatalf("grant after lockdown: %+v", g)
	}
}

// TestRateLimitHoldsUnderConcurrency fires many requests at once: the
// limit is checked again where the grants commit, so no more than the limit
// get through however the reads interleave.
func TestRateLimitHoldsUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	svc := access.NewService(f.store)
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted, limited := 0, 0
	for range 4 * doorman.CourierRateLimit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if res.Decision.Allowed {
				granted++
			} else if res.Decision.Reason == doorman.ReasonRateLimited {
				limited++
			}
		}()
	}
	wg.Wait()
	if granted != doorman.CourierRateLimit || limited != 3*doorman.CourierRateLimit {
		t.Fatalf("granted %d and rate-limited %d of %d; want %d granted", granted, limited, 4*doorman.CourierRateLimit, doorman.CourierRateLimit)
	}
}

// TestDoorLimitCountsOnlyGrants: refused requests (here, a courier without
// a deliverable parcel scanning over and over) do not use up the door's
// budget, so they cannot lock the door against real deliveries.
func TestDoorLimitCountsOnlyGrants(t *testing.T) {
	f := newFixture(t)
	svc := access.NewService(f.store, access.WithRateLimits(1000, 2))
	for range 5 {
		res, err := svc.RequestAccess(f.ctx(), f.request("NOT-MINE"))
		must(t, err)
		if res.Decision.Reason != doorman.ReasonUnknownParcel {
			t.Fatalf("want unknown_parcel, got %+v", res.Decision)
		}
	}
	for i := range 3 {
		res, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
		must(t, err)
		if i < 2 && !res.Decision.Allowed {
			t.Fatalf("grant %d refused: %+v", i, res.Decision)
		} else if i == 2 && res.Decision.Reason != doorman.ReasonRateLimited {
			t.Fatalf("third grant in a minute: want rate_limited, got %+v", res.Decision)
		}
	}
}

// heldLink holds every unlock until released, telling when one arrives.
type heldLink struct {
	arrived chan struct{}
	release chan struct{}
}

func (l *heldLink) Unlock(ctx context.Context, _ *doorman.Door, _ *doorman.Grant) (*doorman.UnlockAck, error) {
	l.arrived <- struct{}{}
	<-l.release
	return &doorman.UnlockAck{ExecutedAt: time.Now().UTC()}, nil
}

// TestRequestAccessBusy: past its bound a node answers at once, 503-style
// (EUNAVAILABLE, reason busy, Retry-After), deciding and recording
// nothing; once a slot frees, requests are decided again.
func TestRequestAccessBusy(t *testing.T) {
	f := newFixture(t)
	link := &heldLink{arrived: make(chan struct{}), release: make(chan struct{})}
	svc := access.NewService(f.store, access.WithDoorLink(link), access.WithMaxInFlight(1, 50*time.Millisecond))
	first := make(chan error, 1)
	go func() {
		_, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
		first <- err
	}()
	<-link.arrived // the first request holds the only slot, at the door
	before := len(accessEntries(t, f))
	_, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
	if doorman.ErrorCode(err) != doorman.EUNAVAILABLE || doorman.ErrorReason(err) != doorman.ReasonBusy ||
		doorman.ErrorRetryAfter(err) <= 0 {
		t.Fatalf("second request while busy: %v; want EUNAVAILABLE busy with a Retry-After", err)
	}
	if after := len(accessEntries(t, f)); after != before {
		t.Fatalf("a request refused as busy was recorded: %d entries, was %d", after, before)
	}
	close(link.release)
	must(t, <-first)
	go func() { <-link.arrived }()
	res, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	if res.Decision.Reason == doorman.ReasonBusy {
		t.Fatal("still busy after the slot freed")
	}
	must(t, svc.Close(context.Background()))
}

// TestRequestAccessWaitsForItsTurn: a request that finds every slot taken
// waits for one (up to the admission wait) rather than being refused.
func TestRequestAccessWaitsForItsTurn(t *testing.T) {
	f := newFixture(t)
	link := &heldLink{arrived: make(chan struct{}), release: make(chan struct{})}
	svc := access.NewService(f.store, access.WithDoorLink(link), access.WithMaxInFlight(1, time.Minute))
	first := make(chan error, 1)
	go func() {
		_, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
		first <- err
	}()
	<-link.arrived
	second := make(chan error, 1)
	go func() {
		_, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
		second <- err
	}()
	select {
	case err := <-second:
		t.Fatalf("the second request did not wait for the slot: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	go func() {
		for range link.arrived {
		}
	}()
	close(link.release)
	must(t, <-first)
	if err := <-second; err != nil {
		t.Fatalf("the second request, once the slot freed: %v", err)
	}
	must(t, svc.Close(context.Background()))
	close(link.arrived)
}
