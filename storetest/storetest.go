package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// Opener returns a new, empty store for one test, and the database under
// it, which the suite uses to tamper with the audit log behind the store's
// back. The opener registers the store's cleanup with t.
type Opener func(t *testing.T) (doorman.Store, *sql.DB)

// Batching is what a group-committing store offers tests: the writer can
// be held while writes queue up, and counters show commits were shared.
// A store that lacks it skips the group-commit tests; an engine's test
// may wrap its store to offer it.
type Batching interface {
	// HoldWrites stops the writer until release is called; writes queue.
	HoldWrites() (release func())
	// PendingWrites returns how many writes are queued.
	PendingWrites() int
	// BatchStats returns the counters since the store was opened.
	BatchStats() BatchStats
}

// RateSweeper is a store whose rate limit counts can be swept at once, as
// they otherwise are once in a while as requests come. A store that lacks
// it skips the sweep test.
type RateSweeper interface {
	// SweepRateCounts deletes the counts no window overlaps any more and
	// returns how many it deleted.
	SweepRateCounts(ctx context.Context) (int, error)
}

// BatchStats is what the suite reads of a group-committing store's work.
// Writes above Commits means writes shared commits.
type BatchStats struct {
	// Writes is the number of writes committed.
	Writes uint64
	// Commits is the number of transactions committed.
	Commits uint64
}

// Run runs the whole suite against stores from open.
func Run(t *testing.T, open Opener) {
	t.Run("Building", func(t *testing.T) { testBuildings(t, open) })
	t.Run("Unit", func(t *testing.T) { testUnits(t, open) })
	t.Run("Resident", func(t *testing.T) { testResidents(t, open) })
	t.Run("Door", func(t *testing.T) { testDoors(t, open) })
	t.Run("Carrier", func(t *testing.T) { testCarriers(t, open) })
	t.Run("Courier", func(t *testing.T) { testCouriers(t, open) })
	t.Run("Parcel", func(t *testing.T) { testParcels(t, open) })
	t.Run("Manifest", func(t *testing.T) { testManifest(t, open) })
	t.Run("Access", func(t *testing.T) { testAccess(t, open) })
	t.Run("Lockdown", func(t *testing.T) { testLockdown(t, open) })
	t.Run("RateLimitAtCommit", func(t *testing.T) { testRateLimitAtCommit(t, open) })
	t.Run("RateWindow", func(t *testing.T) { testRateWindow(t, open) })
	t.Run("RateSweep", func(t *testing.T) { testRateSweep(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("AuditTamper", func(t *testing.T) { testAuditTamper(t, open) })
	t.Run("AuditRewrite", func(t *testing.T) { testAuditRewrite(t, open) })
	t.Run("Credential", func(t *testing.T) { testCredentials(t, open) })
	t.Run("Invite", func(t *testing.T) { testInvites(t, open) })
	t.Run("ManagerAccount", func(t *testing.T) { testManagerAccount(t, open) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, open) })
	t.Run("Page", func(t *testing.T) { testPages(t, open) })
	t.Run("GroupCommit", func(t *testing.T) { testGroupCommit(t, open) })
	t.Run("Device", func(t *testing.T) { testDevices(t, open) })
	t.Run("CommandKey", func(t *testing.T) { testCommandKeys(t, open) })
	t.Run("CommandKeyRotation", func(t *testing.T) { testCommandKeyRotation(t, open) })
	t.Run("Throttle", func(t *testing.T) { testThrottles(t, open) })
	t.Run("ProbeWrite", func(t *testing.T) { testProbeWrite(t, open) })
	t.Run("ResidentLink", func(t *testing.T) { testResidentLinks(t, open) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, open) })
	t.Run("Notice", func(t *testing.T) { testNotices(t, open); testDeliverWithNote(t, open) })
	t.Run("TransparencyAndDeliveryNotes", func(t *testing.T) { testTransparency(t, open); testDeliveryNotes(t, open) })
	t.Run("Alerts", func(t *testing.T) { testAlerts(t, open) })
	t.Run("Webhook", func(t *testing.T) { testWebhooks(t, open) })
	t.Run("DeliveryPhoto", func(t *testing.T) { testDeliveryPhotos(t, open) })
	t.Run("HoursWidened", func(t *testing.T) { testHoursWidened(t, open) })
	t.Run("Returns", func(t *testing.T) { testReturns(t, open) })
	t.Run("OfflineStatus", func(t *testing.T) { testOfflineStatus(t, open) })
}

// operator returns a context acting as the platform operator.
func operator() context.Context {
	return doorman.NewContextWithPrincipal(context.Background(), &doorman.Principal{Role: doorman.RoleOperator})
}

// as returns a context acting as the given role and subject.
func as(role, subject string) context.Context {
	return doorman.NewContextWithPrincipal(context.Background(), &doorman.Principal{Role: role, SubjectID: subject})
}

// fixture is a store with a building (unit 4B, a door) and a carrier that
// the building allows, with one active courier.
type fixture struct {
	s        doorman.Store
	db       *sql.DB
	ctx      context.Context
	building *doorman.Building
	unit     *doorman.Unit
	door     *doorman.Door
	carrier  *doorman.Carrier
	courier  *doorman.Courier
}

func newFixture(t *testing.T, open Opener) *fixture {
	t.Helper()
	s, db := open(t)
	return newFixtureOn(t, s, db)
}

// newFixtureOn builds the fixture in a given store.
func newFixtureOn(t *testing.T, s doorman.Store, db *sql.DB) *fixture {
	t.Helper()
	f := &fixture{s: s, db: db, ctx: operator()}
	f.building = f.newBuilding(t, "Elm Court")
	f.unit = f.newUnit(t, f.building.ID, "4B")
	f.door = f.newDoor(t, f.building.ID, "Front door")
	f.carrier = f.newCarrier(t, "Parcelfast")
	f.courier = f.newCourier(t, f.carrier.ID, "driver-1")
	must(t, s.AllowCarrier(f.ctx, f.building.ID, f.carrier.ID))
	return f
}

func (f *fixture) newBuilding(t *testing.T, name string) *doorman.Building {
	t.Helper()
	b := &doorman.Building{Name: name, Address: "1 " + name + " Street", Timezone: "Europe/Berlin"}
	must(t, f.s.CreateBuilding(f.ctx, b))
	return b
}

func (f *fixture) newUnit(t *testing.T, buildingID, label string) *doorman.Unit {
	t.Helper()
	u := &doorman.Unit{BuildingID: buildingID, Label: label}
	must(t, f.s.CreateUnits(f.ctx, []*doorman.Unit{u}))
	return u
}

func (f *fixture) newDoor(t *testing.T, buildingID, name string) *doorman.Door {
	t.Helper()
	d := &doorman.Door{BuildingID: buildingID, Name: name}
	must(t, f.s.CreateDoor(f.ctx, d))
	return d
}

func (f *fixture) newCarrier(t *testing.T, name string) *doorman.Carrier {
	t.Helper()
	c := &doorman.Carrier{Name: name}
	must(t, f.s.CreateCarrier(f.ctx, c))
	return c
}

func (f *fixture) newCourier(t *testing.T, carrierID, externalID string) *doorman.Courier {
	t.Helper()
	until := time.Now().Add(365 * 24 * time.Hour)
	c := &doorman.Courier{CarrierID: carrierID, ExternalID: externalID, Name: "Courier " + externalID,
		Status: doorman.CourierActive, BackgroundCheckVerifiedUntil: &until}
	created, err := f.s.UpsertCourier(f.ctx, c)
	must(t, err)
	if !created {
		t.Fatalf("UpsertCourier(%s) created = false for a new courier", externalID)
	}
	return c
}

// newParcels manifests parcels for the fixture's carrier, unit and
// courier, out for delivery.
func (f *fixture) newParcels(t *testing.T, tracking ...string) []*doorman.Parcel {
	t.Helper()
	items := make([]doorman.ParcelInput, len(tracking))
	for i, tn := range tracking {
		items[i] = doorman.ParcelInput{TrackingNumber: tn, BuildingID: f.building.ID, UnitLabel: f.unit.Label,
			CourierExternalID: f.courier.ExternalID, Status: doorman.ParcelOutForDelivery}
	}
	res, err := f.s.UpsertParcels(f.ctx, f.carrier.ID, items)
	must(t, err)
	out := make([]*doorman.Parcel, len(res))
	for i, r := range res {
		out[i] = r.Parcel
	}
	return out
}

// grant returns an allowing access record for the fixture's courier at
// the door, issued at `at`.
func (f *fixture) grant(parcels []*doorman.Parcel, at time.Time) *doorman.AccessRecord {
	var ids []string
	for _, p := range parcels {
		ids = append(ids, p.ID)
	}
	return &doorman.AccessRecord{
		Decision: doorman.Allow(), BuildingID: f.building.ID, DoorID: f.door.ID,
		CarrierID: f.carrier.ID, CourierID: f.courier.ID, ParcelIDs: ids, At: at,
		Grant: &doorman.Grant{ID: doorman.NewID(doorman.PrefixGrant), ParcelIDs: ids,
			IssuedAt: at, ExpiresAt: at.Add(doorman.GrantTTL)},
	}
}

// deny returns a denying access record.
func (f *fixture) deny(reason string, at time.Time) *doorman.AccessRecord {
	return &doorman.AccessRecord{
		Decision: doorman.Deny(reason, "test denial"), BuildingID: f.building.ID, DoorID: f.door.ID,
		CarrierID: f.carrier.ID, CourierID: f.courier.ID, At: at,
	}
}

// verifyClean fails unless the audit log verifies.
func (f *fixture) verifyClean(t *testing.T) {
	t.Helper()
	breaks, err := f.s.VerifyAudit(f.ctx)
	must(t, err)
	if len(breaks) != 0 {
		t.Fatalf("VerifyAudit on an untouched log: %+v", breaks)
	}
}

// audit returns the entries of a chain, newest first.
func (f *fixture) audit(t *testing.T, filter doorman.AuditFilter) []*doorman.AuditEntry {
	t.Helper()
	entries, _, err := f.s.ListAudit(f.ctx, filter, doorman.Page{Limit: doorman.MaxPageLimit})
	must(t, err)
	return entries
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantCode fails unless err carries the domain error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := doorman.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	var de *doorman.Error
	if code != "" && code != doorman.EINTERNAL && !asDomain(err, &de) {
		t.Fatalf("error %v is not a domain error", err)
	}
}

func asDomain(err error, de **doorman.Error) bool {
	e, ok := err.(*doorman.Error)
	*de = e
	return ok
}

// equal fails unless got and want are deeply equal.
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %s\nwant %s", what, show(got), show(want))
	}
}

func show(v any) string {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return fmt.Sprintf("&%+v", rv.Elem().Interface())
	}
	return fmt.Sprintf("%+v", v)
}

func ptr[T any](v T) *T { return &v }
