package doorman

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Audit actions.
const (
	ActionAccessGranted = "access.granted"
	ActionAccessDenied  = "access.denied"
	// ActionUnlockFailed follows an access.granted entry whose door did not
	// acknowledge the command (door_offline), refused it (door_rejected), or
	// was locked down before it was sent (door_locked_down): the courier was
	// told the door stayed shut.
	ActionUnlockFailed    = "access.unlock_failed"
	ActionParcelDelivered = "parcel.delivered"
	// ActionGrantUsed records that a grant was marked used: the door
	// acknowledged the command, or its device reported the unlock.
	ActionGrantUsed = "grant.used"
	// ActionGrantOfflineIssued follows the access.unlock_failed
	// (door_offline) of a grant whose courier was given an offline grant
	// for it; the detail names the token ID (ogt_…) and its expiry.
	ActionGrantOfflineIssued = "grant.offline_issued"
	// ActionGrantOfflineMismatch records a device's report of an offline
	// grant used that does not match the grant the control plane issued
	// (another door, building, courier or parcels, or an unknown grant):
	// the door opened for a token nobody here issued as reported. The
	// managers are alerted (AlertOfflineGrantMisuse).
	ActionGrantOfflineMismatch = "grant.offline_mismatch"
	// ActionGrantUsedTwice records a report of a grant executed after it
	// had been used already (online then offline, or offline twice): the
	// managers are alerted (AlertOfflineGrantMisuse).
	ActionGrantUsedTwice   = "grant.used_twice"
	ActionDoorCreated      = "door.created"
	ActionDoorUpdated      = "door.updated"
	ActionDoorLockdown     = "door.lockdown"
	ActionDoorLockdownLift = "door.lockdown_lifted"
	ActionCarrierAllowed   = "carrier.allowed"
	ActionCarrierRemoved   = "carrier.removed"
	ActionBuildingCreated  = "building.created"
	ActionBuildingUpdated  = "building.updated"
	ActionManagerInvited   = "manager.invited"
	ActionManagerJoined    = "manager.joined"
	ActionUnitsImported    = "units.imported"
	ActionResidentAdded    = "resident.added"
	ActionResidentRemoved  = "resident.removed"
	ActionCarrierCreated   = "carrier.created"
	ActionAPIKeyCreated    = "api_key.created"
	ActionAPIKeyRevoked    = "api_key.revoked"

	ActionDeviceEnrollmentCreated = "device.enrollment_created"
	ActionDeviceEnrolled          = "device.enrolled"
	ActionDeviceRevoked           = "device.revoked"
	// ActionDeviceEventPrefix followed by an event kind is the action of a
	// device event in the audit log, e.g. "device.door_forced"; see
	// DeviceEventAction.
	ActionDeviceEventPrefix = "device."
)

// PlatformChain is the chain key of audit entries that belong to no building
// (e.g. the operator creating a carrier).
const PlatformChain = "platform"

// AuditEntry is one link of an append-only, hash-chained log. Each building
// has its own chain; entries that belong to no building are chained under
// PlatformChain. Hash covers every field below it and PrevHash, so editing,
// deleting or reordering an entry breaks the chain.
type AuditEntry struct {
	ID string `json:"id"`
	// Chain and Seq place the entry: its chain (a building ID or
	// PlatformChain) and its position there (1, 2, 3…). They, PrevHash and
	// Hash are left out of what carriers and couriers are shown.
	Chain string `json:"chain,omitempty" doc:"The chain: a building ID or \"platform\". Not shown to carriers and couriers."`
	Seq   int64  `json:"seq,omitempty" doc:"Position in the chain, from 1. Not shown to carriers and couriers."`

	At     time.Time `json:"at"`
	Action string    `json:"action"`
	// Actor is who did it: "operator", "manager:mgr_…", "carrier:car_…",
	// "courier:cou_…", "device:dev_…" or "system".
	Actor string `json:"actor"`

	BuildingID string `json:"building_id,omitempty"`
	DoorID     string `json:"door_id,omitempty"`
	CarrierID  string `json:"carrier_id,omitempty"`
	CourierID  string `json:"courier_id,omitempty"`
	GrantID    string `json:"grant_id,omitempty"`
	// ParcelIDs are the parcels the entry concerns.
	ParcelIDs []string `json:"parcel_ids,omitempty"`
	// Reason is a denial reason or other stable code.
	Reason string `json:"reason,omitempty"`
	// Detail is free text for humans.
	Detail string `json:"detail,omitempty"`
	// ClaimedAt is the time a device gave an event whose time the store
	// did not believe (too far ahead of its receipt, or older than any
	// event a device can still be delivering): At is then the time the
	// store received it. Nil when At is the device's own time.
	ClaimedAt *time.Time `json:"claimed_at,omitempty" doc:"The time the device gave an event whose time was not believed (too far ahead of its receipt, or too old); at is then when it was received."`
	// Count, when not zero, says the entry stands for that many events of
	// its action that one device reported beyond its rate limit within one
	// window: each was received and kept, and counted here instead of being
	// chained one by one. At is when the last of them was received.
	Count int64 `json:"count,omitempty" doc:"When set, the entry stands for this many events of its action one device reported beyond its rate limit, counted instead of chained one by one; at is when the last was received."`

	PrevHash string `json:"prev_hash,omitempty" doc:"Hash of the previous entry of the chain. Not shown to carriers and couriers."`
	Hash     string `json:"hash,omitempty" doc:"SHA-256 of this entry and prev_hash. Not shown to carriers and couriers."`
	// Seal is the audit checkpoint key's signature over Hash, made by the
	// node that appended the entry (see package auditlog): an entry that
	// someone appended through the database alone has none. It is not
	// covered by Hash.
	Seal string `json:"seal,omitempty" doc:"Signature of the audit checkpoint key over hash. Not shown to carriers and couriers."`
}

// ComputeHash returns the hex SHA-256 of the entry's canonical encoding
// (Encode), which covers its content and PrevHash.
//
// The encoding is versioned by its first field. An entry without ClaimedAt
// and Count is encoded as "doorman-audit-v1", exactly as before those
// fields existed, so chains written then still verify; an entry with either
// is encoded as "doorman-audit-v2": the v1 fields followed by both. The
// version is part of what is hashed, so a v2 entry cannot pass for a v1
// one by dropping its extra fields, nor the other way round.
func (e *AuditEntry) ComputeHash() string {
	sum := sha256.Sum256(e.Encode())
	return hex.EncodeToString(sum[:])
}

// Encode returns the entry's canonical encoding: every field that Hash
// covers, PrevHash included, length-prefixed, so no two different entries
// encode alike, and independent of the store, so any engine verifies any
// chain. It is also the entry's leaf in the Merkle tree of its chain.
func (e *AuditEntry) Encode() []byte {
	var b []byte
	field := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	v2 := e.ClaimedAt != nil || e.Count != 0
	if v2 {
		field("doorman-audit-v2")
	} else {
		field("doorman-audit-v1")
	}
	field(e.PrevHash)
	field(e.ID)
	field(e.Chain)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	field(e.Action)
	field(e.Actor)
	field(e.BuildingID)
	field(e.DoorID)
	field(e.CarrierID)
	field(e.CourierID)
	field(e.GrantID)
	b = binary.BigEndian.AppendUint64(b, uint64(len(e.ParcelIDs)))
	for _, p := range e.ParcelIDs {
		field(p)
	}
	field(e.Reason)
	field(e.Detail)
	if v2 {
		// A nil ClaimedAt is a zero flag byte, a set one a one followed
		// by its Unix microseconds.
		if e.ClaimedAt == nil {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = binary.BigEndian.AppendUint64(b, uint64(e.ClaimedAt.UnixMicro()))
		}
		b = binary.BigEndian.AppendUint64(b, uint64(e.Count))
	}
	return b
}

// ChainBreak is the first broken link found in one audit chain.
type ChainBreak struct {
	Chain string `json:"chain"`
	// Seq is the sequence number at which the chain stops verifying.
	Seq     int64  `json:"seq"`
	EntryID string `json:"entry_id,omitempty"`
	Problem string `json:"problem"` // e.g. "hash mismatch", "missing entry", "out of order"
}

// VerifyChain checks entries of one chain, given in the order the store
// holds them (by Seq). It returns the first break or nil. headSeq and
// headHash are the chain head the store recorded with the last append
// (0 and "" for an empty chain); they catch entries deleted from the end,
// and a head zeroed to hide that is itself a break.
func VerifyChain(chain string, entries []*AuditEntry, headSeq int64, headHash string) *ChainBreak {
	prev := ""
	for i, e := range entries {
		want := int64(i + 1)
		switch {
		case e == nil:
			return &ChainBreak{Chain: chain, Seq: want, Problem: "missing entry"}
		case e.Chain != chain:
			return &ChainBreak{Chain: chain, Seq: want, EntryID: e.ID, Problem: "entry of another chain"}
		case e.Seq < want:
			return &ChainBreak{Chain: chain, Seq: e.Seq, EntryID: e.ID, Problem: "out of order or duplicated"}
		case e.Seq > want:
			return &ChainBreak{Chain: chain, Seq: want, EntryID: e.ID, Problem: "missing entry"}
		case e.PrevHash != prev:
			return &ChainBreak{Chain: chain, Seq: e.Seq, EntryID: e.ID, Problem: "previous hash does not match (reordered or removed)"}
		case e.ComputeHash() != e.Hash:
			return &ChainBreak{Chain: chain, Seq: e.Seq, EntryID: e.ID, Problem: "hash mismatch (entry edited)"}
		}
		prev = e.Hash
	}
	if headSeq > int64(len(entries)) {
		return &ChainBreak{Chain: chain, Seq: int64(len(entries)) + 1, Problem: "missing entries at the end"}
	}
	if headSeq < int64(len(entries)) {
		e := entries[headSeq]
		return &ChainBreak{Chain: chain, Seq: e.Seq, EntryID: e.ID, Problem: "entry beyond the chain head"}
	}
	if headHash != prev {
		return &ChainBreak{Chain: chain, Seq: headSeq, Problem: "chain head does not match the last entry"}
	}
	return nil
}
