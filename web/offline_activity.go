package web

import (
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/wire"
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

// rejectionWords say why a door's device refused to open.
var rejectionWords = map[string]string{
	wire.RejectMalformed:       "the code was not a valid grant",
	wire.RejectUnknownKey:      "the code was signed with a key the door does not trust",
	wire.RejectBadSignature:    "the code's signature did not verify",
	wire.RejectWrongDoor:       "the code was for another door",
	wire.RejectExpired:         "the code had expired",
	wire.RejectNotYetValid:     "the code was not valid yet (clock difference)",
	wire.RejectReplayed:        "the code had been used already",
	wire.RejectInternal:        "the device could not record the code",
	wire.RejectClockUnsynced:   "the device's clock had not been synced",
	wire.RejectStorageFault:    "the device's storage was full or failing",
	wire.RejectOfflineDisabled: "the building does not allow offline delivery",
	wire.RejectSyncTooOld:      "the device's last time sync was too long ago",
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
