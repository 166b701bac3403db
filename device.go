package doorman

import (
	"context"
	"time"
)

// Device is the agent on a small board wired to one door's strike relay.
// Its identity is a key pair generated on the device at enrollment; only the
// public key is known here.
type Device struct {
	ID         string `json:"id"`
	DoorID     string `json:"door_id"`
	BuildingID string `json:"building_id"`
	// PublicKey is the device's NATS user public NKey ("U…").
	PublicKey  string     `json:"public_key"`
	EnrolledAt time.Time  `json:"enrolled_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Enrollment is a one-time code a manager creates so that a device can
// register itself for a door. Only the code's hash is stored.
type Enrollment struct {
	ID         string     `json:"id"`
	DoorID     string     `json:"door_id"`
	BuildingID string     `json:"building_id"`
	CodeHash   string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UsedAt     *time.Time `json:"used_at,omitempty"`
}

// ActionDeviceDuplicateConnection is the audit action of a device whose bus
// credentials were in use on more than one connection at once; the detail
// names the device and the connections.
const ActionDeviceDuplicateConnection = "device.duplicate_connection"

// EnrollmentTTL is how long an enrollment code may be used.
const EnrollmentTTL = 15 * time.Minute

// Device event kinds, as reported by agents.
const (
	EventDoorOpened      = "door_opened"
	EventDoorClosed      = "door_closed"
	EventDoorHeldOpen    = "door_held_open"
	EventDoorForced      = "door_forced"
	EventUnlockExecuted  = "unlock_executed"
	EventCommandRejected = "command_rejected"
	EventTamper          = "tamper"
	EventHeartbeat       = "heartbeat"
)

// ValidDeviceEventKind reports whether kind is one of the event kinds above.
func ValidDeviceEventKind(kind string) bool {
	switch kind {
	case EventDoorOpened, EventDoorClosed, EventDoorHeldOpen, EventDoorForced,
		EventUnlockExecuted, EventCommandRejected, EventTamper, EventHeartbeat:
		return true
	}
	return false
}

// DeviceEventAction returns the audit action of a device event of the
// given kind: ActionDeviceEventPrefix + kind.
func DeviceEventAction(kind string) string { return ActionDeviceEventPrefix + kind }

// How much of a device's word the store takes when it records an event.
const (
	// DeviceEventMaxSkew is how far ahead of its receipt a device may
	// date an event. Agents correct their clocks against the control
	// plane's signed time, so their events are behind their receipt by
	// the network's delay; a minute covers drift between two syncs.
	DeviceEventMaxSkew = time.Minute
	// DeviceEventMaxAge is how long before its receipt a device may date
	// an event. The agent queues events on disk through an outage and
	// keeps the oldest when its queue is full (10,000 events, about a
	// week of heartbeats), and the bus keeps undelivered events for 30
	// days; so an event up to 30 days old may be one a device is only
	// now able to deliver.
	DeviceEventMaxAge = 30 * 24 * time.Hour
	// DeviceEventWindow and DeviceEventBurst are a device's event rate
	// limit: of each kind of event, the first DeviceEventBurst a device
	// reports within DeviceEventWindow of the first are chained one by
	// one; further ones within the window are kept and counted, and the
	// count is chained once, in an entry of its own, after the window.
	DeviceEventWindow = time.Minute
	DeviceEventBurst  = 3
	// DeviceEventRetention is how long the store keeps an event it has
	// chained (or counted into a chained entry) after recording it, to
	// know it again if it is delivered again. It is three times
	// DeviceEventMaxAge, the oldest event a device may still be
	// delivering: an event is delivered again only when its first
	// delivery was not acknowledged, which happens within that time.
	// The audit entry stays: it is the record; the kept row is only the
	// key that makes recording idempotent.
	DeviceEventRetention = 3 * DeviceEventMaxAge
	// OfflineActivityLag is how long after it happened an event must have
	// reached the control plane to count as offline activity: events of a
	// connected device arrive within a second or so, and its heartbeat
	// every minute shows the link is up.
	OfflineActivityLag = time.Minute
)

// DeviceEvent is something a device reported. ID is the device's own unique
// event ID, which makes recording it idempotent. DeviceID is the device
// that sent it, as the bus authenticated it; At is the device's own time.
type DeviceEvent struct {
	ID       string    `json:"id"`
	DeviceID string    `json:"device_id"`
	DoorID   string    `json:"door_id"`
	Kind     string    `json:"kind"`
	At       time.Time `json:"at"`
	GrantID  string    `json:"grant_id,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	// Offline marks an unlock_executed or command_rejected event of an
	// offline grant the door's reader was shown (not a command from the
	// bus); JTI is then the offline grant token's ID (ogt_…), and
	// CourierID and ParcelsDigest are the courier and the parcels digest
	// (wire.ParcelsDigest) the token carried, which the control plane
	// checks against the grant it issued.
	Offline       bool   `json:"offline,omitempty"`
	JTI           string `json:"jti,omitempty"`
	CourierID     string `json:"courier_id,omitempty"`
	ParcelsDigest string `json:"parcels_digest,omitempty"`
	// ClockSynced is a heartbeat's report that the device has synced its
	// clock since it started (see Door.ClockSynced).
	ClockSynced bool `json:"clock_synced,omitempty"`
	// StorageFault is a heartbeat's report that the device could not write
	// its records (see Door.StorageFault).
	StorageFault bool `json:"storage_fault,omitempty"`
	// ClockSyncedAt and OfflineUntil are a heartbeat's report of the
	// device's last signed time sync and of the end of the offline window
	// it gave (see Door.ClockSyncedAt); zero when it has none.
	ClockSyncedAt time.Time `json:"clock_synced_at,omitzero"`
	OfflineUntil  time.Time `json:"offline_until,omitzero"`
	// RecordedAt is when the store recorded the event (listings only).
	RecordedAt time.Time `json:"recorded_at,omitzero"`
	// AuditWitness says, in a heartbeat, that the device witnesses its
	// building's audit chain, and AuditSize and AuditRoot are the size and
	// root hash of the checkpoint of it the device keeps (see
	// AuditWitness; 0 and nil before its first).
	AuditWitness bool   `json:"audit_witness,omitempty"`
	AuditSize    int64  `json:"audit_size,omitempty"`
	AuditRoot    []byte `json:"audit_root,omitempty"`
}

// DeviceStore keeps devices and their enrollments.
type DeviceStore interface {
	// CreateEnrollment stores e, taking its building from the door.
	// Returns EINVALID, ENOTFOUND (door, or a door of another building
	// than e.BuildingID when set) or ECONFLICT (code hash in use).
	CreateEnrollment(ctx context.Context, e *Enrollment) error
	// EnrollDevice consumes the enrollment with that code hash, once, and
	// registers d for its door, revoking the door's previous devices. It
	// fills d's ID, door, building and EnrolledAt and returns the revoked
	// devices. Returns ENOTFOUND for an unknown, used or expired code.
	EnrollDevice(ctx context.Context, codeHash string, d *Device, now time.Time) (revoked []*Device, err error)
	// Device returns ENOTFOUND.
	Device(ctx context.Context, id string) (*Device, error)
	// ActiveDevice returns the door's active device (enrolled, not
	// revoked; a door has at most one), whose key must sign the door's
	// acknowledgements. Returns ENOTFOUND when the door has none.
	ActiveDevice(ctx context.Context, doorID string) (*Device, error)
	// ListDevices lists a building's devices, revoked ones included.
	ListDevices(ctx context.Context, buildingID string, p Page) ([]*Device, string, error)
	// RevokeDevice returns ENOTFOUND unless the device is in the building.
	// Revoking twice is not an error.
	RevokeDevice(ctx context.Context, buildingID, id string, now time.Time) (*Device, error)
	// RecordDeviceEvent records a device's event once: a second call with
	// the same event ID does nothing and reports false. It appends the
	// event to the building's audit chain, as e.DeviceID's, and updates
	// the door's last-seen time, in one transaction. Beyond
	// DeviceEventBurst events of one kind from one device within
	// DeviceEventWindow, an event is kept and counted instead of chained,
	// and the count is chained in one entry (AuditEntry.Count) after the
	// window, by the next event of the building; either way it reports
	// true. An unlock_executed event of a command from the bus (not
	// Offline) for a grant of its door is the grant's use: it is chained
	// once, as ActionGrantUsed, by the door's acknowledgement
	// (MarkGrantUsed) or by the event, whichever comes first, and the
	// event is kept beside that entry; a second report of the grant, or
	// one of a grant that could not be marked used (revoked before,
	// expired), is chained as itself. A time more than DeviceEventMaxSkew ahead of receipt or more
	// than DeviceEventMaxAge behind is replaced by the time of receipt,
	// the claim kept in AuditEntry.ClaimedAt, and the revocation rule
	// below judges that time. A heartbeat only
	// moves the last-seen time on: it is neither kept nor audited, and
	// reports true. e.DeviceID names the device that sent the event (the
	// bus knows it from the event's subject) and is required. An event of
	// the door's active device is recorded; one of a device revoked since
	// is recorded too, as that device's and without moving the last-seen
	// time, if the device dates it before the revocation (a heartbeat of
	// it changes nothing and reports false), and refused otherwise.
	// Returns EINVALID, ENOTFOUND (door or device), or EFORBIDDEN if the
	// device is bound to another door or was revoked at or before the
	// event's time.
	RecordDeviceEvent(ctx context.Context, e *DeviceEvent) (recorded bool, err error)
	// OfflineActivity lists what a door's devices did while the door's
	// link was down: its kept events that reached the store at least
	// OfflineActivityLag after they happened (held in the device's queue
	// until the link returned) and every event of its reader (offline
	// grants shown to it), newest first; the cursor continues with
	// older ones. Heartbeats are not kept, so never listed. Returns
	// EINVALID for a cursor it did not hand out.
	OfflineActivity(ctx context.Context, doorID string, p Page) ([]*DeviceEvent, string, error)
	// ChainEventCounts appends, in each building's chain, the counts of
	// its device event windows that have closed (one entry each), as the
	// building's next event would, for buildings that have gone silent
	// since a flood. Returns how many counts it chained.
	ChainEventCounts(ctx context.Context) (int, error)
	// PruneDeviceEvents forgets up to limit events recorded before
	// before whose audit entry is written (chained, or counted into a
	// chained entry); events still being counted are kept whatever their
	// age. Returns how many it forgot.
	PruneDeviceEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// DoorOnlineWindow is how recently a door's device must have reported for
// the door to count as online. Agents send a heartbeat every minute, so a
// door stays online through one lost heartbeat.
const DoorOnlineWindow = 150 * time.Second

// Online reports whether the door's device reported within
// DoorOnlineWindow before now. It is computed, never stored.
func (d *Door) Online(now time.Time) bool {
	return d.LastSeenAt != nil && now.Sub(*d.LastSeenAt) < DoorOnlineWindow
}
