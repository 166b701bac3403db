package wire

import (
	"strings"

	"github.com/doorman-dev/doorman"
)

// Subject scheme. Every device subject lives under doorman.door.<doorID>,
// so one device's NATS permissions can name exactly its own subjects:
//
//	doorman.door.<doorID>.cmd           unlock commands (request/reply, core NATS)
//	doorman.door.<doorID>.evt.<kind>    device events (captured by a JetStream stream)
//	doorman.door.<doorID>.time          signed time requests (request/reply)
//	doorman.door.<doorID>.inbox.>       the device's own reply inbox
const (
	// SubjectRoot is the first token of every Doorman subject.
	SubjectRoot = "doorman.door"
	// EventSubjects matches every device event subject; the event stream
	// captures it.
	EventSubjects = SubjectRoot + ".*.evt.*"
	// TimeSubjects matches every device's time request subject; the control
	// plane serves it.
	TimeSubjects = SubjectRoot + ".*.time"
)

// CommandSubject is the subject a door's device receives unlock commands on.
func CommandSubject(doorID string) string { return SubjectRoot + "." + doorID + ".cmd" }

// EventSubject is the subject a door's device publishes events of a kind on.
func EventSubject(doorID, kind string) string {
	return SubjectRoot + "." + doorID + ".evt." + kind
}

// TimeSubject is the subject a door's device asks the control plane's time on.
func TimeSubject(doorID string) string { return SubjectRoot + "." + doorID + ".time" }

// InboxPrefix is the reply inbox prefix a door's device uses, so that its
// permissions need not include the shared _INBOX namespace.
func InboxPrefix(doorID string) string { return SubjectRoot + "." + doorID + ".inbox" }

// ParseEventSubject returns the door ID and event kind of an event subject,
// or ok false if subject is not one.
func ParseEventSubject(subject string) (doorID, kind string, ok bool) {
	rest, found := strings.CutPrefix(subject, SubjectRoot+".")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || parts[1] != "evt" || !ValidDoorID(parts[0]) || !ValidEventKind(parts[2]) {
		return "", "", false
	}
	return parts[0], parts[2], true
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
func ValidDoorID(id string) bool {
	if !doorman.HasPrefix(id, doorman.PrefixDoor) {
		return false
	}
	for _, c := range id[len(doorman.PrefixDoor)+1:] {
		if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", c) {
			return false
		}
	}
	return true
}
