package doorman

import (
	"context"
	"time"
)

// PrefixResidentLink is the ID prefix of the resident's sign-in links.
const PrefixResidentLink = "rlk"

// Token prefixes of a resident's magic link and of the session it is
// exchanged for.
const (
	TokenResidentLink = "dml_"
	TokenResident     = "dmr_"
)

// Lifetimes of a resident's magic link and session.
const (
	ResidentLinkTTL    = 15 * time.Minute
	ResidentSessionTTL = 4 * time.Hour
)

// ActionResidentDataDeleted records that a resident deleted their own
// data. The entry names the resident by ID only: the record it names is
// gone, so the log keeps no personal data of them.
const ActionResidentDataDeleted = "resident.data_deleted"

// ResidentLink is a magic link that signs a resident in: single use,
// short-lived, bound to one resident. Only the SHA-256 of its token is
// stored.
type ResidentLink struct {
	ID         string
	ResidentID string
	TokenHash  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// ResidentPreferences are what a resident wants to be told about.
type ResidentPreferences struct {
	// NotifyDelivery: mail me when a parcel for my unit is delivered.
	NotifyDelivery bool
	// NotifyEntry: mail me when a courier enters my building.
	NotifyEntry bool
}

// ResidentStore keeps what residents sign in with and see: their magic
// links, preferences, their unit's parcels and their
// building's entries.
type ResidentStore interface {
	// Resident returns ENOTFOUND.
	Resident(ctx context.Context, id string) (*Resident, error)
	// ResidentsByEmail returns the residents with that email (compared
	// without regard to case), in every building; none is not an error.
	ResidentsByEmail(ctx context.Context, email string) ([]*Resident, error)
	// CreateResidentLink stores l (with its TokenHash, setting ID) and
	// queues m, the direct message carrying it (as EnqueueMessage), in
	// one transaction. Returns ENOTFOUND (resident) or EINVALID.
	CreateResidentLink(ctx context.Context, l *ResidentLink, m *Message) error
	// UseResidentLink marks the link with that token hash used at now and
	// returns it; a link is used once. Returns ENOTFOUND for an unknown,
	// used or expired link.
	UseResidentLink(ctx context.Context, tokenHash string, now time.Time) (*ResidentLink, error)
	// ResidentPreferences returns ENOTFOUND.
	ResidentPreferences(ctx context.Context, residentID string) (ResidentPreferences, error)
	// SetResidentPreferences returns ENOTFOUND.
	SetResidentPreferences(ctx context.Context, residentID string, p ResidentPreferences) error
	// UnitParcels lists the newest parcels addressed to a unit of the
	// building, at most limit.
	UnitParcels(ctx context.Context, buildingID, unitID string, limit int) ([]*Parcel, error)
	// BuildingEntries lists the newest audit entries of the building's
	// chain whose action is one of actions, at most limit.
	BuildingEntries(ctx context.Context, buildingID string, actions []string, limit int) ([]*AuditEntry, error)
	// EraseResident deletes the resident with their links, preferences
	// and messages, revokes their sessions, and appends an entry
	// ActionResidentDataDeleted naming the resident by ID, in one
	// transaction. Returns ENOTFOUND.
	EraseResident(ctx context.Context, buildingID, residentID string) error
}
