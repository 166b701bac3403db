package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// lastEntry returns the newest entry of a building's chain with action.
func lastEntry(t *testing.T, w *residentWorld, buildingID, action string) *doorman.AuditEntry {
	t.Helper()
	all, _, err := w.store.ListAudit(context.Background(), doorman.AuditFilter{Chain: buildingID}, doorman.Page{Limit: doorman.MaxPageLimit})
	must(t, err)
	for _, e := range all {
		if e.Action == action {
			return e
		}
	}
	t.Fatalf("no %s entry", action)
	return nil
}

// TestNoticeProducer: allowing a carrier gives one notice per resident of
// that building and no other; it names the carrier, the doors, the hours,
// where to see entries, whom to ask and the privacy policy, never a
// courier; names with HTML in them are escaped in the HTML part.
func TestNoticeProducer(t *testing.T) {
	w := newResidentWorld(t)
	ben, _ := w.addResident(t, w.building, "3C", "Ben", "ben@example.org")
	c := &doorman.Carrier{Name: `<b>Boxline</b>`}
	must(t, w.app.Carriers.CreateCarrier(w.sys, c))
	must(t, w.app.Buildings.AllowCarrier(w.sys, w.building.ID, c.ID))
	e := lastEntry(t, w, w.building.ID, doorman.ActionCarrierAllowed)

	n := app.NewNotices(w.store, base)
	msgs, err := n.ProduceNotices(w.sys, e)
	must(t, err)
	got := map[string]*doorman.Message{}
	for _, m := range msgs {
		got[m.Target] = m
	}
	if len(msgs) != 2 || got["ana@example.org"] == nil || got["ben@example.org"] == nil {
		t.Fatalf("notices to %v; want Ana and Ben only (not Olga of another building)", got)
	}
	m := got["ben@example.org"]
	if m.ResidentID != ben.ID || m.Source != e.ID || m.Kind != doorman.KindCarrierNotice || m.Channel != doorman.ChannelEmail || m.BuildingID != w.building.ID {
		t.Fatalf("message %+v", m)
	}
	for _, want := range []string{"<b>Boxline</b>", w.door.Name, "Any hour", base + "/resident", "privacy", "Access starts no earlier than"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.HTML, "<b>Boxline") || !strings.Contains(m.HTML, "&lt;b&gt;Boxline") {
		t.Errorf("HTML does not escape the carrier's name:\n%s", m.HTML)
	}
	var d app.NoticeData
	must(t, json.Unmarshal(m.Payload, &d))
	if len(d.Carriers) != 1 || d.Carriers[0] != c.Name {
		t.Fatalf("payload %+v", d)
	}
	// Producing twice gives the same keys: the outbox queues nothing twice.
	again, err := n.ProduceNotices(w.sys, e)
	must(t, err)
	if len(again) != len(msgs) || again[0].Source != msgs[0].Source || again[0].Target != msgs[0].Target || again[0].Kind != msgs[0].Kind {
		t.Fatal("a second run keys its messages differently")
	}
	// Nothing about couriers goes to residents.
	for _, m := range msgs {
		if strings.Contains(m.Text, "cou_") || strings.Contains(string(m.Payload), "courier_id") {
			t.Fatalf("courier identity in a notice: %s", m.Text)
		}
	}
	// Other entries give nothing.
	for _, action := range []string{doorman.ActionResidentAdded, doorman.ActionBuildingCreated} {
		out, err := n.ProduceNotices(w.sys, lastEntry(t, w, w.building.ID, action))
		must(t, err)
		if len(out) != 0 {
			t.Fatalf("%s produced %d notices", action, len(out))
		}
	}
}

// TestDoorNotice: a new door is told to the building's residents, naming
// the door and the carriers that may use it.
func TestDoorNotice(t *testing.T) {
	w := newResidentWorld(t)
	_, err := w.app.Buildings.CreateDoor(w.sys, &doorman.Door{BuildingID: w.building.ID, Name: "Side gate"})
	must(t, err)
	msgs, err := app.NewNotices(w.store, "").ProduceNotices(w.sys, lastEntry(t, w, w.building.ID, doorman.ActionDoorCreated))
	must(t, err)
	if len(msgs) != 1 || msgs[0].Target != "ana@example.org" || msgs[0].Kind != doorman.KindDoorNotice ||
		!strings.Contains(msgs[0].Text, "Side gate") || !strings.Contains(msgs[0].Text, w.allowed.Name) {
		t.Fatalf("door notice %+v", msgs)
	}
}

// TestCarrierNotices: a manager sees an allowed carrier pending until its
// notices are queued and the period passes, only for their buildings, and
// sets the period within bounds.
func TestCarrierNotices(t *testing.T) {
	w := newResidentWorld(t)
	newManager(t, w.world, "m@example.com", "a long manager password", cheap)
	m, err := w.store.ManagerByEmail(context.Background(), "m@example.com")
	must(t, err)
	mgr := as(doorman.RoleManager, m.ID, "")
	list, period, err := w.app.Notices.CarrierNotices(mgr, w.building.ID, time.Now())
	must(t, err)
	if period != doorman.DefaultNoticePeriod || len(list) != 1 || list[0].Active {
		t.Fatalf("period %v, list %v: want the carrier pending for the default period", period, list)
	}
	// The fixture's carrier was allowed before Ana moved in: not owed a
	// notice, so active once the period is over.
	list, _, err = w.app.Notices.CarrierNotices(mgr, w.building.ID, list[0].Allowance.ActiveFrom())
	must(t, err)
	if !list[0].Active || list[0].Allowance.ResidentsOwed != 0 {
		t.Fatalf("carrier allowed before any resident is pending: %+v", list[0].Allowance)
	}
	c := &doorman.Carrier{Name: "Boxline"}
	must(t, w.app.Carriers.CreateCarrier(w.sys, c))
	must(t, w.app.Buildings.AllowCarrier(mgr, w.building.ID, c.ID))
	list, _, err = w.app.Notices.CarrierNotices(mgr, w.building.ID, time.Now().Add(8*24*time.Hour))
	must(t, err)
	for _, n := range list {
		if n.Carrier.ID == c.ID && (n.Active || n.Allowance.ResidentsOwed != 1) {
			t.Fatalf("Boxline without notices: %+v", n.Allowance)
		}
	}
	wantCode(t, "a negative period", w.app.Notices.SetNoticePeriod(mgr, w.building.ID, -time.Hour), doorman.EINVALID)
	must(t, w.app.Notices.SetNoticePeriod(mgr, w.building.ID, 0))
	wantCode(t, "another building's period", w.app.Notices.SetNoticePeriod(mgr, w.other.ID, 0), doorman.ENOTFOUND)
	_, _, err = w.app.Notices.CarrierNotices(mgr, w.other.ID, time.Now())
	wantCode(t, "another building's carriers", err, doorman.ENOTFOUND)
	courier := doorman.NewContextWithPrincipal(context.Background(), &doorman.Principal{Role: doorman.RoleCarrier, CarrierID: c.ID, SubjectID: c.ID})
	wantCode(t, "a carrier sets the period", w.app.Notices.SetNoticePeriod(courier, w.building.ID, 0), doorman.EFORBIDDEN)
}
