package wire

import "fmt"

// Rejection reasons a device gives for a command it refuses. They are
// stable: they appear in command_rejected events and acknowledgements.
const (
	RejectMalformed    = "malformed"     // not a well-formed token of this protocol, or over a size limit
	RejectUnknownKey   = "unknown_key"   // signed with a key ID the device was not given
	RejectBadSignature = "bad_signature" // the signature does not verify with the named key
	RejectWrongDoor    = "wrong_door"    // addressed to another door
	RejectExpired      = "expired"       // past its expiry plus the allowed skew
	RejectNotYetValid  = "not_yet_valid" // before its not-before (or issued-at) minus the allowed skew
	RejectReplayed     = "replayed"      // its token ID was used before
	RejectInternal     = "internal"      // the device could not record the token ID; it fails shut
	// RejectClockUnsynced: the device has had no signed time sync since it
	// started, so it cannot judge a command's time window; it fails shut.
	RejectClockUnsynced = "clock_unsynced"
	// RejectStorageFault: the device could not make its records durable
	// (the token ID in its replay log, or the unlock_executed event in its
	// event queue), typically because its disk is full; the relay never
	// moves without them.
	RejectStorageFault = "storage_fault"
	// RejectOfflineDisabled: an offline grant was shown to a door whose
	// building does not allow offline delivery (as its last signed time
	// sync said), or to a device that has never synced.
	RejectOfflineDisabled = "offline_disabled"
	// RejectSyncTooOld: an offline grant was shown after the building's
	// offline window since the door's last signed time sync had passed.
	RejectSyncTooOld = "sync_too_old"
	// RejectKeyRetired: signed with a key the device's key set says was
	// rotated out (retired, or retiring and past its retirement time).
	RejectKeyRetired = "key_retired"
	// RejectKeyRevoked: signed with a key the device's key set says was
	// revoked.
	RejectKeyRevoked = "key_revoked"
)

// Rejections lists every reason a device may give for refusing a command
// or an offline grant.
var Rejections = []string{RejectMalformed, RejectUnknownKey, RejectBadSignature, RejectWrongDoor,
	RejectExpired, RejectNotYetValid, RejectReplayed, RejectInternal, RejectClockUnsynced, RejectStorageFault,
	RejectOfflineDisabled, RejectSyncTooOld, RejectKeyRetired, RejectKeyRevoked}

// Rejection is why a device refused a command. Verify returns it as the
// error; Detail is for logs and never decides anything.
type Rejection struct {
	Reason string
	Detail string
}

// Error implements error.
func (r *Rejection) Error() string {
	if r.Detail == "" {
		return "command rejected: " + r.Reason
	}
	return fmt.Sprintf("command rejected: %s: %s", r.Reason, r.Detail)
}

func reject(reason, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}
