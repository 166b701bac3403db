package storetest

import (
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
)

func testBuildings(t *testing.T, open Opener) {
	t.Run("CreateGetUpdate", func(t *testing.T) {
		s, _ := open(t)
		ctx := operator()
		hours := &doorman.WeeklyHours{Monday: []doorman.Window{{Start: "08:00", End: "20:00"}}}
		b := &doorman.Building{Name: "Elm Court", Address: "1 Elm St", Timezone: "Europe/Berlin",
			DeliveryHours: hours, MaxDistanceMeters: 75.5}
		must(t, s.CreateBuilding(ctx, b))
		if !doorman.HasPrefix(b.ID, doorman.PrefixBuilding) || b.CreatedAt.IsZero() || !b.UpdatedAt.Equal(b.CreatedAt) {
			t.Fatalf("CreateBuilding set ID %q, CreatedAt %v, UpdatedAt %v", b.ID, b.CreatedAt, b.UpdatedAt)
		}
		got, err := s.Building(ctx, b.ID)
		must(t, err)
		equal(t, "Building", got, b)

		upd, err := s.UpdateBuilding(ctx, b.ID, doorman.BuildingUpdate{Name: ptr("Elm Court II"),
			DeliveryHours: ptr[*doorman.WeeklyHours](nil)})
		must(t, err)
		if upd.Name != "Elm Court II" || upd.DeliveryHours != nil || upd.Address != b.Address || upd.MaxDistanceMeters != 75.5 {
			t.Fatalf("UpdateBuilding returned %+v", upd)
		}
		got, err = s.Building(ctx, b.ID)
		must(t, err)
		equal(t, "Building after update", got, upd)
	})

	t.Run("OfflineDeliveryDays", func(t *testing.T) {
		s, _ := open(t)
		ctx := operator()
		b := &doorman.Building{Name: "Offline House", Address: "2 Elm St", Timezone: "UTC", OfflineDeliveryDays: 7}
		must(t, s.CreateBuilding(ctx, b))
		got, err := s.Building(ctx, b.ID)
		must(t, err)
		equal(t, "offline_delivery_days as created", got.OfflineDeliveryDays, 7)
		for _, days := range []int{0, 1, doorman.MaxOfflineDeliveryDays} {
			upd, err := s.UpdateBuilding(ctx, b.ID, doorman.BuildingUpdate{OfflineDeliveryDays: ptr(days)})
			must(t, err)
			got, err := s.Building(ctx, b.ID)
			must(t, err)
			equal(t, "offline_delivery_days after update", got, upd)
			equal(t, "offline_delivery_days", got.OfflineDeliveryDays, days)
		}
		for _, days := range []int{-1, doorman.MaxOfflineDeliveryDays + 1, 365} {
			_, err := s.UpdateBuilding(ctx, b.ID, doorman.BuildingUpdate{OfflineDeliveryDays: ptr(days)})
			wantCode(t, err, doorman.EINVALID)
			wantCode(t, s.CreateBuilding(ctx, &doorman.Building{Name: "x", Address: "x", Timezone: "UTC", OfflineDeliveryDays: days}), doorman.EINVALID)
		}
		got, err = s.Building(ctx, b.ID)
		must(t, err)
		equal(t, "offline_delivery_days after refused updates", got.OfflineDeliveryDays, doorman.MaxOfflineDeliveryDays)
	})

	t.Run("Errors", func(t *testing.T) {
		s, _ := open(t)
		ctx := operator()
		for _, b := range []*doorman.Building{
			{Name: "", Address: "x", Timezone: "UTC"},
			{Name: "x", Address: "x", Timezone: "Mars/Olympus"},
			{Name: "x", Address: "x", Timezone: "Local"},
			{Name: "x", Address: "x", Timezone: "UTC", MaxDistanceMeters: -1},
			{Name: "x", Address: "x", Timezone: "UTC", DeliveryHours: &doorman.WeeklyHours{Friday: []doorman.Window{{Start: "20:00", End: "08:00"}}}},
		} {
			wantCode(t, s.CreateBuilding(ctx, b), doorman.EINVALID)
		}
		_, err := s.Building(ctx, doorman.NewID(doorman.PrefixBuilding))
		wantCode(t, err, doorman.ENOTFOUND)
		_, err = s.UpdateBuilding(ctx, doorman.NewID(doorman.PrefixBuilding), doorman.BuildingUpdate{Name: ptr("x")})
		wantCode(t, err, doorman.ENOTFOUND)

		b := &doorman.Building{Name: "x", Address: "x", Timezone: "UTC"}
		must(t, s.CreateBuilding(ctx, b))
		_, err = s.UpdateBuilding(ctx, b.ID, doorman.BuildingUpdate{Timezone: ptr("Nowhere/Land")})
		wantCode(t, err, doorman.EINVALID)
		got, err := s.Building(ctx, b.ID)
		must(t, err)
		equal(t, "Building after refused update", got, b)
	})

	t.Run("ListByIDs", func(t *testing.T) {
		s, _ := open(t)
		ctx := operator()
		var all []*doorman.Building
		for _, name := range []string{"A", "B", "C"} {
			b := &doorman.Building{Name: name, Address: "x", Timezone: "UTC"}
			must(t, s.CreateBuilding(ctx, b))
			all = append(all, b)
		}
		list, next, err := s.ListBuildings(ctx, nil, doorman.Page{})
		must(t, err)
		equal(t, "ListBuildings(nil)", list, all)
		equal(t, "next cursor", next, "")
		list, _, err = s.ListBuildings(ctx, []string{all[2].ID, all[0].ID, doorman.NewID(doorman.PrefixBuilding)}, doorman.Page{})
		must(t, err)
		equal(t, "ListBuildings(ids)", list, []*doorman.Building{all[0], all[2]})
		list, _, err = s.ListBuildings(ctx, []string{}, doorman.Page{})
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("ListBuildings([]) = %d buildings, want none", len(list))
		}
	})

	t.Run("CarrierAllowList", func(t *testing.T) {
		f := newFixture(t, open)
		other := f.newCarrier(t, "Slowpost")
		ok, err := f.s.CarrierAllowed(f.ctx, f.building.ID, other.ID)
		must(t, err)
		if ok {
			t.Fatal("CarrierAllowed for a carrier never allowed")
		}
		wantCode(t, f.s.AllowCarrier(f.ctx, doorman.NewID(doorman.PrefixBuilding), other.ID), doorman.ENOTFOUND)
		wantCode(t, f.s.AllowCarrier(f.ctx, f.building.ID, doorman.NewID(doorman.PrefixCarrier)), doorman.ENOTFOUND)
		wantCode(t, f.s.DisallowCarrier(f.ctx, f.building.ID, other.ID), doorman.ENOTFOUND)

		before := len(f.audit(t, doorman.AuditFilter{Chain: f.building.ID}))
		must(t, f.s.AllowCarrier(f.ctx, f.building.ID, other.ID))
		must(t, f.s.AllowCarrier(f.ctx, f.building.ID, other.ID)) // allowing twice is fine
		if n := len(f.audit(t, doorman.AuditFilter{Chain: f.building.ID})); n != before+1 {
			t.Fatalf("allowing twice appended %d audit entries, want 1", n-before)
		}
		ok, err = f.s.CarrierAllowed(f.ctx, f.building.ID, other.ID)
		must(t, err)
		if !ok {
			t.Fatal("CarrierAllowed = false after AllowCarrier")
		}
		carriers, err := f.s.AllowedCarriers(f.ctx, f.building.ID)
		must(t, err)
		equal(t, "AllowedCarriers", carriers, []*doorman.Carrier{f.carrier, other})

		second := f.newBuilding(t, "Oak Yard")
		must(t, f.s.AllowCarrier(f.ctx, second.ID, other.ID))
		buildings, next, err := f.s.CarrierBuildings(f.ctx, other.ID, doorman.Page{Limit: 1})
		must(t, err)
		equal(t, "CarrierBuildings page 1", buildings, []*doorman.Building{f.building})
		buildings, next, err = f.s.CarrierBuildings(f.ctx, other.ID, doorman.Page{After: next, Limit: 1})
		must(t, err)
		equal(t, "CarrierBuildings page 2", buildings, []*doorman.Building{second})
		equal(t, "last cursor", next, "")

		must(t, f.s.DisallowCarrier(f.ctx, f.building.ID, other.ID))
		ok, err = f.s.CarrierAllowed(f.ctx, f.building.ID, other.ID)
		must(t, err)
		if ok {
			t.Fatal("CarrierAllowed = true after DisallowCarrier")
		}
		entries := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
		if entries[0].Action != doorman.ActionCarrierRemoved || entries[1].Action != doorman.ActionCarrierAllowed ||
			entries[0].CarrierID != other.ID || entries[0].Actor != doorman.RoleOperator {
			t.Fatalf("audit after allow and disallow: %+v, %+v", entries[0], entries[1])
		}
	})
}

func testUnits(t *testing.T, open Opener) {
	t.Run("AllOrNothing", func(t *testing.T) {
		f := newFixture(t, open)
		count := func() int {
			units, _, err := f.s.ListUnits(f.ctx, f.building.ID, doorman.Page{Limit: doorman.MaxPageLimit})
			must(t, err)
			return len(units)
		}
		before := count()
		batch := func(labels ...string) []*doorman.Unit {
			var us []*doorman.Unit
			for _, l := range labels {
				us = append(us, &doorman.Unit{BuildingID: f.building.ID, Label: l})
			}
			return us
		}
		wantCode(t, f.s.CreateUnits(f.ctx, batch("1A", "1B", "4B")), doorman.ECONFLICT) // 4B exists
		wantCode(t, f.s.CreateUnits(f.ctx, batch("1A", "1B", "1A")), doorman.ECONFLICT) // twice in the batch
		wantCode(t, f.s.CreateUnits(f.ctx, batch("1A", "")), doorman.EINVALID)
		wantCode(t, f.s.CreateUnits(f.ctx, nil), doorman.EINVALID)
		mixed := append(batch("1A"), &doorman.Unit{BuildingID: doorman.NewID(doorman.PrefixBuilding), Label: "1B"})
		wantCode(t, f.s.CreateUnits(f.ctx, mixed), doorman.ENOTFOUND)
		if n := count(); n != before {
			t.Fatalf("refused batches created %d units", n-before)
		}

		units := batch("1A", "1B", "2A")
		units[0].Floor = "1"
		must(t, f.s.CreateUnits(f.ctx, units))
		for _, u := range units {
			got, err := f.s.Unit(f.ctx, f.building.ID, u.ID)
			must(t, err)
			equal(t, "Unit", got, u)
		}
		if n := count(); n != before+3 {
			t.Fatalf("units after import = %d, want %d", n, before+3)
		}
		e := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})[0]
		if e.Action != doorman.ActionUnitsImported || e.Detail != "3 units" {
			t.Fatalf("audit after import = %+v", e)
		}
	})

	t.Run("GetAndDelete", func(t *testing.T) {
		f := newFixture(t, open)
		other := f.newBuilding(t, "Oak Yard")
		_, err := f.s.Unit(f.ctx, other.ID, f.unit.ID)
		wantCode(t, err, doorman.ENOTFOUND)
		wantCode(t, f.s.DeleteUnit(f.ctx, other.ID, f.unit.ID), doorman.ENOTFOUND)

		r := &doorman.Resident{BuildingID: f.building.ID, UnitID: f.unit.ID, Name: "Ada", Email: "ada@example.com"}
		must(t, f.s.CreateResident(f.ctx, r))
		wantCode(t, f.s.DeleteUnit(f.ctx, f.building.ID, f.unit.ID), doorman.ECONFLICT)
		must(t, f.s.DeleteResident(f.ctx, f.building.ID, r.ID))

		f.newParcels(t, "TRK-UNIT-1")
		wantCode(t, f.s.DeleteUnit(f.ctx, f.building.ID, f.unit.ID), doorman.ECONFLICT)

		empty := f.newUnit(t, f.building.ID, "9Z")
		must(t, f.s.DeleteUnit(f.ctx, f.building.ID, empty.ID))
		_, err = f.s.Unit(f.ctx, f.building.ID, empty.ID)
		wantCode(t, err, doorman.ENOTFOUND)
		wantCode(t, f.s.DeleteUnit(f.ctx, f.building.ID, empty.ID), doorman.ENOTFOUND)
	})
}

func testResidents(t *testing.T, open Opener) {
	f := newFixture(t, open)
	other := f.newBuilding(t, "Oak Yard")
	r := &doorman.Resident{BuildingID: other.ID, UnitID: f.unit.ID, Name: "Ada", Email: "ada@example.com"}
	wantCode(t, f.s.CreateResident(f.ctx, r), doorman.ENOTFOUND) // unit of another building
	r.BuildingID = f.building.ID
	r.Email = "not an email"
	wantCode(t, f.s.CreateResident(f.ctx, r), doorman.EINVALID)
	r.Email = "ada@example.com"
	must(t, f.s.CreateResident(f.ctx, r))
	if !doorman.HasPrefix(r.ID, doorman.PrefixResident) {
		t.Fatalf("resident ID %q", r.ID)
	}
	list, _, err := f.s.ListResidents(f.ctx, f.building.ID, doorman.Page{})
	must(t, err)
	equal(t, "ListResidents", list, []*doorman.Resident{r})
	list, _, err = f.s.ListResidents(f.ctx, other.ID, doorman.Page{})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("another building lists %d residents", len(list))
	}

	wantCode(t, f.s.DeleteResident(f.ctx, other.ID, r.ID), doorman.ENOTFOUND)
	must(t, f.s.DeleteResident(f.ctx, f.building.ID, r.ID))
	wantCode(t, f.s.DeleteResident(f.ctx, f.building.ID, r.ID), doorman.ENOTFOUND)
	list, _, err = f.s.ListResidents(f.ctx, f.building.ID, doorman.Page{})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("deleted resident still listed")
	}

	// The append-only log must not keep what deleting a resident deletes.
	entries := f.audit(t, doorman.AuditFilter{Chain: f.building.ID})
	if entries[0].Action != doorman.ActionResidentRemoved || entries[1].Action != doorman.ActionResidentAdded {
		t.Fatalf("audit actions %q, %q", entries[0].Action, entries[1].Action)
	}
	for _, e := range entries {
		for _, field := range []string{e.Detail, e.Reason, e.Actor} {
			if strings.Contains(field, "Ada") || strings.Contains(field, "ada@example.com") {
				t.Fatalf("audit entry %d keeps the resident's personal data: %+v", e.Seq, e)
			}
		}
	}
}

func testDoors(t *testing.T, open Opener) {
	f := newFixture(t, open)
	if f.door.PulseMillis != doorman.DefaultPulseMillis || !doorman.HasPrefix(f.door.ID, doorman.PrefixDoor) {
		t.Fatalf("CreateDoor defaults: %+v", f.door)
	}
	got, err := f.s.Door(f.ctx, f.door.ID)
	must(t, err)
	equal(t, "Door", got, f.door)

	wantCode(t, f.s.CreateDoor(f.ctx, &doorman.Door{BuildingID: doorman.NewID(doorman.PrefixBuilding), Name: "x"}), doorman.ENOTFOUND)
	wantCode(t, f.s.CreateDoor(f.ctx, &doorman.Door{BuildingID: f.building.ID, Name: "x", PulseMillis: 50}), doorman.EINVALID)
	wantCode(t, f.s.CreateDoor(f.ctx, &doorman.Door{BuildingID: f.building.ID, Name: "x", Latitude: ptr(52.5)}), doorman.EINVALID)
	_, err = f.s.Door(f.ctx, doorman.NewID(doorman.PrefixDoor))
	wantCode(t, err, doorman.ENOTFOUND)

	lat, lng := 52.52, 13.405
	upd, err := f.s.UpdateDoor(f.ctx, f.door.ID, doorman.DoorUpdate{Name: ptr("Side door"), PulseMillis: ptr(5000),
		Latitude: ptr(&lat), Longitude: ptr(&lng)})
	must(t, err)
	if upd.Name != "Side door" || upd.PulseMillis != 5000 || *upd.Latitude != lat || *upd.Longitude != lng {
		t.Fatalf("UpdateDoor returned %+v", upd)
	}
	got, err = f.s.Door(f.ctx, f.door.ID)
	must(t, err)
	equal(t, "Door after update", got, upd)

	_, err = f.s.UpdateDoor(f.ctx, f.door.ID, doorman.DoorUpdate{Latitude: ptr[*float64](nil)})
	wantCode(t, err, doorman.EINVALID) // longitude without latitude
	_, err = f.s.UpdateDoor(f.ctx, f.door.ID, doorman.DoorUpdate{PulseMillis: ptr(doorman.MaxPulseMillis + 1)})
	wantCode(t, err, doorman.EINVALID)
	_, err = f.s.UpdateDoor(f.ctx, doorman.NewID(doorman.PrefixDoor), doorman.DoorUpdate{Name: ptr("x")})
	wantCode(t, err, doorman.ENOTFOUND)
	got, err = f.s.Door(f.ctx, f.door.ID)
	must(t, err)
	equal(t, "Door after refused updates", got, upd)

	second := f.newDoor(t, f.building.ID, "Garage")
	doors, _, err := f.s.ListDoors(f.ctx, f.building.ID, doorman.Page{})
	must(t, err)
	equal(t, "ListDoors", doors, []*doorman.Door{upd, second})

	e := f.audit(t, doorman.AuditFilter{DoorID: f.door.ID})
	if e[0].Action != doorman.ActionDoorUpdated || e[len(e)-1].Action != doorman.ActionDoorCreated {
		t.Fatalf("door audit: newest %q, oldest %q", e[0].Action, e[len(e)-1].Action)
	}
}
