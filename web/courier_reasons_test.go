package web

import (
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// TestEveryDenialHasWords: every reason the access decision can give, and
// the door's own refusals, reads as a sentence a courier understands, not
// as a code; a rate-limited courier is told when to try again.
func TestEveryDenialHasWords(t *testing.T) {
	reasons := append([]string{doorman.ReasonDoorOffline, doorman.ReasonDoorRejected}, doorman.Reasons...)
	for _, reason := range reasons {
		t.Run(reason, func(t *testing.T) {
			msg := denialMessage(reason, 0)
			if msg == "" || msg == "The door was not opened." || strings.Contains(msg, "_") || !strings.HasSuffix(msg, ".") {
				t.Fatalf("%s reads %q", reason, msg)
			}
		})
	}
	if got := denialMessage(doorman.ReasonRateLimited, 2500*time.Millisecond); !strings.Contains(got, "3 seconds") {
		t.Fatalf("rate limited: %q", got)
	}
	if got := denialMessage(doorman.ReasonParcelNotForBuilding, 0); got != "This parcel is not for this building." {
		t.Fatalf("parcel_not_for_building: %q", got)
	}
}
