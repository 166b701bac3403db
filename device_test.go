package doorman_test

import (
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

func TestDoorOnline(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, tc := range []struct {
		name     string
		lastSeen *time.Time
		want     bool
	}{
		{"never seen", nil, false},
		{"just now", at(0), true},
		{"one missed heartbeat", at(-2 * time.Minute), true},
		{"just inside the window", at(-doorman.DoorOnlineWindow + time.Millisecond), true},
		{"at the window", at(-doorman.DoorOnlineWindow), false},
		{"long ago", at(-time.Hour), false},
		{"ahead of our clock", at(10 * time.Second), true},
	} {
		d := &doorman.Door{LastSeenAt: tc.lastSeen}
		if got := d.Online(now); got != tc.want {
			t.Errorf("%s: Online = %v, want %v", tc.name, got, tc.want)
		}
	}
}
