package web

import (
	"time"

	"github.com/doorman-dev/doorman"
)

// denialMessages say each denial reason in words a courier at the door
// understands. parcel_wrong_carrier is never told (couriers hear
// unknown_parcel), but has words in case.
var denialMessages = map[string]string{
	doorman.ReasonUnknownParcel:              "Doorman does not know this parcel. Check the tracking number, or ask your carrier to send the parcel to Doorman.",
	doorman.ReasonParcelWrongCarrier:         "Doorman does not know this parcel. Check the tracking number, or ask your carrier to send the parcel to Doorman.",
	doorman.ReasonParcelNotForBuilding:       "This parcel is not for this building.",
	doorman.ReasonParcelNotAssignedToCourier: "This parcel is not assigned to you. Ask your carrier to assign it to you.",
	doorman.ReasonParcelNotOutForDelivery:    "This parcel is not out for delivery. Ask your carrier to mark it out for delivery.",
	doorman.ReasonParcelAlreadyDelivered:     "This parcel is already marked delivered.",
	doorman.ReasonCourierInactive:            "Your courier account is not active. Contact your carrier.",
	doorman.ReasonBackgroundCheckExpired:     "Your background check has expired. Contact your carrier to renew it.",
	doorman.ReasonCarrierNotAllowed:          "This building does not let your carrier's couriers in.",
	doorman.ReasonCarrierPendingNotice:       "This building has only just allowed your carrier: its residents are being told first, and the door opens for your carrier once their notice period is over.",
	doorman.ReasonOutsideDeliveryHours:       "The building does not take deliveries at this hour. Come back within its delivery hours.",
	doorman.ReasonDoorLockedDown:             "The building's manager has locked this door. No deliveries can enter right now.",
	doorman.ReasonTooFarFromDoor:             "You seem to be too far from this door. Stand at the door and try again.",
	doorman.ReasonDoorOffline:                "The door did not answer: it may be offline. Try again in a moment, or deliver another way.",
	doorman.ReasonDoorRejected:               "The door refused to open. Try again in a moment; if it keeps happening, tell the building's manager.",
}

// denialMessage says why the door stayed shut; a rate-limited courier is
// told when to try again.
func denialMessage(reason string, retry time.Duration) string {
	if reason == doorman.ReasonRateLimited {
		if retry > 0 {
			return "You have tried too often. Wait " + plural(int((retry+time.Second-1)/time.Second), "second") + " and try again."
		}
		return "You have tried too often. Wait a minute and try again."
	}
	if m, ok := denialMessages[reason]; ok {
		return m
	}
	return "The door was not opened."
}
