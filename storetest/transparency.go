package storetest

import (
	"testing"

	"github.com/doorman-dev/doorman"
)

// testTransparency: a building's transparency page is off until turned on;
// turning it on or off is chained once per change; an unknown building is
// ENOTFOUND.
func testTransparency(t *testing.T, open Opener) {
	f := newFixture(t, open)
	other := f.newBuilding(t, "Oak Yard")
	on, err := f.s.BuildingTransparent(f.ctx, f.building.ID)
	must(t, err)
	if on {
		t.Fatal("a new building's transparency page is on")
	}
	before := chainLen(t, f, f.building.ID)
	must(t, f.s.SetBuildingTransparent(f.ctx, f.building.ID, true))
	must(t, f.s.SetBuildingTransparent(f.ctx, f.building.ID, true)) // no change, no entry
	if on, err = f.s.BuildingTransparent(f.ctx, f.building.ID); err != nil || !on {
		t.Fatalf("after turning it on: %v, %v", on, err)
	}
	if on, err = f.s.BuildingTransparent(f.ctx, other.ID); err != nil || on {
		t.Fatalf("turning one building's page on turned another's: %v, %v", on, err)
	}
	if n := chainLen(t, f, f.building.ID); n != before+1 {
		t.Fatalf("turning it on twice chained %d entries, want 1", n-before)
	}
	must(t, f.s.SetBuildingTransparent(f.ctx, f.building.ID, false))
	if on, err = f.s.BuildingTransparent(f.ctx, f.building.ID); err != nil || on {
		t.Fatalf("after turning it off: %v, %v", on, err)
	}
	if n := chainLen(t, f, f.building.ID); n != before+2 {
		t.Fatalf("chain grew by %d, want 2", n-before)
	}
	f.verifyClean(t)
	missing := doorman.NewID(doorman.PrefixBuilding)
	if _, err := f.s.BuildingTransparent(f.ctx, missing); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("BuildingTransparent(unknown) = %v, want ENOTFOUND", err)
	}
	if err := f.s.SetBuildingTransparent(f.ctx, missing, true); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("SetBuildingTransparent(unknown) = %v, want ENOTFOUND", err)
	}
}

// testDeliveryNotes: a note is kept per parcel, replaced and cleared, read
// only for parcels of the named building; an unknown parcel is ENOTFOUND.
func testDeliveryNotes(t *testing.T, open Opener) {
	f := newFixture(t, open)
	parcels := f.newParcels(t, "DN-1", "DN-2")
	notes, err := f.s.DeliveryNotes(f.ctx, f.building.ID, []string{parcels[0].ID, parcels[1].ID})
	must(t, err)
	if len(notes) != 0 {
		t.Fatalf("notes before any: %v", notes)
	}
	must(t, f.s.SetDeliveryNote(f.ctx, parcels[0].ID, "With the concierge"))
	must(t, f.s.SetDeliveryNote(f.ctx, parcels[1].ID, "Behind the planter"))
	must(t, f.s.SetDeliveryNote(f.ctx, parcels[1].ID, "In the parcel box"))
	notes, err = f.s.DeliveryNotes(f.ctx, f.building.ID, []string{parcels[0].ID, parcels[1].ID, doorman.NewID(doorman.PrefixParcel)})
	must(t, err)
	if len(notes) != 2 || notes[parcels[0].ID] != "With the concierge" || notes[parcels[1].ID] != "In the parcel box" {
		t.Fatalf("notes: %v", notes)
	}
	other := f.newBuilding(t, "Oak Yard")
	if notes, err = f.s.DeliveryNotes(f.ctx, other.ID, []string{parcels[0].ID}); err != nil || len(notes) != 0 {
		t.Fatalf("another building's notes: %v, %v", notes, err)
	}
	must(t, f.s.SetDeliveryNote(f.ctx, parcels[0].ID, ""))
	if notes, err = f.s.DeliveryNotes(f.ctx, f.building.ID, []string{parcels[0].ID}); err != nil || len(notes) != 0 {
		t.Fatalf("after clearing: %v, %v", notes, err)
	}
	if err := f.s.SetDeliveryNote(f.ctx, doorman.NewID(doorman.PrefixParcel), "x"); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("SetDeliveryNote(unknown) = %v, want ENOTFOUND", err)
	}
	// A parcel keeps its fields.
	p, err := f.s.Parcel(f.ctx, parcels[1].ID)
	must(t, err)
	if p.Status != doorman.ParcelOutForDelivery || p.TrackingNumber != "DN-2" {
		t.Fatalf("parcel after a note: %+v", p)
	}
}

// chainLen is the number of entries of a chain.
func chainLen(t *testing.T, f *fixture, chain string) int {
	t.Helper()
	entries, err := f.s.AuditChain(f.ctx, chain, 0, 1<<30)
	must(t, err)
	return len(entries)
}
