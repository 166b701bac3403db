package storetest

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testGrantUseOnce: a grant's use is chained once, as grant.used, whether
// the door's ack (MarkGrantAcked) or its unlock_executed event reaches the
// store first; the event is kept beside that entry. A second report of the
// same grant, a report of a grant used offline, and a report of a grant of
// another door are chained as themselves, for the log to show them.
func testGrantUseOnce(t *testing.T, open Opener) {
	f := newFixture(t, open)
	d, _ := f.enroll(t, f.door.ID, time.Now().Add(-time.Hour))
	chain := func() []*doorman.AuditEntry {
		t.Helper()
		return f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
	}
	grant := func(tracking string) *doorman.Grant {
		t.Helper()
		rec := f.grant(f.newParcels(t, tracking), time.Now())
		_, err := f.s.RecordAccess(f.ctx, rec)
		must(t, err)
		return rec.Grant
	}
	executed := func(grantID string) *doorman.DeviceEvent {
		return &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: d.ID, DoorID: f.door.ID,
			Kind: doorman.EventUnlockExecuted, At: time.Now(), GrantID: grantID}
	}
	keptBeside := func(ev *doorman.DeviceEvent) string {
		t.Helper()
		var auditID string
		must(t, f.db.QueryRow(`SELECT audit_id FROM device_events WHERE id = $1`, ev.ID).Scan(&auditID))
		return auditID
	}
	record := func(ev *doorman.DeviceEvent) {
		t.Helper()
		if ok, err := f.s.RecordDeviceEvent(f.ctx, ev); err != nil || !ok {
			t.Fatalf("RecordDeviceEvent = %v, %v", ok, err)
		}
	}

	t.Run("AckFirst", func(t *testing.T) {
		g := grant("TRK-ACK-FIRST")
		must(t, f.s.MarkGrantAcked(f.ctx, g.ID, time.Now()))
		used := chain()[0]
		if used.Action != doorman.ActionGrantUsed || used.GrantID != g.ID {
			t.Fatalf("after the ack: %+v", used)
		}
		ev := executed(g.ID)
		record(ev)
		if latest := chain()[0]; latest.ID != used.ID {
			t.Fatalf("the door's event of a grant its ack marked was chained again: %+v", latest)
		}
		equal(t, "the event's audit entry", keptBeside(ev), used.ID)

		// The same grant reported again (a door that executed it twice,
		// or a forged report with the door's key) stands out.
		again := executed(g.ID)
		record(again)
		latest := chain()[0]
		if latest.Action != doorman.DeviceEventAction(doorman.EventUnlockExecuted) || latest.GrantID != g.ID {
			t.Fatalf("a second report of a used grant: %+v", latest)
		}
		equal(t, "the second report's audit entry", keptBeside(again), latest.ID)
	})

	t.Run("EventFirst", func(t *testing.T) {
		g := grant("TRK-EVENT-FIRST")
		ev := executed(g.ID)
		record(ev)
		used := chain()[0]
		if used.Action != doorman.ActionGrantUsed || used.GrantID != g.ID || used.Actor != "device:"+d.ID {
			t.Fatalf("the event of a grant no ack marked: %+v", used)
		}
		got, err := f.s.Grant(f.ctx, g.ID)
		must(t, err)
		if got.UsedAt == nil {
			t.Fatal("the door's event did not mark its grant used")
		}
		equal(t, "the event's audit entry", keptBeside(ev), used.ID)
		wantCode(t, f.s.MarkGrantAcked(f.ctx, g.ID, time.Now()), doorman.ECONFLICT)
		if latest := chain()[0]; latest.ID != used.ID {
			t.Fatalf("the ack after the event chained again: %+v", latest)
		}
	})

	t.Run("OfflineUseThenOnlineReport", func(t *testing.T) {
		// A grant used offline (its command timed out, the courier showed
		// the offline grant) and then reported executed online as well:
		// the online report is a second use, and is chained as itself.
		g := grant("TRK-OFFLINE-THEN-ONLINE")
		must(t, f.s.MarkGrantUsed(f.ctx, g.ID, time.Now()))
		used := chain()[0]
		ev := executed(g.ID)
		record(ev)
		latest := chain()[0]
		if latest.ID == used.ID || latest.Action != doorman.DeviceEventAction(doorman.EventUnlockExecuted) {
			t.Fatalf("an online report of a grant used offline was not chained: %+v", latest)
		}
	})

	t.Run("OtherDoorsGrant", func(t *testing.T) {
		otherDoor := f.newDoor(t, f.building.ID, "Side door")
		rec := f.grant(f.newParcels(t, "TRK-OTHER-DOOR"), time.Now())
		rec.DoorID = otherDoor.ID
		_, err := f.s.RecordAccess(f.ctx, rec)
		must(t, err)
		ev := executed(rec.Grant.ID)
		record(ev)
		latest := chain()[0]
		if latest.Action != doorman.DeviceEventAction(doorman.EventUnlockExecuted) {
			t.Fatalf("a report of another door's grant: %+v", latest)
		}
		got, err := f.s.Grant(f.ctx, rec.Grant.ID)
		must(t, err)
		if got.UsedAt != nil {
			t.Fatal("a door's event marked another door's grant used")
		}
	})
}
