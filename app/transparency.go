package app

import (
	"context"
	"sort"

	"github.com/doorman-dev/doorman"
)

// TransparencyStore is what the Transparency service uses of the store.
type TransparencyStore interface {
	scopeStore
	doorman.TransparencyStore
	AllowedCarriers(ctx context.Context, buildingID string) ([]*doorman.Carrier, error)
	ListDoors(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Door, string, error)
	LatestAuditCheckpoint(ctx context.Context, chain string) (*doorman.AuditCheckpoint, error)
}

// Transparency runs the building's public transparency page: its manager
// turns it on or off, and while it is on anyone, without an account, may
// read what PublicBuilding returns and nothing else.
type Transparency struct {
	scope
	store TransparencyStore
	// auditKey is the audit checkpoint key in signed-note form ("" when
	// this node signs no checkpoints).
	auditKey string
}

// NewTransparency returns the Transparency service over store; auditKey is
// the verifier key of the audit checkpoints, shown on the page.
func NewTransparency(store TransparencyStore, auditKey string) *Transparency {
	return &Transparency{scope: scope{store}, store: store, auditKey: auditKey}
}

// SetTransparent turns the building's transparency page on or off
// (operators; managers of the building). Returns ENOTFOUND.
func (s *Transparency) SetTransparent(ctx context.Context, buildingID string, on bool) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return err
	}
	return scoped(s.store.SetBuildingTransparent(ctx, b.ID, on), "Building")
}

// Transparent reports whether the building's transparency page is on
// (operators; managers of the building). Returns ENOTFOUND.
func (s *Transparency) Transparent(ctx context.Context, buildingID string) (bool, error) {
	if _, err := require(ctx, managers); err != nil {
		return false, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return false, err
	}
	on, err := s.store.BuildingTransparent(ctx, b.ID)
	return on, scoped(err, "Building")
}

// PublicBuilding is everything the transparency page shows, and all that
// anyone may read of a building without an account: no courier, resident,
// unit or parcel, and no door's status.
type PublicBuilding struct {
	ID       string
	Name     string
	Address  string
	Timezone string
	// DeliveryHours are the local-time windows couriers may enter in; nil:
	// at any hour.
	DeliveryHours *doorman.WeeklyHours
	// Carriers are the names of the carriers whose couriers may enter,
	// sorted.
	Carriers []string
	// Doors are the names of the doors Doorman may open, sorted.
	Doors []string
	// Checkpoint is the latest signed checkpoint of the building's audit
	// chain; nil until the first is signed.
	Checkpoint *doorman.AuditCheckpoint
	// AuditKey is the key the checkpoint verifies with ("" when this
	// deployment signs none).
	AuditKey string
}

// PublicBuilding returns what the building's transparency page shows, to
// anyone, signed in or not, while the page is on. A building whose page
// is off is answered exactly like one that does not exist: ENOTFOUND.
func (s *Transparency) PublicBuilding(ctx context.Context, buildingID string) (*PublicBuilding, error) {
	if !doorman.HasPrefix(buildingID, doorman.PrefixBuilding) {
		return nil, notFound("Building")
	}
	on, err := s.store.BuildingTransparent(ctx, buildingID)
	if err != nil {
		return nil, scoped(err, "Building")
	} else if !on {
		return nil, notFound("Building")
	}
	b, err := s.store.Building(ctx, buildingID)
	if err != nil {
		return nil, scoped(err, "Building")
	}
	out := &PublicBuilding{ID: b.ID, Name: b.Name, Address: b.Address, Timezone: b.Timezone,
		DeliveryHours: b.DeliveryHours, Carriers: []string{}, Doors: []string{}, AuditKey: s.auditKey}
	carriers, err := s.store.AllowedCarriers(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range carriers {
		out.Carriers = append(out.Carriers, c.Name)
	}
	sort.Strings(out.Carriers)
	for page := (doorman.Page{Limit: doorman.MaxPageLimit}); ; {
		doors, next, err := s.store.ListDoors(ctx, b.ID, page)
		if err != nil {
			return nil, err
		}
		for _, d := range doors {
			out.Doors = append(out.Doors, d.Name)
		}
		if next == "" {
			break
		}
		page.After = next
	}
	sort.Strings(out.Doors)
	cp, err := s.store.LatestAuditCheckpoint(ctx, b.ID)
	switch doorman.ErrorCode(err) {
	case "":
		out.Checkpoint = cp
	case doorman.ENOTFOUND:
	default:
		return nil, err
	}
	return out, nil
}
