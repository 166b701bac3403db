package storetest

import (
	"encoding/json"
	"testing"

	"github.com/doorman-dev/doorman"
)

// testHoursWidened checks that an update of a building's hours that allows
// a time the old hours did not writes a building.hours_widened entry with
// the old and new hours, in the same write; a narrower one writes none.
func testHoursWidened(t *testing.T, open Opener) {
	f := newFixture(t, open)
	widened := func() []*doorman.AuditEntry {
		var out []*doorman.AuditEntry
		for _, e := range f.audit(t, doorman.AuditFilter{Chain: f.building.ID}) {
			if e.Action == doorman.ActionBuildingHoursWidened {
				out = append(out, e)
			}
		}
		return out
	}
	set := func(h *doorman.WeeklyHours) {
		t.Helper()
		_, err := f.s.UpdateBuilding(f.ctx, f.building.ID, doorman.BuildingUpdate{DeliveryHours: &h})
		must(t, err)
	}
	day := &doorman.WeeklyHours{Monday: []doorman.Window{{Start: "08:00", End: "18:00"}}}
	set(day) // from any hour: narrower
	set(&doorman.WeeklyHours{Monday: []doorman.Window{{Start: "09:00", End: "17:00"}}})
	if got := widened(); len(got) != 0 {
		t.Fatalf("narrower hours wrote %v", show(got))
	}
	set(day)
	got := widened()
	if len(got) != 1 {
		t.Fatalf("wider hours wrote %d entries", len(got))
	}
	var detail struct{ Old, New *doorman.WeeklyHours }
	must(t, json.Unmarshal([]byte(got[0].Detail), &detail))
	if detail.Old == nil || detail.Old.Monday[0].Start != "09:00" || detail.New == nil || detail.New.Monday[0].Start != "08:00" {
		t.Fatalf("detail %s", got[0].Detail)
	}
	if got[0].BuildingID != f.building.ID {
		t.Fatalf("entry %+v", got[0])
	}
	var none *doorman.WeeklyHours
	set(none) // any hour
	got = widened()
	found := false
	for _, e := range got {
		found = found || e.Detail == `{"old":{"monday":[{"start":"08:00","end":"18:00"}]},"new":null}`
	}
	if len(got) != 2 || !found {
		t.Fatalf("clearing the hours: %d entries", len(got))
	}
	// Another field alone writes none.
	_, err := f.s.UpdateBuilding(f.ctx, f.building.ID, doorman.BuildingUpdate{Name: ptr("Renamed")})
	must(t, err)
	if got := widened(); len(got) != 2 {
		t.Fatalf("a rename wrote a widened entry")
	}
}
