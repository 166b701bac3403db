package agent

import (
	"testing"
	"time"
)

// TestClock_WallStep: after a sync, stepping the device's wall clock moves
// neither the corrected time nor the replay store's clock; before a sync,
// the replay store gets no time at all.
func TestClock_WallStep(t *testing.T) {
	var step time.Duration
	c := &clock{raw: func() time.Time { return time.Now().Add(step) }}
	if !c.SyncedNow().IsZero() {
		t.Fatal("unsynced clock handed the replay store a time")
	}
	if _, ok := c.Offset(); ok {
		t.Fatal("unsynced clock reports an offset")
	}
	server := time.Now().Add(-10 * time.Minute) // the control plane is 10 min behind
	c.set(server, time.Now())
	before := c.Now()
	step = 24 * time.Hour
	after := c.Now()
	if d := after.Sub(before); d < 0 || d > time.Minute {
		t.Fatalf("corrected time moved by %s when the wall clock stepped a day", d)
	}
	if d := c.SyncedNow().Sub(before); d < 0 || d > time.Minute {
		t.Fatalf("replay clock moved by %s", d)
	}
	if off, _ := c.Offset(); off > -24*time.Hour-9*time.Minute || off < -24*time.Hour-11*time.Minute {
		t.Fatalf("offset %s, want the step plus 10 min", off)
	}
}
