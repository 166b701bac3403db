package wire

import (
	"slices"
	"time"

	"github.com/doorman-dev/doorman"
)

// Ack is a device's answer to an unlock command. A device answers every
// command it can parse enough to reply to: with ExecutedAt when it pulsed
// the relay, or with Rejected (a Reject* reason) when it refused. JTI names
// the command answered (a rejection of a command whose token ID could not
// be read has none), and Sig is the device's signature (see Ack.Sign): the
// control plane believes only a signed ack naming the command it sent.
type Ack struct {
	GrantID    string    `json:"grant_id,omitempty"`
	JTI        string    `json:"jti,omitempty"`
	ExecutedAt time.Time `json:"executed_at,omitzero"`
	Rejected   string    `json:"rejected,omitempty"`
	Sig        string    `json:"sig,omitempty"`
}

// Executed reports whether the device pulsed the relay.
func (a *Ack) Executed() bool { return a.Rejected == "" && !a.ExecutedAt.IsZero() }

// Validate returns EINVALID unless the ack is either an execution with its
// grant and token IDs or a rejection with a known reason.
func (a *Ack) Validate() error {
	switch {
	case a.Rejected != "" && !validRejection(a.Rejected):
		return doorman.Errorf(doorman.EINVALID, "Unknown rejection reason.")
	case a.Rejected != "" && !a.ExecutedAt.IsZero():
		return doorman.Errorf(doorman.EINVALID, "An ack cannot be both executed and rejected.")
	case a.Rejected == "" && (a.ExecutedAt.IsZero() || a.GrantID == "" || a.JTI == ""):
		return doorman.Errorf(doorman.EINVALID, "An executed ack needs grant ID, token ID and time.")
	case len(a.GrantID) > 64 || len(a.JTI) > 64:
		return doorman.Errorf(doorman.EINVALID, "Ack IDs are too long.")
	case len(a.Sig) > maxSigLength:
		return doorman.Errorf(doorman.EINVALID, "Ack signature is too long.")
	}
	return nil
}

func validRejection(r string) bool {
	return slices.Contains(Rejections, r)
}

// Event kinds a device reports, as the domain names them. Each is also the
// last token of the event's subject.
const (
	EventDoorOpened      = doorman.EventDoorOpened      // the door opened after an unlock
	EventDoorClosed      = doorman.EventDoorClosed      // the door closed
	EventDoorHeldOpen    = doorman.EventDoorHeldOpen    // the door stayed open too long
	EventDoorForced      = doorman.EventDoorForced      // the door opened without an unlock
	EventUnlockExecuted  = doorman.EventUnlockExecuted  // the relay was pulsed for a grant
	EventCommandRejected = doorman.EventCommandRejected // a command was refused (security event)
	EventTamper          = doorman.EventTamper          // the device detected tampering
	EventHeartbeat       = doorman.EventHeartbeat       // the device is alive
)

// EventKinds lists every event kind; the control plane allows each device
// to publish on exactly these subjects. It must list every kind
// doorman.ValidDeviceEventKind accepts.
var EventKinds = []string{
	EventDoorOpened, EventDoorClosed, EventDoorHeldOpen, EventDoorForced,
	EventUnlockExecuted, EventCommandRejected, EventTamper, EventHeartbeat,
}

// ValidEventKind reports whether kind is a known event kind.
func ValidEventKind(kind string) bool { return doorman.ValidDeviceEventKind(kind) }

// PrefixEvent prefixes event IDs.
const PrefixEvent = "evt"

// NewEventID returns a new unguessable, time-ordered event ID. The control
// plane records an event once by its ID, so a device that sends an event
// twice (say, after losing the first receipt) is recorded once.
func NewEventID() string { return doorman.NewID(PrefixEvent) }

// Event is something a device reports. The door is named by the subject the
// event arrives on, which the device's credentials pin; DoorID repeats it
// and a mismatch marks a forged event.
type Event struct {
	ID     string    `json:"id"`
	Kind   string    `json:"kind"`
	DoorID string    `json:"door_id"`
	At     time.Time `json:"at"` // device time, corrected by the time service
	// GrantID and JTI name the command of unlock_executed and
	// command_rejected events.
	GrantID string `json:"grant_id,omitempty"`
	JTI     string `json:"jti,omitempty"`
	// Reason is the Reject* reason of a command_rejected event.
	Reason string `json:"reason,omitempty"`
	// Offline marks an unlock_executed or command_rejected event of the
	// door's reader: an offline grant (JTI its token ID) rather than a
	// command from the bus. CourierID and Parcels repeat the grant's
	// courier and parcels digest (wire.ParcelsDigest), which the control
	// plane checks against the grant it issued.
	Offline   bool   `json:"offline,omitempty"`
	CourierID string `json:"courier_id,omitempty"`
	Parcels   string `json:"parcels,omitempty"`
	// Detail is free text for people, at most MaxDetailLength bytes.
	Detail string `json:"detail,omitempty"`
	// Dropped counts events the device had to drop because its queue was
	// full; heartbeats carry it.
	Dropped int64 `json:"dropped,omitempty"`
	// ClockOffsetMillis is the device's correction to its own clock.
	ClockOffsetMillis int64 `json:"clock_offset_ms,omitempty"`
	// ClockSynced says, in a heartbeat, whether a signed time sync has
	// succeeded since the agent started; until one has, the device
	// refuses every command (RejectClockUnsynced).
	ClockSynced bool `json:"clock_synced,omitempty"`
	// ClockSyncedAt is, in a heartbeat, the control plane's time at the
	// device's last successful signed time sync (kept across restarts),
	// and OfflineUntil the end of the offline window that sync gave
	// (zero: offline grants are refused).
	ClockSyncedAt time.Time `json:"clock_synced_at,omitzero"`
	OfflineUntil  time.Time `json:"offline_until,omitzero"`
	// StorageFault says, in a heartbeat, that the device's last attempt
	// to write its replay log or event queue failed (a full disk): it
	// refuses every command it cannot record (RejectStorageFault). Such a
	// heartbeat may reach the bus without passing the queue.
	StorageFault bool `json:"storage_fault,omitempty"`
	// AuditWitness says, in a heartbeat, that the device witnesses its
	// building's audit log (it pinned the audit key at enrollment), and
	// AuditSize and AuditRoot are the size and root hash of the checkpoint
	// it keeps (0 and empty before its first). See AuditSubject.
	AuditWitness bool   `json:"audit_witness,omitempty"`
	AuditSize    int64  `json:"audit_size,omitempty"`
	AuditRoot    string `json:"audit_root,omitempty"`
	// KeySeq is, in a heartbeat, the sequence of the command key set the
	// device holds (0: only the keys pinned at enrollment); the control
	// plane sends a device that is behind the current set (see
	// KeysSubject).
	KeySeq int64 `json:"key_seq,omitempty"`
	// Sig is the device's signature over the event (see Event.Sign); the
	// control plane records only events signed by the device their
	// subject names.
	Sig string `json:"sig,omitempty"`
}

// Validate returns EINVALID if the event breaks a rule.
func (e *Event) Validate() error {
	switch {
	case !doorman.HasPrefix(e.ID, PrefixEvent):
		return doorman.Errorf(doorman.EINVALID, "Event ID must be an evt_ ID.")
	case !ValidEventKind(e.Kind):
		return doorman.Errorf(doorman.EINVALID, "Unknown event kind.")
	case !ValidDoorID(e.DoorID):
		return doorman.Errorf(doorman.EINVALID, "Event needs a valid door ID.")
	case e.At.IsZero():
		return doorman.Errorf(doorman.EINVALID, "Event needs a time.")
	case len(e.GrantID) > 64 || len(e.JTI) > 64 || len(e.CourierID) > 64 || len(e.Parcels) > 64:
		return doorman.Errorf(doorman.EINVALID, "Event IDs are too long.")
	case e.Reason != "" && !validRejection(e.Reason) && !(e.Kind == EventTamper && (e.Reason == AuditFork || e.Reason == AuditForged)):
		return doorman.Errorf(doorman.EINVALID, "Unknown rejection reason.")
	case len(e.Detail) > MaxDetailLength:
		return doorman.Errorf(doorman.EINVALID, "Event detail is longer than %d bytes.", MaxDetailLength)
	case e.Dropped < 0 || e.KeySeq < 0:
		return doorman.Errorf(doorman.EINVALID, "Dropped count and key sequence must not be negative.")
	case len(e.Sig) > maxSigLength:
		return doorman.Errorf(doorman.EINVALID, "Event signature is too long.")
	case e.Offline && e.Kind != EventUnlockExecuted && e.Kind != EventCommandRejected:
		return doorman.Errorf(doorman.EINVALID, "Only unlock_executed and command_rejected events come from the reader.")
	case e.AuditSize < 0 || (e.AuditSize > 0) != (e.AuditRoot != "") || (e.AuditSize > 0 && !e.AuditWitness):
		return doorman.Errorf(doorman.EINVALID, "audit_size and audit_root go together, in a witness's heartbeat.")
	}
	if _, err := DecodeAuditRoot(e.AuditRoot); err != nil {
		return err
	}
	return nil
}

// EventReceipt is the control plane's answer to a device event, sent to
// the device's inbox once the event is recorded (or refused for good): the
// device keeps the event queued until it has one without an error, so an
// event is never lost between the door and the store, whichever
// control-plane node takes it. The shape is JetStream's publish
// acknowledgement (a stream name, or an error with a code and a
// description), so that agents which published events through JetStream
// read it as such.
type EventReceipt struct {
	// Stream is ReceiptStream in a receipt without an error.
	Stream string `json:"stream,omitempty"`
	// Error says why the event was not recorded.
	Error *ReceiptError `json:"error,omitempty"`
}

// ReceiptStream names the store in an EventReceipt. A device also takes a
// JetStream acknowledgement naming LegacyReceiptStream, the stream an
// earlier control plane kept events in (and consumed), as recorded; any
// other stream's is not: nothing may consume it.
const (
	ReceiptStream       = "doorman"
	LegacyReceiptStream = "DOORMAN_EVENTS"
)

// ReceiptError is why the control plane did not record an event. Code
// ReceiptRefused: the event is refused for good (malformed, or not the
// subject's), and the device drops it; any other code: the device sends it
// again later.
type ReceiptError struct {
	Code int `json:"code"`
	// ErrCode is set in JetStream's own errors (an earlier control plane's
	// stream answering), never in the control plane's: a device drops an
	// event only on a refusal without one.
	ErrCode     int    `json:"err_code,omitempty"`
	Description string `json:"description,omitempty"`
}

// Receipt error codes.
const (
	ReceiptRefused     = 400 // refused for good: drop the event
	ReceiptUnavailable = 503 // not recorded now: send it again later
)

// TimeRequest asks the control plane for its signed time.
type TimeRequest struct {
	// Nonce is 16 to 64 random characters that the signed reply echoes.
	Nonce string `json:"nonce"`
}

// Validate returns EINVALID for a missing or malformed nonce.
func (r *TimeRequest) Validate() error {
	if !validNonce(r.Nonce) {
		return doorman.Errorf(doorman.EINVALID, "Time request nonce must be 16 to 64 characters.")
	}
	return nil
}
