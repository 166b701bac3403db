package web

import (
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/wire"
)

// TestRejectionWords: every reason a device may give is told in words.
func TestRejectionWords(t *testing.T) {
	for _, r := range wire.Rejections {
		got := offlineWhat(&app.OfflineEvent{Kind: "command_rejected", Reason: r})
		if _, ok := rejectionWords[r]; !ok || strings.Contains(got, "("+r+")") {
			t.Errorf("rejection %s is told as %q", r, got)
		}
	}
	if got := offlineWhat(&app.OfflineEvent{Kind: "command_rejected", Reason: "new_reason"}); got != "Refused to open (new_reason)" {
		t.Errorf("an unknown reason is told as %q", got)
	}
}
