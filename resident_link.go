package doorman

import (
	"context"
	"time"
)

// ID prefixes of the resident's sign-in links and of queued mail.
const (
	PrefixResidentLink = "rlk"
	PrefixMail         = "mal"
)

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

// Mail statuses: mail is queued in the outbox until a sender takes it.
const (
	MailQueued = "queued"
	MailSent   = "sent"
	MailFailed = "failed"
)

// Mail is one message of the outbox, kept as a log per building: until
// Doorman sends mail itself, the console shows it.
type Mail struct {
	ID         string
	BuildingID string
	// ResidentID is the resident it is addressed to, if any: deleting
	// the resident deletes their mail.
	ResidentID string
	To         string
	Subject    string
	Body       string
	Status     string
	CreatedAt  time.Time
	SentAt     *time.Time
}

// ResidentStore keeps what residents sign in with and see: their magic
// links, preferences, the outbox, their unit's parcels and their
// building's entries.
type ResidentStore interface {
	// Resident returns ENOTFOUND.
	Resident(ctx context.Context, id string) (*Resident, error)
	// ResidentsByEmail returns the residents with that email (compared
	// without regard to case), in every building; none is not an error.
	ResidentsByEmail(ctx context.Context, email string) ([]*Resident, error)
	// CreateResidentLink stores l (with its TokenHash, setting ID) and
	// queues m, the mail carrying it, in one transaction. Returns
	// ENOTFOUND (resident) or EINVALID.
	CreateResidentLink(ctx context.Context, l *ResidentLink, m *Mail) error
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
	// QueueMail adds m to the outbox, setting ID, Status (queued) and
	// CreatedAt. Returns EINVALID.
	QueueMail(ctx context.Context, m *Mail) error
	// ListMail lists a building's mail, newest first.
	ListMail(ctx context.Context, buildingID string, p Page) ([]*Mail, string, error)
	// QueuedMail lists the oldest queued mail of every building, at most
	// limit: what a sender takes next.
	QueuedMail(ctx context.Context, limit int) ([]*Mail, error)
	// EraseResident deletes the resident with their links, preferences
	// and mail, revokes their sessions, and appends an entry
	// ActionResidentDataDeleted naming the resident by ID, in one
	// transaction. Returns ENOTFOUND.
	EraseResident(ctx context.Context, buildingID, residentID string) error
}
