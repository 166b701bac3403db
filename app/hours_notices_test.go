package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// TestHoursWidenedNotice: narrowing a building's hours tells nobody;
// widening them writes one building.hours_widened entry (old and new
// hours, no personal data) and its producer gives every resident the new
// hours; the carrier's couriers are not held back by it.
func TestHoursWidenedNotice(t *testing.T) {
	w := newResidentWorld(t)
	ctx := context.Background()
	count := func() int {
		all, _, err := w.store.ListAudit(ctx, doorman.AuditFilter{Chain: w.building.ID}, doorman.Page{Limit: doorman.MaxPageLimit})
		must(t, err)
		n := 0
		for _, e := range all {
			if e.Action == doorman.ActionBuildingHoursWidened {
				n++
			}
		}
		return n
	}
	win := func(start, end string) []doorman.Window { return []doorman.Window{{Start: start, End: end}} }
	_, err := w.app.Buildings.UpdateBuilding(w.sys, w.building.ID, app.BuildingChange{DeliveryHours: &doorman.WeeklyHours{Monday: win("09:00", "17:00")}})
	must(t, err)
	if n := count(); n != 0 {
		t.Fatalf("narrowing from any hour wrote %d widened entries", n)
	}
	_, err = w.app.Buildings.UpdateBuilding(w.sys, w.building.ID, app.BuildingChange{DeliveryHours: &doorman.WeeklyHours{Monday: win("08:00", "20:00")}})
	must(t, err)
	if n := count(); n != 1 {
		t.Fatalf("widening wrote %d widened entries", n)
	}
	e := lastEntry(t, w, w.building.ID, doorman.ActionBuildingHoursWidened)
	if strings.Contains(e.Detail, "@") || !strings.Contains(e.Detail, "09:00") || !strings.Contains(e.Detail, "20:00") {
		t.Fatalf("detail %s", e.Detail)
	}
	// The building changes again before the producer runs: the notice
	// tells the hours the entry recorded.
	_, err = w.app.Buildings.UpdateBuilding(w.sys, w.building.ID, app.BuildingChange{DeliveryHours: &doorman.WeeklyHours{Monday: win("10:00", "11:00")}})
	must(t, err)
	msgs, err := app.NewNotices(w.store, base).ProduceNotices(w.sys, e)
	must(t, err)
	if len(msgs) == 0 {
		t.Fatal("no hours notices")
	}
	for _, m := range msgs {
		if m.Kind != doorman.KindHoursNotice || m.Source != e.ID || m.BuildingID != w.building.ID ||
			!strings.Contains(m.Text, "Monday: 08:00–20:00") || strings.Contains(m.Text, "10:00") ||
			!strings.Contains(m.Subject, "Delivery hours widened") || !strings.Contains(m.HTML, "08:00–20:00") {
			t.Fatalf("hours notice %+v", m)
		}
	}
	var ana bool
	for _, m := range msgs {
		ana = ana || m.Target == w.ana.Email
	}
	if !ana {
		t.Fatal("Ana was not told")
	}
	// The allowance of the carrier is untouched: no notice is owed for it.
	a, err := w.store.CarrierAllowance(ctx, w.building.ID, w.allowed.ID)
	must(t, err)
	if a.NoticeSource == e.ID {
		t.Fatal("the hours entry became the carrier's notice source")
	}
}
