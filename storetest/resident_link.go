package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// testResidentLinks checks doorman.ResidentStore: magic links used once
// and within their lifetime, preferences, the outbox, a unit's parcels,
// a building's entries by action, and erasing a resident with everything
// of theirs.
func testResidentLinks(t *testing.T, open Opener) {
	f := newFixture(t, open)
	other := f.newBuilding(t, "Oak Yard")
	otherUnit := f.newUnit(t, other.ID, "1A")
	ada := &doorman.Resident{BuildingID: f.building.ID, UnitID: f.unit.ID, Name: "Ada", Email: "Ada@Example.com"}
	must(t, f.s.CreateResident(f.ctx, ada))
	bea := &doorman.Resident{BuildingID: other.ID, UnitID: otherUnit.ID, Name: "Bea", Email: "bea@example.com"}
	must(t, f.s.CreateResident(f.ctx, bea))

	t.Run("Lookup", func(t *testing.T) {
		got, err := f.s.Resident(f.ctx, ada.ID)
		must(t, err)
		equal(t, "Resident", got, ada)
		_, err = f.s.Resident(f.ctx, doorman.NewID(doorman.PrefixResident))
		wantCode(t, err, doorman.ENOTFOUND)
		list, err := f.s.ResidentsByEmail(f.ctx, "ada@example.COM")
		must(t, err)
		equal(t, "ResidentsByEmail", list, []*doorman.Resident{ada})
		list, err = f.s.ResidentsByEmail(f.ctx, "nobody@example.com")
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("ResidentsByEmail(nobody) = %+v", list)
		}
	})

	now := time.Now().UTC().Truncate(time.Microsecond)
	link := func(t *testing.T, r *doorman.Resident, created time.Time) (*doorman.ResidentLink, *doorman.Message, string) {
		t.Helper()
		token, hash := doorman.NewToken(doorman.TokenResidentLink)
		l := &doorman.ResidentLink{ResidentID: r.ID, TokenHash: hash, CreatedAt: created, ExpiresAt: created.Add(doorman.ResidentLinkTTL)}
		m := &doorman.Message{Channel: doorman.ChannelEmail, Kind: doorman.KindResidentSignInLink, BuildingID: r.BuildingID, ResidentID: r.ID, Target: r.Email, Subject: "Sign in", Text: "link " + token}
		must(t, f.s.CreateResidentLink(f.ctx, l, m))
		if !doorman.HasPrefix(l.ID, doorman.PrefixResidentLink) || !doorman.HasPrefix(m.ID, doorman.PrefixMessage) || m.Status != doorman.MessageQueued {
			t.Fatalf("link %+v, mail %+v", l, m)
		}
		return l, m, hash
	}

	t.Run("LinkOnce", func(t *testing.T) {
		l, _, hash := link(t, ada, now)
		got, err := f.s.UseResidentLink(f.ctx, hash, now.Add(time.Minute))
		must(t, err)
		if got.ID != l.ID || got.ResidentID != ada.ID || got.UsedAt == nil || !got.UsedAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("used link %+v", got)
		}
		_, err = f.s.UseResidentLink(f.ctx, hash, now.Add(2*time.Minute))
		wantCode(t, err, doorman.ENOTFOUND)
		_, err = f.s.UseResidentLink(f.ctx, doorman.HashToken("unknown"), now)
		wantCode(t, err, doorman.ENOTFOUND)

		_, _, expired := link(t, ada, now)
		_, err = f.s.UseResidentLink(f.ctx, expired, now.Add(doorman.ResidentLinkTTL))
		wantCode(t, err, doorman.ENOTFOUND)

		bad := &doorman.ResidentLink{ResidentID: doorman.NewID(doorman.PrefixResident), TokenHash: doorman.HashToken("x"), CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		wantCode(t, f.s.CreateResidentLink(f.ctx, bad, &doorman.Message{Channel: doorman.ChannelEmail, Kind: doorman.KindResidentSignInLink, BuildingID: f.building.ID, Target: "x@example.com", Subject: "s"}), doorman.ENOTFOUND)
		bad.ResidentID, bad.TokenHash = ada.ID, "not a hash"
		wantCode(t, f.s.CreateResidentLink(f.ctx, bad, &doorman.Message{Channel: doorman.ChannelEmail, Kind: doorman.KindResidentSignInLink, BuildingID: f.building.ID, Target: "x@example.com", Subject: "s"}), doorman.EINVALID)
	})

	t.Run("Concurrent", func(t *testing.T) {
		_, _, hash := link(t, ada, now)
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				_, err := f.s.UseResidentLink(f.ctx, hash, now.Add(time.Second))
				errs <- err
			}()
		}
		used := 0
		for range 8 {
			if err := <-errs; err == nil {
				used++
			} else if doorman.ErrorCode(err) != doorman.ENOTFOUND {
				t.Fatal(err)
			}
		}
		if used != 1 {
			t.Fatalf("a link used %d times at once", used)
		}
	})

	t.Run("Preferences", func(t *testing.T) {
		p, err := f.s.ResidentPreferences(f.ctx, ada.ID)
		must(t, err)
		if p != (doorman.ResidentPreferences{NotifyDelivery: true}) {
			t.Fatalf("default preferences %+v", p)
		}
		want := doorman.ResidentPreferences{NotifyEntry: true}
		must(t, f.s.SetResidentPreferences(f.ctx, ada.ID, want))
		p, err = f.s.ResidentPreferences(f.ctx, ada.ID)
		must(t, err)
		equal(t, "preferences", p, want)
		wantCode(t, f.s.SetResidentPreferences(f.ctx, doorman.NewID(doorman.PrefixResident), want), doorman.ENOTFOUND)
		_, err = f.s.ResidentPreferences(f.ctx, doorman.NewID(doorman.PrefixResident))
		wantCode(t, err, doorman.ENOTFOUND)
	})

	t.Run("UnitParcels", func(t *testing.T) {
		parcels := f.newParcels(t, "RL-1", "RL-2")
		got, err := f.s.UnitParcels(f.ctx, f.building.ID, f.unit.ID, 10)
		must(t, err)
		if len(got) != 2 || got[0].ID != parcels[1].ID || got[1].ID != parcels[0].ID {
			t.Fatalf("unit parcels %+v", got)
		}
		got, err = f.s.UnitParcels(f.ctx, other.ID, f.unit.ID, 10)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("a unit's parcels under another building: %+v", got)
		}
	})

	t.Run("BuildingEntries", func(t *testing.T) {
		parcels := f.newParcels(t, "RL-3")
		_, err := f.s.RecordAccess(f.ctx, f.grant(parcels, time.Now()))
		must(t, err)
		_, err = f.s.RecordAccess(f.ctx, f.deny(doorman.ReasonUnknownParcel, time.Now()))
		must(t, err)
		got, err := f.s.BuildingEntries(f.ctx, f.building.ID, []string{doorman.ActionAccessGranted}, 10)
		must(t, err)
		if len(got) != 1 || got[0].Action != doorman.ActionAccessGranted || got[0].CarrierID != f.carrier.ID {
			t.Fatalf("granted entries %+v", got)
		}
		got, err = f.s.BuildingEntries(f.ctx, other.ID, []string{doorman.ActionAccessGranted}, 10)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("another building's entries %+v", got)
		}
		got, err = f.s.BuildingEntries(f.ctx, f.building.ID, nil, 10)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("entries of no action %+v", got)
		}
	})

	t.Run("Erase", func(t *testing.T) {
		_, _, unused := link(t, ada, now)
		token, hash := doorman.NewToken(doorman.TokenResident)
		exp := now.Add(time.Hour)
		session := &doorman.Credential{Role: doorman.RoleResident, SubjectID: ada.ID, Prefix: token[:12], TokenHash: hash, ExpiresAt: &exp}
		must(t, f.s.CreateCredential(f.ctx, session))
		_, bhash := doorman.NewToken(doorman.TokenResident)
		beaSession := &doorman.Credential{Role: doorman.RoleResident, SubjectID: bea.ID, Prefix: "dmr_x", TokenHash: bhash, ExpiresAt: &exp}
		must(t, f.s.CreateCredential(f.ctx, beaSession))
		_, _, beaLink := link(t, bea, now)

		wantCode(t, f.s.EraseResident(f.ctx, other.ID, ada.ID), doorman.ENOTFOUND)
		must(t, f.s.EraseResident(f.ctx, f.building.ID, ada.ID))
		wantCode(t, f.s.EraseResident(f.ctx, f.building.ID, ada.ID), doorman.ENOTFOUND)

		_, err := f.s.Resident(f.ctx, ada.ID)
		wantCode(t, err, doorman.ENOTFOUND)
		_, err = f.s.CredentialByTokenHash(f.ctx, hash, now)
		wantCode(t, err, doorman.ENOTFOUND)
		_, err = f.s.UseResidentLink(f.ctx, unused, now)
		wantCode(t, err, doorman.ENOTFOUND)
		list, _, err := f.s.ListMessages(f.ctx, doorman.MessageFilter{BuildingID: f.building.ID}, doorman.Page{Limit: 500})
		must(t, err)
		for _, m := range list {
			if m.ResidentID == ada.ID || strings.EqualFold(m.Target, ada.Email) {
				t.Fatalf("mail to the erased resident kept: %+v", m)
			}
		}
		entries := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
		if entries[0].Action != doorman.ActionResidentDataDeleted || entries[0].Detail != ada.ID {
			t.Fatalf("newest entry %+v", entries[0])
		}
		for _, e := range entries {
			for _, field := range []string{e.Detail, e.Reason, e.Actor} {
				if strings.Contains(field, "Ada") || strings.Contains(strings.ToLower(field), "ada@example.com") {
					t.Fatalf("audit entry %d keeps the resident's personal data: %+v", e.Seq, e)
				}
			}
		}
		f.verifyClean(t)

		// Another resident keeps everything.
		if _, err := f.s.CredentialByTokenHash(f.ctx, bhash, now); err != nil {
			t.Errorf("the other resident's session: %v", err)
		}
		if _, err := f.s.UseResidentLink(f.ctx, beaLink, now); err != nil {
			t.Errorf("the other resident's link: %v", err)
		}
	})
}
