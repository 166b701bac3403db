package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
)

// queueNotice does what the outbox's dispatcher does when it runs the
// notice producer on a carrier.allowed entry: it queues a notice.
func queueNotice(t *testing.T, f *fixture, buildingID, source, to string) {
	t.Helper()
	if err := f.store.EnqueueMessage(context.Background(), &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: buildingID,
		Source: source, Target: to, Kind: doorman.KindCarrierNotice}); err != nil {
		t.Fatal(err)
	}
}

// TestCarrierPendingNotice: a carrier newly allowed at a building with
// residents is refused carrier_pending_notice until the notices are queued
// and the notice period has passed — the period alone is not enough, nor
// are the notices alone.
func TestCarrierPendingNotice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := f.door.BuildingID
	units, _, err := f.store.ListUnits(ctx, b, doorman.Page{})
	must(t, err)
	must(t, f.store.CreateResident(ctx, &doorman.Resident{BuildingID: b, UnitID: units[0].ID, Name: "Ada", Email: "ada@example.org"}))
	// Re-allow the carrier under a ten-minute period, after the resident moved in.
	must(t, f.store.DisallowCarrier(ctx, b, f.carrier.ID))
	must(t, f.store.SetNoticePeriod(ctx, b, 10*time.Minute))
	must(t, f.store.AllowCarrier(ctx, b, f.carrier.ID))
	a, err := f.store.CarrierAllowance(ctx, b, f.carrier.ID)
	must(t, err)

	ask := func(at time.Time) doorman.Decision {
		t.Helper()
		svc := access.NewService(f.store, access.WithClock(func() time.Time { return at }))
		res, err := svc.RequestAccess(f.ctx(), f.request(f.parcel))
		must(t, err)
		return res.Decision
	}
	if d := ask(a.AllowedAt.Add(time.Minute)); d.Reason != doorman.ReasonCarrierPendingNotice {
		t.Fatalf("within the period, no notices: %+v", d)
	}
	if d := ask(a.AllowedAt.Add(11 * time.Minute)); d.Reason != doorman.ReasonCarrierPendingNotice {
		t.Fatalf("past the period but notices not queued: %+v", d)
	}
	queueNotice(t, f, b, a.NoticeSource, "ada@example.org")
	if d := ask(a.AllowedAt.Add(time.Minute)); d.Reason != doorman.ReasonCarrierPendingNotice {
		t.Fatalf("notices queued but within the period: %+v", d)
	}
	// A notice for another source does not count.
	other, err := f.store.CarrierAllowance(ctx, b, f.carrier.ID)
	must(t, err)
	if other.NoticesQueued != 1 {
		t.Fatalf("notices queued = %d", other.NoticesQueued)
	}
	if d := ask(a.AllowedAt.Add(10 * time.Minute)); !d.Allowed {
		t.Fatalf("notices queued and the period over: %+v", d)
	}
	// The refusals are recorded with their reason.
	entries := accessEntries(t, f)
	var pending int
	for _, e := range entries {
		if e.Reason == doorman.ReasonCarrierPendingNotice {
			pending++
		}
	}
	if pending != 3 {
		t.Fatalf("%d pending-notice refusals in the audit, want 3", pending)
	}
}

// TestCarrierPendingNoticeWrongSource: notices queued for another entry
// (say, a door's notice) do not make a carrier's allowance active.
func TestCarrierPendingNoticeWrongSource(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b := f.door.BuildingID
	units, _, err := f.store.ListUnits(ctx, b, doorman.Page{})
	must(t, err)
	must(t, f.store.CreateResident(ctx, &doorman.Resident{BuildingID: b, UnitID: units[0].ID, Name: "Ada", Email: "ada@example.org"}))
	must(t, f.store.DisallowCarrier(ctx, b, f.carrier.ID))
	must(t, f.store.AllowCarrier(ctx, b, f.carrier.ID))
	queueNotice(t, f, b, "aud_someotherentry", "ada@example.org")
	res, err := access.NewService(f.store).RequestAccess(f.ctx(), f.request(f.parcel))
	must(t, err)
	if res.Decision.Reason != doorman.ReasonCarrierPendingNotice {
		t.Fatalf("got %+v", res.Decision)
	}
}
