package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// TestDeliveryNotice: marking a parcel delivered with a note writes the
// delivery and the note at once, and its entry gives a notice to each
// resident of the parcel's unit who wants one — not to one who opted out,
// not to another unit's — naming carrier, time and where it was left,
// never the courier; HTML in the note is escaped.
func TestDeliveryNotice(t *testing.T) {
	w := newResidentWorld(t)
	ctx := context.Background()
	// Cleo shares Ana's unit but wants no delivery mail; Dan lives elsewhere.
	cleo := &doorman.Resident{BuildingID: w.building.ID, UnitID: w.unit.ID, Name: "Cleo", Email: "cleo@example.org"}
	must(t, w.app.Buildings.CreateResident(w.sys, cleo))
	must(t, w.store.SetResidentPreferences(ctx, cleo.ID, doorman.ResidentPreferences{}))
	w.addResident(t, w.building, "9Z", "Dan", "dan@example.org")

	carrier := as(doorman.RoleCarrier, w.allowed.ID, w.allowed.ID)
	cou, err := w.store.CourierByExternalID(ctx, w.allowed.ID, "c1")
	must(t, err)
	_, err = w.app.Carriers.UploadManifest(carrier, w.allowed.ID, []doorman.ParcelInput{{TrackingNumber: "TN-D1",
		BuildingID: w.building.ID, UnitLabel: w.unit.Label, CourierExternalID: "c1", Status: doorman.ParcelOutForDelivery}})
	must(t, err)
	courier := as(doorman.RoleCourier, cou.ID, w.allowed.ID)

	_, err = w.app.Carriers.DeliverParcelWithNote(courier, "TN-D1", strings.Repeat("x", doorman.MaxDeliveryNoteLen+1))
	wantCode(t, "a note too long", err, doorman.EINVALID)
	if p, _ := w.store.ParcelByTracking(ctx, w.allowed.ID, "TN-D1"); p.Status != doorman.ParcelOutForDelivery {
		t.Fatal("a refused note still delivered the parcel")
	}
	_, err = w.app.Carriers.DeliverParcelWithNote(courier, "TN-D1", `<script>x</script> with the concierge`)
	must(t, err)
	e := lastEntry(t, w, w.building.ID, doorman.ActionParcelDelivered)
	msgs, err := app.NewNotices(w.store, base).ProduceDeliveryNotices(w.sys, e)
	must(t, err)
	if len(msgs) != 1 || msgs[0].Target != "ana@example.org" || msgs[0].ResidentID != w.ana.ID || msgs[0].Kind != doorman.KindDeliveryNotice || msgs[0].Source != e.ID {
		t.Fatalf("delivery notices %+v; want one to Ana", msgs)
	}
	m := msgs[0]
	for _, want := range []string{w.allowed.Name, "TN-D1", "with the concierge", "UTC"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Errorf("HTML does not escape the note:\n%s", m.HTML)
	}
	if strings.Contains(m.Text, cou.ID) || strings.Contains(m.HTML, cou.ID) || strings.Contains(string(m.Payload), "courier") {
		t.Fatalf("the courier's identity reaches residents: %s", m.Text)
	}
	// Another action gives nothing.
	out, err := app.NewNotices(w.store, base).ProduceDeliveryNotices(w.sys, lastEntry(t, w, w.building.ID, doorman.ActionResidentAdded))
	must(t, err)
	if len(out) != 0 {
		t.Fatal("a resident.added entry produced delivery notices")
	}
}
