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

// TestNextTimeSync: after a failed sync the agent asks again after the
// retry, doubling with each failure, never waiting longer than a minute
// or the interval; after a success it waits the interval.
func TestNextTimeSync(t *testing.T) {
	const retry, interval = time.Second, 5 * time.Minute
	for _, tt := range []struct {
		failures int
		want     time.Duration
	}{
		{0, interval},
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{6, 32 * time.Second},
		{7, time.Minute},
		{1000, time.Minute},
	} {
		if got := nextTimeSync(tt.failures, retry, interval); got != tt.want {
			t.Errorf("after %d failures: %s, want %s", tt.failures, got, tt.want)
		}
	}
	if got := nextTimeSync(10, retry, 10*time.Second); got != 10*time.Second {
		t.Errorf("capped by a short interval: %s", got)
	}
}

// TestClock_UnsyncedJudgesNothing: before a sync the clock commands are
// judged on is the zero time, whatever the device's own clock says.
func TestClock_UnsyncedJudgesNothing(t *testing.T) {
	c := &clock{raw: time.Now}
	if c.Synced() || !c.SyncedNow().IsZero() {
		t.Fatal("an unsynced clock hands out a time")
	}
	c.set(time.Now(), time.Now())
	if !c.Synced() || c.SyncedNow().IsZero() {
		t.Fatal("a synced clock hands out no time")
	}
}

// TestReconnectDelay: reconnecting backs off from a second to a minute,
// with jitter under half the wait (at least under a second), and never
// stops (see Run).
func TestReconnectDelay(t *testing.T) {
	for _, tt := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {4, 8 * time.Second}, {7, time.Minute}, {1 << 20, time.Minute}} {
		jitter := max(tt.want/2, time.Second)
		if got := reconnectDelay(tt.attempts); got < tt.want || got >= tt.want+jitter {
			t.Errorf("attempt %d: %s, want %s plus under %s", tt.attempts, got, tt.want, jitter)
		}
	}
}
