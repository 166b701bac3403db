package web

import (
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// deviceEventWords say what a door's device did, for a manager.
var deviceEventWords = map[string]string{
	doorman.EventUnlockExecuted: "Opened for a delivery",
	doorman.EventDoorOpened:     "Door opened",
	doorman.EventDoorClosed:     "Door closed",
	doorman.EventDoorHeldOpen:   "Door held open",
	doorman.EventDoorForced:     "Door forced open",
	doorman.EventTamper:         "Tampering detected",
}

// rejectionWords say why a door's device refused to open, by its
// rejection reason (wire.Reject*; web does not import wire, and a test
// keeps the two in step).
var rejectionWords = map[string]string{
	"malformed":        "the code was not a valid grant",
	"unknown_key":      "the code was signed with a key the door does not trust",
	"bad_signature":    "the code's signature did not verify",
	"wrong_door":       "the code was for another door",
	"expired":          "the code had expired",
	"not_yet_valid":    "the code was not valid yet (clock difference)",
	"replayed":         "the code had been used already",
	"internal":         "the device could not record the code",
	"clock_unsynced":   "the device's clock had not been synced",
	"storage_fault":    "the device's storage was full or failing",
	"offline_disabled": "the building does not allow offline delivery",
	"sync_too_old":     "the device's last time sync was too long ago",
	"key_retired":      "the code was signed with a retired key",
	"key_revoked":      "the code was signed with a revoked key",
}

// offlineWhat says in words what a door did while offline.
func offlineWhat(e *app.OfflineEvent) string {
	if e.Kind == doorman.EventCommandRejected {
		if why, ok := rejectionWords[e.Reason]; ok {
			return "Refused to open: " + why
		}
		return "Refused to open (" + e.Reason + ")"
	}
	if w, ok := deviceEventWords[e.Kind]; ok {
		return w
	}
	return e.Kind
}
