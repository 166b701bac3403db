package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// ResidentHome is what a resident's page shows: their unit's deliveries,
// the entries at their building (carrier and time, never the courier),
// what the building allows, and their preferences.
type ResidentHome struct {
	Name        string
	Email       string
	Building    *doorman.Building
	UnitLabel   string
	Deliveries  []ResidentDelivery
	Entries     []ResidentEntry
	Carriers    []string
	Doors       []string
	Hours       []DayHours // nil: deliveries at any hour
	Preferences doorman.ResidentPreferences
	// Checkpoint is the building chain's latest signed checkpoint (nil
	// before the first one), against which entries' proofs are checked.
	Checkpoint *doorman.AuditCheckpoint
}

// ResidentDelivery is a parcel addressed to the resident's unit.
type ResidentDelivery struct {
	// ParcelID names the parcel, for its photo.
	ParcelID       string
	TrackingNumber string
	Carrier        string
	Status         string
	DeliveredAt    *time.Time
	UpdatedAt      time.Time
	// Photo says the courier took a photo of where the parcel was left.
	Photo bool
}

// ResidentEntry is an entry at the resident's building as a resident sees
// it: what happened, when, at which door, and the carrier, never the
// courier's identity.
type ResidentEntry struct {
	// ID is the audit entry's ID, for its inclusion proof.
	ID      string
	At      time.Time
	What    string
	Carrier string
	Door    string
	// ProofReady says the latest checkpoint covers the entry, so its
	// inclusion proof can be had now.
	ProofReady bool
}

// DayHours are one weekday's delivery windows, written out.
type DayHours struct {
	Day     string
	Windows string
}

// residentEntryActions are the audit actions a resident is shown as
// entries, with how each is told.
var residentEntryActions = map[string]string{
	doorman.ActionAccessGranted:                          "A courier was let in",
	doorman.DeviceEventAction(doorman.EventDoorOpened):   "The door was opened",
	doorman.DeviceEventAction(doorman.EventDoorForced):   "The door was forced open",
	doorman.DeviceEventAction(doorman.EventDoorHeldOpen): "The door was held open",
}

// Page sizes of the resident's page.
const (
	residentDeliveries = 20
	residentEntries    = 30
)

// Home returns the calling resident's page.
func (s *Residents) Home(ctx context.Context) (*ResidentHome, error) {
	r, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.store.Building(ctx, r.BuildingID)
	if err != nil {
		return nil, err
	}
	h := &ResidentHome{Name: r.Name, Email: r.Email, Building: b, Hours: weekHours(b.DeliveryHours)}
	if u, err := s.store.Unit(ctx, b.ID, r.UnitID); err != nil {
		return nil, err
	} else {
		h.UnitLabel = u.Label
	}
	if h.Preferences, err = s.store.ResidentPreferences(ctx, r.ID); err != nil {
		return nil, err
	}
	carriers, err := s.store.AllowedCarriers(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, c := range carriers {
		names[c.ID] = c.Name
		h.Carriers = append(h.Carriers, c.Name)
	}
	carrierName := func(id string) string {
		if id == "" {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		n := "a carrier"
		if c, err := s.store.Carrier(ctx, id); err == nil {
			n = c.Name
		}
		names[id] = n
		return n
	}
	doors, _, err := s.store.ListDoors(ctx, b.ID, doorman.Page{Limit: 100})
	if err != nil {
		return nil, err
	}
	doorNames := map[string]string{}
	for _, d := range doors {
		doorNames[d.ID] = d.Name
		h.Doors = append(h.Doors, d.Name)
	}

	parcels, err := s.store.UnitParcels(ctx, b.ID, r.UnitID, residentDeliveries)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(parcels))
	for i, p := range parcels {
		ids[i] = p.ID
	}
	photos, err := s.store.DeliveryPhotoParcels(ctx, b.ID, ids)
	if err != nil {
		return nil, err
	}
	for _, p := range parcels {
		h.Deliveries = append(h.Deliveries, ResidentDelivery{ParcelID: p.ID, TrackingNumber: p.TrackingNumber, Carrier: carrierName(p.CarrierID),
			Status: p.Status, DeliveredAt: p.DeliveredAt, UpdatedAt: p.UpdatedAt, Photo: photos[p.ID]})
	}

	cp, err := s.store.LatestAuditCheckpoint(ctx, b.ID)
	if err != nil && doorman.ErrorCode(err) != doorman.ENOTFOUND {
		return nil, err
	}
	h.Checkpoint = cp
	actions := make([]string, 0, len(residentEntryActions))
	for a := range residentEntryActions {
		actions = append(actions, a)
	}
	entries, err := s.store.BuildingEntries(ctx, b.ID, actions, residentEntries)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		h.Entries = append(h.Entries, residentEntry(e, carrierName(e.CarrierID), doorNames[e.DoorID], cp))
	}
	return h, nil
}

// residentEntry is e as a resident sees it. It is built field by field
// from what a resident may learn, so nothing else of the entry (the
// courier, the parcels, the actor) can reach a page.
func residentEntry(e *doorman.AuditEntry, carrier, door string, cp *doorman.AuditCheckpoint) ResidentEntry {
	what := residentEntryActions[e.Action]
	if e.Count > 1 {
		what += fmt.Sprintf(" (%d times)", e.Count)
	}
	return ResidentEntry{ID: e.ID, At: e.At, What: what, Carrier: carrier, Door: door,
		ProofReady: cp != nil && e.Seq <= cp.Size}
}

// weekHours writes delivery hours out per weekday, Monday first.
func weekHours(w *doorman.WeeklyHours) []DayHours {
	if w == nil {
		return nil
	}
	days := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	out := make([]DayHours, 0, len(days))
	for _, d := range days {
		var parts []string
		for _, win := range w.Day(d) {
			parts = append(parts, win.Start+"–"+win.End)
		}
		text := "No deliveries"
		if len(parts) > 0 {
			text = strings.Join(parts, ", ")
		}
		out = append(out, DayHours{Day: d.String(), Windows: text})
	}
	return out
}

// DeliveryPhoto returns the photo taken when a parcel for the calling
// resident's unit was delivered. Returns ENOTFOUND for a parcel of
// another unit or building, or one without a photo, alike.
func (s *Residents) DeliveryPhoto(ctx context.Context, parcelID string) (*doorman.DeliveryPhoto, error) {
	r, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	ph, err := s.store.DeliveryPhoto(ctx, parcelID)
	if err != nil {
		return nil, scoped(err, "Photo")
	} else if ph.BuildingID != r.BuildingID || ph.UnitID != r.UnitID {
		return nil, notFound("Photo")
	}
	return ph, nil
}
