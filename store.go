package doorman

import (
	"context"
	"time"
)

// Page asks for one page of a list. After is the cursor a previous page
// returned ("" for the first page); Limit is clamped to 1..MaxPageLimit and
// defaults to DefaultPageLimit. Lists are ordered by ID, which is creation
// order.
type Page struct {
	After string
	Limit int
}

// Page limits.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// Normalize returns the page with Limit clamped.
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultPageLimit
	} else if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	return p
}

// BuildingUpdate changes the fields that are not nil.
type BuildingUpdate struct {
	Name              *string
	Address           *string
	Timezone          *string
	DeliveryHours     **WeeklyHours // a nil *WeeklyHours clears the hours
	MaxDistanceMeters *float64
	// OfflineDeliveryDays, 0 to MaxOfflineDeliveryDays; 0 turns offline
	// delivery off.
	OfflineDeliveryDays *int
}

// DoorUpdate changes the fields that are not nil.
type DoorUpdate struct {
	Name        *string
	PulseMillis *int
	Latitude    **float64
	Longitude   **float64
	LockedDown  *bool
}

// ParcelFilter selects parcels; empty fields match everything.
type ParcelFilter struct {
	CarrierID  string
	BuildingID string
	CourierID  string
	Status     string
}

// AuditFilter selects audit entries; empty fields match everything.
// BuildingIDs, when not nil, limits entries to those buildings (an empty
// non-nil slice matches nothing).
type AuditFilter struct {
	Chain       string
	BuildingIDs []string
	CarrierID   string
	CourierID   string
	DoorID      string
}

// AccessRecord is what RecordAccess commits: the audit entry of a decision
// and, when access was allowed, the grant.
type AccessRecord struct {
	Decision   Decision
	Grant      *Grant // nil when denied
	BuildingID string
	DoorID     string
	CarrierID  string
	CourierID  string
	ParcelIDs  []string
	At         time.Time

	// CourierLimit and DoorLimit, when above zero, are the most access
	// requests of the courier (granted or denied) and grants of the door
	// within RateWindow before At (counted to RateResolution);
	// RecordAccess checks them inside its transaction.
	CourierLimit int
	DoorLimit    int
}

// IdempotentResponse is a stored answer to a carrier POST made with an
// Idempotency-Key, replayed when the same request comes again.
type IdempotentResponse struct {
	RequestHash string
	Status      int
	Body        []byte
	Done        bool
}

// Store is the persistence behind Doorman. It is implemented by the sqlite
// and postgres packages and checked by storetest. Every method returns
// domain error codes only; mutating methods that belong in the audit log
// append their entry in the same transaction, with the actor taken from
// ctx (see NewContextWithPrincipal).
type Store interface {
	BuildingStore
	CarrierStore
	ParcelStore
	AccessStore
	AuditStore
	AuditLogStore
	AuthStore
	ManagerAccountStore
	DeviceStore
	CommandKeyStore
	ThrottleStore
	ProbeStore
	ResidentStore
	OutboxStore
	TransparencyStore
	DeliveryNoteStore
	AlertStore
	WebhookStore
	NoticeStore
	DeliveryPhotoStore
	ReturnStore
	// Close releases the store's resources.
	Close() error
}

// BuildingStore keeps buildings, units, residents, doors and which carriers
// each building allows.
type BuildingStore interface {
	// CreateBuilding sets b.ID and timestamps. Returns EINVALID.
	CreateBuilding(ctx context.Context, b *Building) error
	// Building returns ENOTFOUND if there is no such building.
	Building(ctx context.Context, id string) (*Building, error)
	// ListBuildings lists buildings; ids, when not nil, restricts the list
	// to those buildings. Returns the page and the cursor of the next ("" at
	// the end).
	ListBuildings(ctx context.Context, ids []string, p Page) ([]*Building, string, error)
	// UpdateBuilding returns ENOTFOUND or EINVALID.
	UpdateBuilding(ctx context.Context, id string, upd BuildingUpdate) (*Building, error)

	// CreateUnits creates all units or none. Returns EINVALID or ECONFLICT
	// (a label already used in the building, or twice in units).
	CreateUnits(ctx context.Context, units []*Unit) error
	// Unit returns ENOTFOUND unless the unit exists in the building.
	Unit(ctx context.Context, buildingID, id string) (*Unit, error)
	// ListUnits lists a building's units.
	ListUnits(ctx context.Context, buildingID string, p Page) ([]*Unit, string, error)
	// DeleteUnit returns ENOTFOUND, or ECONFLICT while residents or parcels
	// still refer to the unit.
	DeleteUnit(ctx context.Context, buildingID, id string) error

	// CreateResident returns EINVALID, or ENOTFOUND if the unit is not in
	// the resident's building.
	CreateResident(ctx context.Context, r *Resident) error
	// ListResidents lists a building's residents.
	ListResidents(ctx context.Context, buildingID string, p Page) ([]*Resident, string, error)
	// DeleteResident removes a resident and their data. Returns ENOTFOUND.
	DeleteResident(ctx context.Context, buildingID, id string) error

	// CreateDoor returns EINVALID or ENOTFOUND (no such building).
	CreateDoor(ctx context.Context, d *Door) error
	// Door returns ENOTFOUND.
	Door(ctx context.Context, id string) (*Door, error)
	// ListDoors lists a building's doors.
	ListDoors(ctx context.Context, buildingID string, p Page) ([]*Door, string, error)
	// UpdateDoor returns ENOTFOUND or EINVALID. Setting LockedDown also
	// revokes every unused, unexpired grant of the door.
	UpdateDoor(ctx context.Context, id string, upd DoorUpdate) (*Door, error)

	// AllowCarrier lets a carrier's couriers into a building. Allowing an
	// allowed carrier is not an error. Returns ENOTFOUND.
	AllowCarrier(ctx context.Context, buildingID, carrierID string) error
	// DisallowCarrier returns ENOTFOUND if the carrier was not allowed.
	DisallowCarrier(ctx context.Context, buildingID, carrierID string) error
	// AllowedCarriers lists the carriers a building allows.
	AllowedCarriers(ctx context.Context, buildingID string) ([]*Carrier, error)
	// CarrierBuildings lists the buildings that allow a carrier.
	CarrierBuildings(ctx context.Context, carrierID string, p Page) ([]*Building, string, error)
	// CarrierAllowed reports whether the building allows the carrier.
	CarrierAllowed(ctx context.Context, buildingID, carrierID string) (bool, error)
}

// CarrierStore keeps carriers and their couriers.
type CarrierStore interface {
	// CreateCarrier returns EINVALID or ECONFLICT (name taken).
	CreateCarrier(ctx context.Context, c *Carrier) error
	// Carrier returns ENOTFOUND.
	Carrier(ctx context.Context, id string) (*Carrier, error)
	// ListCarriers lists all carriers.
	ListCarriers(ctx context.Context, p Page) ([]*Carrier, string, error)

	// UpsertCourier creates the courier or updates the one with the same
	// carrier and external ID; it sets c.ID and timestamps and reports
	// whether it created. Returns EINVALID.
	UpsertCourier(ctx context.Context, c *Courier) (created bool, err error)
	// Courier returns ENOTFOUND.
	Courier(ctx context.Context, id string) (*Courier, error)
	// CourierByExternalID returns ENOTFOUND.
	CourierByExternalID(ctx context.Context, carrierID, externalID string) (*Courier, error)
	// ListCouriers lists a carrier's couriers.
	ListCouriers(ctx context.Context, carrierID string, p Page) ([]*Courier, string, error)
}

// ParcelStore keeps parcels.
type ParcelStore interface {
	// UpsertParcels applies a carrier's manifest batch all-or-nothing: if any
	// item is invalid (unknown building, unit or courier, bad status or
	// transition, duplicate tracking number in the batch) nothing is written,
	// the error is EINVALID and the results say which items failed and why,
	// each with its own code (ENOTFOUND, EINVALID or ECONFLICT). An item for
	// a building that does not allow the carrier gets exactly the answer of
	// one for a building that does not exist (ENOTFOUND, the same message),
	// and none of that building's units are checked, so a carrier can
	// neither place parcels in a building that has not allowed it nor learn
	// which buildings or unit labels exist. Returns ETOOLARGE above
	// MaxManifestBatch items and ENOTFOUND for an unknown carrier.
	UpsertParcels(ctx context.Context, carrierID string, items []ParcelInput) ([]ParcelResult, error)
	// Parcel returns ENOTFOUND.
	Parcel(ctx context.Context, id string) (*Parcel, error)
	// ParcelByTracking returns the carrier's parcel, or ENOTFOUND.
	ParcelByTracking(ctx context.Context, carrierID, tracking string) (*Parcel, error)
	// ParcelsByTracking returns every parcel of any carrier with one of the
	// tracking numbers (several carriers may use the same number).
	ParcelsByTracking(ctx context.Context, tracking []string) ([]*Parcel, error)
	// ListParcels lists parcels matching f.
	ListParcels(ctx context.Context, f ParcelFilter, p Page) ([]*Parcel, string, error)
	// SetParcelStatus moves a carrier's parcel to status, checking the
	// transition, and optionally (re)assigns its courier (courierID "" keeps
	// the current one). Marking delivered appends an audit entry. Returns
	// ENOTFOUND, EINVALID or ECONFLICT.
	SetParcelStatus(ctx context.Context, carrierID, tracking, status, courierID string) (*Parcel, error)
}

// AccessStore keeps grants and what the access decision needs to count.
type AccessStore interface {
	// RecordAccess commits rec.Grant (if any) and the decision's audit
	// entry in one durable transaction (concurrent calls share commits)
	// and returns the entry. It is the authority on lockdown and rate
	// limits: when rec's limits are reached nothing is written and the
	// error is ECONFLICT with reason rate_limited and a RetryAfter; when
	// the grant's door was locked down meanwhile the grant is not written
	// and the returned entry is the denial door_locked_down.
	RecordAccess(ctx context.Context, rec *AccessRecord) (*AuditEntry, error)
	// Grant returns ENOTFOUND.
	Grant(ctx context.Context, id string) (*Grant, error)
	// MarkGrantUsed records that the door executed the grant at the given
	// time; a grant a lockdown revoked after that time is marked used (and
	// no longer revoked). Returns ENOTFOUND, or ECONFLICT if it was already
	// used, revoked before that time, or expired.
	MarkGrantUsed(ctx context.Context, id string, at time.Time) error
	// MarkGrantAcked is MarkGrantUsed for the door's acknowledgement of
	// the command that carried the grant: the grant.used entry it chains
	// also stands for the door's unlock_executed event of the grant, when
	// that event comes (see DeviceStore.RecordDeviceEvent), which is then
	// kept beside it instead of being chained again.
	MarkGrantAcked(ctx context.Context, id string, at time.Time) error
}

// AuditStore reads and verifies the audit log. Entries are appended by the
// mutating methods of the other stores and by AppendAudit.
type AuditStore interface {
	// AppendAudit appends e to its chain, setting ID, Seq, PrevHash and Hash.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit lists entries matching f, newest first.
	ListAudit(ctx context.Context, f AuditFilter, p Page) ([]*AuditEntry, string, error)
	// VerifyAudit checks every chain and returns the first break of each
	// broken chain (none when the log is intact).
	VerifyAudit(ctx context.Context) ([]ChainBreak, error)
}

// AuthStore keeps credentials, managers and invitations.
type AuthStore interface {
	// CreateCredential stores c (with its TokenHash). Returns EINVALID.
	CreateCredential(ctx context.Context, c *Credential) error
	// CredentialByTokenHash returns ENOTFOUND, also for revoked or expired
	// credentials.
	CredentialByTokenHash(ctx context.Context, hash string, now time.Time) (*Credential, error)
	// ListCredentials lists credentials of a role and subject.
	ListCredentials(ctx context.Context, role, subjectID string, p Page) ([]*Credential, string, error)
	// RevokeCredential returns ENOTFOUND unless a credential with that ID,
	// role and subject exists. Revoking twice is not an error.
	RevokeCredential(ctx context.Context, role, subjectID, id string) error
	// CountCredentials counts active credentials of a role.
	CountCredentials(ctx context.Context, role string) (int, error)

	// CreateInvite stores an invitation. Returns ENOTFOUND (building).
	CreateInvite(ctx context.Context, inv *ManagerInvite) error
	// AcceptInvite consumes the invitation with that token hash, once, and
	// creates the manager (or, if a manager with the invite's email exists
	// and passwordHash is "", attaches them) and adds them to the building.
	// Returns ENOTFOUND for an unknown, used or expired invitation and
	// ECONFLICT when the email has an account but passwordHash is given.
	AcceptInvite(ctx context.Context, tokenHash, name, passwordHash string, now time.Time) (*Manager, error)
	// ManagerByEmail returns ENOTFOUND.
	ManagerByEmail(ctx context.Context, email string) (*Manager, error)
	// SetManagerPasswordHash replaces a manager's password hash (a rehash
	// at sign-in when the cost parameters changed). Returns ENOTFOUND or
	// EINVALID.
	SetManagerPasswordHash(ctx context.Context, managerID, passwordHash string) error
	// ManagerBuildingIDs lists the buildings a manager manages.
	ManagerBuildingIDs(ctx context.Context, managerID string) ([]string, error)

	// BeginIdempotent claims key for scope with requestHash. If the key was
	// used before it returns the stored response (Done false while the first
	// request is still running). Returns EPRECONDITION if the key was used
	// with another request.
	BeginIdempotent(ctx context.Context, scope, key, requestHash string) (*IdempotentResponse, error)
	// FinishIdempotent stores the response for a claimed key; a status of 0
	// releases the claim (the request failed before producing an answer).
	FinishIdempotent(ctx context.Context, scope, key string, status int, body []byte) error
}

// CommandKeyStore records which command signing keys the deployment signs
// unlock commands with, by key ID (the PASERK "k4.pid.…" of the public
// key). Devices pin the keys they are given at enrollment, so every
// control-plane node must sign with a registered key; a node that created
// a key of its own would have every command refused by the doors. Keys are
// listed oldest first. The first key is registered by the first node to
// start; rotation adds keys beside it (AddCommandKey), activates them and
// retires or revokes old ones.
type CommandKeyStore interface {
	// InitCommandKey registers kid as the deployment's command key if no
	// key is registered yet, and returns the registered keys. Of several
	// nodes starting at once on an empty store, exactly one registers its
	// key; the others get the winner's. Returns EINVALID for a malformed
	// key ID.
	InitCommandKey(ctx context.Context, kid string) ([]string, error)
	// CommandKeys lists the registered key IDs (none before the first
	// InitCommandKey).
	CommandKeys(ctx context.Context) ([]string, error)

	// CommandKeySet returns every registered key, oldest first, with the
	// set's sequence number (key rotation; see CommandKeySet.Status).
	CommandKeySet(ctx context.Context) (*CommandKeySet, error)
	// SetCommandKeyPublic records the public key of a registered key that
	// has none yet (one registered before rotation existed); it changes
	// nothing when one is recorded already. Returns ENOTFOUND for an
	// unknown key, EINVALID for a malformed one.
	SetCommandKeyPublic(ctx context.Context, kid, publicKey string) error
	// AddCommandKey registers k (its ID, public key and ActivatesAt) as
	// the next key, sets RetiresAt of the key active at now to retireAt,
	// and moves the sequence on. Returns ECONFLICT when k's ID is
	// registered already or another key waits to activate (activate or
	// revoke it first), EINVALID for a malformed key or an activation
	// before now.
	AddCommandKey(ctx context.Context, k *CommandKey, now, retireAt time.Time) (*CommandKeySet, error)
	// ActivateCommandKey makes the next key kid active at now and sets
	// RetiresAt of the key active before it to retireAt, moving the
	// sequence on. Returns ENOTFOUND for an unknown key, ECONFLICT for a
	// key that is not next.
	ActivateCommandKey(ctx context.Context, kid string, now, retireAt time.Time) (*CommandKeySet, error)
	// RevokeCommandKey revokes kid at now, moving the sequence on.
	// Revoking a revoked key changes nothing. Returns ENOTFOUND for an
	// unknown key.
	RevokeCommandKey(ctx context.Context, kid string, now time.Time) (*CommandKeySet, error)
}

// ThrottleStore counts failed attempts (wrong passwords, wrong enrollment
// codes) per key, in the store, so that every control-plane node sees the
// same counts. A key's window starts at its first failure and lasts the
// window given then; once it has passed, the key counts from zero again.
// Keys are often personal data (email addresses, client addresses), so
// the store keeps only a SHA-256 of each key, and deletes expired counts
// as it counts new failures. Window ends come back in UTC, to the
// microsecond.
type ThrottleStore interface {
	// Throttle returns the failures counted for key in its current window
	// and when that window ends: zero failures and a zero time when there
	// is none, or when it ended at or before now. Returns EINVALID for an
	// empty key.
	Throttle(ctx context.Context, key string, now time.Time) (failures int, until time.Time, err error)
	// ThrottleFail counts one failure for key at now, starting a window of
	// length window if none is current, and returns the count and the end
	// of the window after it. Concurrent calls, from one node or several,
	// are all counted. Returns EINVALID for an empty key or a window
	// shorter than a microsecond (the precision of stored times).
	ThrottleFail(ctx context.Context, key string, now time.Time, window time.Duration) (failures int, until time.Time, err error)
	// ThrottleReset forgets key. Forgetting an unknown key is not an
	// error. Returns EINVALID for an empty key.
	ThrottleReset(ctx context.Context, key string) error
}

// ProbeStore tells whether the store can commit, for readiness checks.
type ProbeStore interface {
	// ProbeWrite durably commits one write, as RecordAccess commits a
	// grant, to a table of one row (it leaves nothing else behind). It
	// fails when a grant could not be committed: a full disk, a read-only
	// or lost database. Returns EUNAVAILABLE or EINTERNAL.
	ProbeWrite(ctx context.Context) error
}
