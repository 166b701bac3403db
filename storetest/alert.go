package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testAlerts: alert settings default, change once per change, refuse bad
// input and stay per building; the door sweep writes one door.offline per
// outage and one door.online when the device reports again; the chain mark
// appends once per break; denials are counted per courier and per door up
// to an entry; old delivery notes are cleared and recent ones kept; the
// log verifies throughout.
func testAlerts(t *testing.T, open Opener) {
	f := newFixture(t, open)
	other := f.newBuilding(t, "Oak Yard")

	t.Run("Settings", func(t *testing.T) {
		st, err := f.s.AlertSettings(f.ctx, f.building.ID)
		must(t, err)
		if !slices.Equal(st.Disabled, nil) || st.OfflineMinutes != 10 || st.RetentionDays != 90 {
			t.Fatalf("default settings: %+v", st)
		}
		before := chainLen(t, f, f.building.ID)
		want := &doorman.AlertSettings{Disabled: []string{doorman.AlertDoorHeldOpen, doorman.AlertDoorForced, doorman.AlertDoorHeldOpen},
			OfflineMinutes: 5, RetentionDays: 30}
		must(t, f.s.SetAlertSettings(f.ctx, f.building.ID, want))
		must(t, f.s.SetAlertSettings(f.ctx, f.building.ID, &doorman.AlertSettings{
			Disabled: []string{doorman.AlertDoorForced, doorman.AlertDoorHeldOpen}, OfflineMinutes: 5, RetentionDays: 30}))
		if n := chainLen(t, f, f.building.ID); n != before+1 {
			t.Fatalf("setting the same settings twice chained %d entries, want 1", n-before)
		}
		st, err = f.s.AlertSettings(f.ctx, f.building.ID)
		must(t, err)
		if !slices.Equal(st.Disabled, []string{doorman.AlertDoorForced, doorman.AlertDoorHeldOpen}) || st.OfflineMinutes != 5 || st.RetentionDays != 30 {
			t.Fatalf("settings read back: %+v", st)
		}
		if st.Enabled(doorman.AlertDoorForced) || !st.Enabled(doorman.AlertDoorOffline) {
			t.Fatalf("Enabled: %+v", st)
		}
		if o, err := f.s.AlertSettings(f.ctx, other.ID); err != nil || o.OfflineMinutes != 10 || len(o.Disabled) != 0 {
			t.Fatalf("another building's settings changed: %+v, %v", o, err)
		}
		for _, bad := range []*doorman.AlertSettings{
			{Disabled: []string{"nope"}, OfflineMinutes: 5, RetentionDays: 30},
			{OfflineMinutes: 0, RetentionDays: 30},
			{OfflineMinutes: 5, RetentionDays: 0},
			{OfflineMinutes: 5, RetentionDays: doorman.MaxRetentionDays + 1},
		} {
			if err := f.s.SetAlertSettings(f.ctx, f.building.ID, bad); doorman.ErrorCode(err) != doorman.EINVALID {
				t.Fatalf("SetAlertSettings(%+v) = %v, want EINVALID", bad, err)
			}
		}
		if st, _ := f.s.AlertSettings(f.ctx, f.building.ID); st.RetentionDays != 30 {
			t.Fatalf("bad input changed the settings: %+v", st)
		}
		missing := doorman.NewID(doorman.PrefixBuilding)
		if _, err := f.s.AlertSettings(f.ctx, missing); doorman.ErrorCode(err) != doorman.ENOTFOUND {
			t.Fatalf("AlertSettings(unknown) = %v", err)
		}
		if err := f.s.SetAlertSettings(f.ctx, missing, doorman.DefaultAlertSettings()); doorman.ErrorCode(err) != doorman.ENOTFOUND {
			t.Fatalf("SetAlertSettings(unknown) = %v", err)
		}
	})

	t.Run("DoorSweep", func(t *testing.T) {
		// The building's doors go offline after 5 minutes (set above).
		t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
		dev, _ := f.enroll(t, f.door.ID, t0)
		silent := f.newDoor(t, f.building.ID, "Never seen") // no device, never reported
		_ = silent
		beat := func(at time.Time) {
			t.Helper()
			_, err := f.s.RecordDeviceEvent(f.ctx, &doorman.DeviceEvent{ID: doorman.NewID("evt"), DeviceID: dev.ID,
				DoorID: f.door.ID, Kind: doorman.EventHeartbeat, At: at})
			must(t, err)
		}
		sweep := func(now time.Time, wantOff, wantOn int) {
			t.Helper()
			off, on, err := f.s.SweepDoorStatus(f.ctx, now)
			must(t, err)
			if off != wantOff || on != wantOn {
				t.Fatalf("sweep at +%v: offline %d online %d, want %d %d", now.Sub(t0), off, on, wantOff, wantOn)
			}
		}
		beat(t0)
		sweep(t0.Add(5*time.Minute), 0, 0) // exactly 5 minutes: not yet
		sweep(t0.Add(5*time.Minute+time.Second), 1, 0)
		sweep(t0.Add(20*time.Minute), 0, 0) // one entry per outage
		beat(t0.Add(21 * time.Minute))
		sweep(t0.Add(21*time.Minute+time.Second), 0, 1)
		sweep(t0.Add(22*time.Minute), 0, 0)
		sweep(t0.Add(27*time.Minute), 1, 0) // a second outage
		if n := f.countActions(t, f.building.ID, doorman.ActionDoorOffline); n != 2 {
			t.Fatalf("door.offline entries: %d, want 2", n)
		}
		if n := f.countActions(t, f.building.ID, doorman.ActionDoorOnline); n != 1 {
			t.Fatalf("door.online entries: %d, want 1", n)
		}
		for _, e := range f.audit(t, doorman.AuditFilter{Chain: f.building.ID}) {
			if e.Action == doorman.ActionDoorOffline && (e.DoorID != f.door.ID || e.BuildingID != f.building.ID) {
				t.Fatalf("door.offline entry: %+v", e)
			}
		}
		f.verifyClean(t)
	})

	t.Run("ChainMark", func(t *testing.T) {
		ok, err := f.s.MarkChainBroken(f.ctx, other.ID, "entry 3 does not link")
		must(t, err)
		again, err := f.s.MarkChainBroken(f.ctx, other.ID, "entry 3 does not link")
		must(t, err)
		if !ok || again {
			t.Fatalf("MarkChainBroken twice: %v, %v; want true, false", ok, again)
		}
		must(t, f.s.MarkChainVerified(f.ctx, other.ID))
		if ok, err = f.s.MarkChainBroken(f.ctx, other.ID, "again"); err != nil || !ok {
			t.Fatalf("after MarkChainVerified: %v, %v", ok, err)
		}
		if n := f.countActions(t, other.ID, doorman.ActionAuditChainBroken); n != 2 {
			t.Fatalf("audit.chain_broken entries: %d, want 2", n)
		}
		if _, err := f.s.MarkChainBroken(f.ctx, doorman.NewID(doorman.PrefixBuilding), "x"); doorman.ErrorCode(err) != doorman.ENOTFOUND {
			t.Fatalf("MarkChainBroken(unknown) = %v", err)
		}
	})

	t.Run("CountDenials", func(t *testing.T) {
		t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
		for i := range 4 {
			_, err := f.s.RecordAccess(f.ctx, f.deny(doorman.ReasonUnknownParcel, t0.Add(time.Duration(i)*time.Minute)))
			must(t, err)
		}
		var last *doorman.AuditEntry
		for _, e := range f.audit(t, doorman.AuditFilter{Chain: f.building.ID}) {
			if e.Action == doorman.ActionAccessDenied {
				last = e
				break
			}
		}
		count := func(c doorman.DenialCount) int {
			t.Helper()
			c.Chain = f.building.ID
			n, err := f.s.CountDenials(f.ctx, c)
			must(t, err)
			return n
		}
		if n := count(doorman.DenialCount{CourierID: f.courier.ID, Since: t0, UpToSeq: last.Seq}); n != 4 {
			t.Fatalf("courier denials: %d, want 4", n)
		}
		if n := count(doorman.DenialCount{DoorID: f.door.ID, Since: t0.Add(2 * time.Minute), UpToSeq: last.Seq}); n != 2 {
			t.Fatalf("door denials since +2m: %d, want 2", n)
		}
		if n := count(doorman.DenialCount{DoorID: f.door.ID, Since: t0, UpToSeq: last.Seq - 1}); n != 3 {
			t.Fatalf("door denials up to the previous entry: %d, want 3", n)
		}
		if _, err := f.s.CountDenials(f.ctx, doorman.DenialCount{Chain: f.building.ID}); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Fatalf("CountDenials without courier or door = %v", err)
		}
	})

	t.Run("ClearDeliveryNotes", func(t *testing.T) {
		parcels := f.newParcels(t, "RET-1", "RET-2", "RET-3")
		now := time.Now()
		for i, p := range parcels[:2] {
			must(t, f.s.SetDeliveryNote(f.ctx, p.ID, "By the door"))
			days := []int{100, 10}[i]
			if _, err := f.db.Exec(`UPDATE parcels SET status = $1, delivered_at = $2 WHERE id = $3`,
				doorman.ParcelDelivered, now.Add(-time.Duration(days)*24*time.Hour).UnixMicro(), p.ID); err != nil {
				t.Fatal(err)
			}
		}
		must(t, f.s.SetDeliveryNote(f.ctx, parcels[2].ID, "Not delivered yet"))
		n, err := f.s.ClearDeliveryNotesBefore(f.ctx, other.ID, now.Add(-90*24*time.Hour))
		must(t, err)
		if n != 0 {
			t.Fatalf("cleared %d notes of another building", n)
		}
		n, err = f.s.ClearDeliveryNotesBefore(f.ctx, f.building.ID, now.Add(-90*24*time.Hour))
		must(t, err)
		if n != 1 {
			t.Fatalf("cleared %d notes, want 1", n)
		}
		notes, err := f.s.DeliveryNotes(f.ctx, f.building.ID, []string{parcels[0].ID, parcels[1].ID, parcels[2].ID})
		must(t, err)
		if len(notes) != 2 || notes[parcels[0].ID] != "" {
			t.Fatalf("notes after clearing: %v", notes)
		}
		f.verifyClean(t)
	})

	t.Run("ClaimRetentionRun", func(t *testing.T) {
		now := time.Now()
		claim := func(b string, at time.Time, want bool) {
			t.Helper()
			ok, err := f.s.ClaimRetentionRun(f.ctx, b, at, at.Add(-doorman.RetentionMinGap))
			must(t, err)
			if ok != want {
				t.Fatalf("claim at +%v: %v, want %v", at.Sub(now), ok, want)
			}
		}
		claim(f.building.ID, now, true)
		claim(f.building.ID, now.Add(time.Hour), false)
		claim(other.ID, now.Add(time.Hour), true)
		claim(f.building.ID, now.Add(doorman.RetentionMinGap), true)
		if st, err := f.s.AlertSettings(f.ctx, other.ID); err != nil || st.RetentionDays != 90 {
			t.Fatalf("settings after a claim: %+v, %v", st, err)
		}
		if _, err := f.s.ClaimRetentionRun(f.ctx, doorman.NewID(doorman.PrefixBuilding), now, now); doorman.ErrorCode(err) != doorman.ENOTFOUND {
			t.Fatalf("ClaimRetentionRun(unknown) = %v", err)
		}
	})

	t.Run("ManagerEmails", func(t *testing.T) {
		emails, err := f.s.BuildingManagerEmails(f.ctx, other.ID)
		must(t, err)
		if len(emails) != 0 {
			t.Fatalf("emails of a building without managers: %v", emails)
		}
		now := time.Now()
		for _, email := range []string{"zoe@example.org", "Abe@Example.org"} {
			token, hash := doorman.NewToken(doorman.TokenInvite)
			must(t, f.s.CreateInvite(f.ctx, &doorman.ManagerInvite{BuildingID: f.building.ID, Email: email, TokenHash: hash, ExpiresAt: now.Add(time.Hour)}))
			_, err := f.s.AcceptInvite(f.ctx, doorman.HashToken(token), "M", "argon2-hash", now)
			must(t, err)
		}
		emails, err = f.s.BuildingManagerEmails(f.ctx, f.building.ID)
		must(t, err)
		if strings.Join(emails, " ") != "Abe@Example.org zoe@example.org" {
			t.Fatalf("managers' emails: %v", emails)
		}
		if emails, _ = f.s.BuildingManagerEmails(f.ctx, other.ID); len(emails) != 0 {
			t.Fatalf("another building's managers: %v", emails)
		}
	})
}
