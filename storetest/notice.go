package storetest

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testNotices checks the notice-before-access facts: an allowance records
// its audit entry, counts the residents owed a notice and the notices the
// outbox holds for it; the notice period is a setting with bounds.
func testNotices(t *testing.T, open Opener) {
	f := newFixture(t, open)

	period, err := f.s.NoticePeriod(f.ctx, f.building.ID)
	must(t, err)
	equal(t, "default notice period", period, doorman.DefaultNoticePeriod)

	a, err := f.s.CarrierAllowance(f.ctx, f.building.ID, f.carrier.ID)
	must(t, err)
	var allowed []*doorman.AuditEntry
	for _, e := range f.audit(t, doorman.AuditFilter{Chain: f.building.ID}) {
		if e.Action == doorman.ActionCarrierAllowed {
			allowed = append(allowed, e)
		}
	}
	if len(allowed) != 1 || a.NoticeSource != allowed[0].ID {
		t.Fatalf("notice source %q, want the carrier.allowed entry of %v", a.NoticeSource, show(allowed))
	}
	equal(t, "residents owed (none yet)", a.ResidentsOwed, 0)
	equal(t, "notice period", a.NoticePeriod, doorman.DefaultNoticePeriod)
	if !a.NoticesDone() || a.Active(a.AllowedAt.Add(time.Hour)) || !a.Active(a.ActiveFrom()) {
		t.Fatalf("no residents: active exactly after the period, got %+v", a)
	}

	// A building with residents waits for their notices.
	other := f.newCarrier(t, "Boxline")
	must(t, f.s.CreateResident(f.ctx, &doorman.Resident{BuildingID: f.building.ID, UnitID: f.unit.ID, Name: "Ada", Email: "ada@example.org"}))
	must(t, f.s.SetNoticePeriod(f.ctx, f.building.ID, 0))
	must(t, f.s.AllowCarrier(f.ctx, f.building.ID, other.ID))
	a, err = f.s.CarrierAllowance(f.ctx, f.building.ID, other.ID)
	must(t, err)
	equal(t, "residents owed", a.ResidentsOwed, 1)
	equal(t, "notices queued", a.NoticesQueued, 0)
	if a.Active(time.Now().Add(time.Hour)) {
		t.Fatal("active before the notices were queued")
	}
	// What the outbox's dispatcher does when it runs the notice producer.
	if _, err := f.db.ExecContext(f.ctx, `INSERT INTO outbox (id, channel, building_id, source, target, resident_id, kind, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, "msg_test1", doorman.ChannelEmail, f.building.ID, a.NoticeSource,
		"ada@example.org", "", doorman.KindCarrierNotice, time.Now().UnixMicro()); err != nil {
		t.Fatal(err)
	}
	a, err = f.s.CarrierAllowance(f.ctx, f.building.ID, other.ID)
	must(t, err)
	equal(t, "notices queued", a.NoticesQueued, 1)
	if !a.Active(a.AllowedAt) {
		t.Fatal("not active with notices queued and a zero period")
	}
	msgs, err := f.s.MessagesBySource(f.ctx, f.building.ID, a.NoticeSource)
	must(t, err)
	if len(msgs) != 1 || msgs[0].Target != "ada@example.org" || msgs[0].Status != doorman.MessageQueued {
		t.Fatalf("messages by source: %v", show(msgs))
	}
	// Another building's messages are not listed under this one.
	msgs, err = f.s.MessagesBySource(f.ctx, "bld_other", a.NoticeSource)
	must(t, err)
	equal(t, "other building's messages", len(msgs), 0)

	_, err = f.s.CarrierAllowance(f.ctx, f.building.ID, "car_nope")
	wantCode(t, err, doorman.ENOTFOUND)
	wantCode(t, f.s.SetNoticePeriod(f.ctx, f.building.ID, -time.Second), doorman.EINVALID)
	wantCode(t, f.s.SetNoticePeriod(f.ctx, f.building.ID, doorman.MaxNoticePeriod+time.Second), doorman.EINVALID)
	wantCode(t, f.s.SetNoticePeriod(f.ctx, "bld_nope", time.Hour), doorman.ENOTFOUND)
	_, err = f.s.NoticePeriod(f.ctx, "bld_nope")
	wantCode(t, err, doorman.ENOTFOUND)
	f.verifyClean(t)
}
