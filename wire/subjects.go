package wire

import (
	"strings"

	"github.com/doorman-dev/doorman"
)

// Subject scheme. Every device subject lives under doorman.door.<doorID>,
// so one device's NATS permissions can name exactly its own subjects:
//
//	doorman.door.<doorID>.cmd                         unlock commands (request/reply, core NATS)
//	doorman.door.<doorID>.dev.<deviceID>.evt.<kind>   device events (request/reply, answered with an EventReceipt)
//	doorman.door.<doorID>.time                        signed time requests (request/reply)
//	doorman.door.<doorID>.inbox.>                     the device's own reply inbox
//	doorman.door.<doorID>.inbox.audit                 audit checkpoints for the device to witness (see AuditSubject)
//
// Commands, time and the inbox belong to the door: whichever device is
// enrolled for it serves them. Events name the device as well, and each
// device may publish only on its own event subjects, so the control plane
// knows which device reported an event, also after the door's device was
// replaced.
const (
	// SubjectRoot is the first token of every Doorman subject.
	SubjectRoot = "doorman.door"
	// EventSubjects matches every device event subject; the control
	// plane serves it.
	EventSubjects = SubjectRoot + ".*.dev.*.evt.*"
	// TimeSubjects matches every device's time request subject; the control
	// plane serves it.
	TimeSubjects = SubjectRoot + ".*.time"
)

// CommandSubject is the subject a door's device receives unlock commands on.
func CommandSubject(doorID string) string { return SubjectRoot + "." + doorID + ".cmd" }

// EventSubject is the subject the device deviceID of door doorID publishes
// events of a kind on.
func EventSubject(doorID, deviceID, kind string) string {
	return SubjectRoot + "." + doorID + ".dev." + deviceID + ".evt." + kind
}

// TimeSubject is the subject a door's device asks the control plane's time on.
func TimeSubject(doorID string) string { return SubjectRoot + "." + doorID + ".time" }

// InboxPrefix is the reply inbox prefix a door's device uses, so that its
// permissions need not include the shared _INBOX namespace.
func InboxPrefix(doorID string) string { return SubjectRoot + "." + doorID + ".inbox" }

// ParseEventSubject returns the door ID, device ID and event kind of an
// event subject, or ok false if subject is not one.
func ParseEventSubject(subject string) (doorID, deviceID, kind string, ok bool) {
	rest, found := strings.CutPrefix(subject, SubjectRoot+".")
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 5 || parts[1] != "dev" || parts[3] != "evt" ||
		!ValidDoorID(parts[0]) || !ValidDeviceID(parts[2]) || !ValidEventKind(parts[4]) {
		return "", "", "", false
	}
	return parts[0], parts[2], parts[4], true
}

// ParseTimeSubject returns the door ID of a time request subject.
func ParseTimeSubject(subject string) (doorID string, ok bool) {
	rest, found := strings.CutPrefix(subject, SubjectRoot+".")
	if !found {
		return "", false
	}
	doorID, found = strings.CutSuffix(rest, ".time")
	if !found || !ValidDoorID(doorID) {
		return "", false
	}
	return doorID, true
}

// ValidDoorID reports whether id is a well-formed door ID, and therefore a
// safe single subject token (no dots, wildcards or spaces).
func ValidDoorID(id string) bool { return validID(id, doorman.PrefixDoor) }

// ValidDeviceID reports whether id is a well-formed device ID, and
// therefore a safe single subject token.
func ValidDeviceID(id string) bool { return validID(id, doorman.PrefixDevice) }

// validID reports whether id is an ID of the given kind written in the
// ID alphabet only.
func validID(id, prefix string) bool {
	if !doorman.HasPrefix(id, prefix) {
		return false
	}
	for _, c := range id[len(prefix)+1:] {
		if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", c) {
			return false
		}
	}
	return true
}
