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
	must(t, f.s.EnqueueMessage(f.ctx, &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: f.building.ID,
		Source: a.NoticeSource, Target: "ada@example.org", Kind: doorman.KindCarrierNotice}))
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

// testDeliverWithNote checks that a delivery and its note are one write:
// a refused delivery writes no note, and the note is there with the entry.
// Delivery recipients are the unit's residents who want delivery mail.
func testDeliverWithNote(t *testing.T, open Opener) {
	f := newFixture(t, open)
	ps := f.newParcels(t, "DN-1")
	_, err := f.s.DeliverParcel(f.ctx, f.carrier.ID, "DN-1", "\x00")
	wantCode(t, err, doorman.EINVALID)
	p, err := f.s.DeliverParcel(f.ctx, f.carrier.ID, "DN-1", " by the  door ")
	must(t, err)
	equal(t, "status", p.Status, doorman.ParcelDelivered)
	notes, err := f.s.DeliveryNotes(f.ctx, f.building.ID, []string{ps[0].ID})
	must(t, err)
	equal(t, "note", notes[ps[0].ID], "by the door")
	// A second delivery is refused and leaves the note as it was.
	_, err = f.s.DeliverParcel(f.ctx, f.carrier.ID, "DN-1", "elsewhere")
	wantCode(t, err, doorman.ECONFLICT)
	notes, err = f.s.DeliveryNotes(f.ctx, f.building.ID, []string{ps[0].ID})
	must(t, err)
	equal(t, "note after a refused delivery", notes[ps[0].ID], "by the door")
	_, err = f.s.DeliverParcel(f.ctx, f.carrier.ID, "NOPE", "")
	wantCode(t, err, doorman.ENOTFOUND)

	ana := &doorman.Resident{BuildingID: f.building.ID, UnitID: f.unit.ID, Name: "Ana", Email: "ana@example.org"}
	bo := &doorman.Resident{BuildingID: f.building.ID, UnitID: f.unit.ID, Name: "Bo", Email: "bo@example.org"}
	must(t, f.s.CreateResident(f.ctx, ana))
	must(t, f.s.CreateResident(f.ctx, bo))
	must(t, f.s.SetResidentPreferences(f.ctx, bo.ID, doorman.ResidentPreferences{NotifyEntry: true}))
	other := f.newUnit(t, f.building.ID, "9Z")
	must(t, f.s.CreateResident(f.ctx, &doorman.Resident{BuildingID: f.building.ID, UnitID: other.ID, Name: "Cy", Email: "cy@example.org"}))
	rs, err := f.s.DeliveryRecipients(f.ctx, f.unit.ID)
	must(t, err)
	if len(rs) != 1 || rs[0].ID != ana.ID {
		t.Fatalf("delivery recipients %v; want Ana only", show(rs))
	}
	f.verifyClean(t)
}
