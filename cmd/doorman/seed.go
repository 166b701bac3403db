package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// Seeded is what seedDemo created, for the demo and the bench to use.
type Seeded struct {
	Building      *doorman.Building // the demo building, with Door
	Door          *doorman.Door
	OtherBuilding *doorman.Building
	Carriers      map[string]*doorman.Carrier // by name
	Couriers      map[string]*doorman.Courier // by external ID
	// Tracking numbers by story.
	AllowedParcel     string // out for delivery to the demo building, assigned to Alice
	OtherBuildingPar  string // Alice's parcel for the other building
	NotAllowedCarrier string // Carol's parcel, of a carrier only the other building allows
	// Manager manages the demo building and signs in to the console with
	// DemoManagerPassword.
	Manager *doorman.Manager
}

// The demo building's manager, who signs in to the console.
const (
	DemoManagerEmail    = "manager@maple-court.example"
	DemoManagerPassword = "maple-court-demo"
)

// seedDemo fills an empty store with a demo building through the
// application services, as the operator, the building's manager and each
// carrier would through the API: units, residents, a front door, three
// carriers (two allowed at the demo building, the third only at the other
// one), couriers and parcels. parcels is how many extra deliverable parcels
// Alice gets (for the bench).
func seedDemo(ctx context.Context, services *app.Services, parcels int) (*Seeded, error) {
	sys := systemContext(ctx)
	s := &Seeded{Carriers: map[string]*doorman.Carrier{}, Couriers: map[string]*doorman.Courier{}}

	s.Building = &doorman.Building{Name: "Maple Court", Address: "12 Harbour Street, Springfield", Timezone: "Europe/Berlin"}
	s.OtherBuilding = &doorman.Building{Name: "Birch House", Address: "3 Mill Lane, Springfield", Timezone: "Europe/Berlin"}
	var csv strings.Builder
	csv.WriteString("label,floor\n")
	for floor := 1; floor <= 4; floor++ {
		for _, letter := range "ABCD" {
			fmt.Fprintf(&csv, "%d%c,%d\n", floor, letter, floor)
		}
	}
	var mapleUnits []*doorman.Unit
	for _, b := range []*doorman.Building{s.Building, s.OtherBuilding} {
		if err := services.Buildings.CreateBuilding(sys, b); err != nil {
			return nil, fmt.Errorf("seed building: %w", err)
		}
		units, err := services.Buildings.ImportUnits(sys, b.ID, []byte(csv.String()))
		if err != nil {
			return nil, fmt.Errorf("seed units: %w", err)
		}
		// The demo lets couriers in at once: no notice period.
		if err := services.Notices.SetNoticePeriod(sys, b.ID, 0); err != nil {
			return nil, fmt.Errorf("seed notice period: %w", err)
		}
		if b == s.Building {
			mapleUnits = units
		}
	}
	invite, err := services.Accounts.CreateInvite(sys, s.Building.ID, DemoManagerEmail)
	if err != nil {
		return nil, fmt.Errorf("seed manager: %w", err)
	}
	if s.Manager, err = services.Accounts.AcceptInvite(ctx, invite.Token, "Maria Keller", DemoManagerPassword); err != nil {
		return nil, fmt.Errorf("seed manager: %w", err)
	}
	if err := services.Transparency.SetTransparent(sys, s.Building.ID, true); err != nil {
		return nil, fmt.Errorf("seed transparency: %w", err)
	}
	door, err := services.Buildings.CreateDoor(sys, &doorman.Door{BuildingID: s.Building.ID, Name: "Front door"})
	if err != nil {
		return nil, fmt.Errorf("seed door: %w", err)
	}
	s.Door = &door.Door

	checked := time.Now().UTC().AddDate(1, 0, 0)
	for _, c := range []struct {
		carrier, courierID, courierName string
		allowedAt                       []*doorman.Building
	}{
		{"ParcelPost", "pp-alice", "Alice Martin", []*doorman.Building{s.Building, s.OtherBuilding}},
		{"QuickShip", "qs-bob", "Bob Novak", []*doorman.Building{s.Building, s.OtherBuilding}},
		{"LocalRunners", "lr-carol", "Carol Diaz", []*doorman.Building{s.OtherBuilding}},
	} {
		carrier := &doorman.Carrier{Name: c.carrier}
		if err := services.Carriers.CreateCarrier(sys, carrier); err != nil {
			return nil, fmt.Errorf("seed carrier: %w", err)
		}
		s.Carriers[c.carrier] = carrier
		for _, b := range c.allowedAt {
			if err := services.Buildings.AllowCarrier(sys, b.ID, carrier.ID); err != nil {
				return nil, fmt.Errorf("seed allow carrier: %w", err)
			}
		}
		courier := &doorman.Courier{CarrierID: carrier.ID, ExternalID: c.courierID, Name: c.courierName,
			Status: doorman.CourierActive, BackgroundCheckVerifiedUntil: &checked}
		if _, err := services.Carriers.PutCourier(carrierContext(ctx, carrier.ID), courier); err != nil {
			return nil, fmt.Errorf("seed courier: %w", err)
		}
		s.Couriers[c.courierID] = courier
	}
	// The residents move in after the carriers were allowed, so the demo's
	// couriers are let in without waiting for the outbox to queue notices
	// (residents who move in later are not owed one: doorman.CarrierAllowance).
	for i, name := range []string{"Ana Ruiz", "Ben Okafor", "Chen Wei"} {
		r := &doorman.Resident{BuildingID: s.Building.ID, UnitID: mapleUnits[(i+1)*5%15].ID, Name: name, Email: fmt.Sprintf("resident%d@example.org", i+1)}
		if err := services.Buildings.CreateResident(sys, r); err != nil {
			return nil, fmt.Errorf("seed resident: %w", err)
		}
	}

	s.AllowedParcel, s.OtherBuildingPar, s.NotAllowedCarrier = "PP1000000001", "PP1000000002", "LR5000000001"
	pp := []doorman.ParcelInput{
		{TrackingNumber: s.AllowedParcel, BuildingID: s.Building.ID, UnitLabel: "2B", CourierExternalID: "pp-alice", Status: doorman.ParcelOutForDelivery},
		{TrackingNumber: s.OtherBuildingPar, BuildingID: s.OtherBuilding.ID, UnitLabel: "1A", CourierExternalID: "pp-alice", Status: doorman.ParcelOutForDelivery},
		{TrackingNumber: "PP1000000003", BuildingID: s.Building.ID, UnitLabel: "3C", CourierExternalID: "pp-alice"},
	}
	for i := range parcels {
		pp = append(pp, doorman.ParcelInput{TrackingNumber: fmt.Sprintf("PPB%09d", i), BuildingID: s.Building.ID,
			UnitLabel: "1A", CourierExternalID: "pp-alice", Status: doorman.ParcelOutForDelivery})
	}
	batches := map[string][]doorman.ParcelInput{
		"ParcelPost":   pp,
		"QuickShip":    {{TrackingNumber: "QS7000000001", BuildingID: s.Building.ID, UnitLabel: "4D", CourierExternalID: "qs-bob", Status: doorman.ParcelOutForDelivery}},
		"LocalRunners": {{TrackingNumber: s.NotAllowedCarrier, BuildingID: s.OtherBuilding.ID, UnitLabel: "1C", CourierExternalID: "lr-carol", Status: doorman.ParcelOutForDelivery}},
	}
	for name, items := range batches {
		carrier := s.Carriers[name]
		for len(items) > 0 {
			n := min(len(items), doorman.MaxManifestBatch)
			if _, err := services.Carriers.UploadManifest(carrierContext(ctx, carrier.ID), carrier.ID, items[:n]); err != nil {
				return nil, fmt.Errorf("seed parcels: %w", err)
			}
			items = items[n:]
		}
	}
	return s, nil
}
