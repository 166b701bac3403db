package agent

import (
	"strconv"
	"testing"

	"github.com/doorman-dev/doorman/wire"
)

// TestReport_KeepsOrder: events reported in quick succession (many within
// one millisecond) are queued, and so sent, in the order they happened.
func TestReport_KeepsOrder(t *testing.T) {
	a, _, _ := newOfflineAgent(t)
	const n = 300
	for i := 0; i < n; i++ {
		a.report(&wire.Event{Kind: wire.EventTamper, Detail: strconv.Itoa(i)})
	}
	evs, err := a.queue.Next(n)
	if err != nil || len(evs) != n {
		t.Fatalf("queue holds %d events, %v; want %d", len(evs), err, n)
	}
	for i, ev := range evs {
		if ev.Detail != strconv.Itoa(i) {
			t.Fatalf("event %d in the queue is the one reported %s-th", i, ev.Detail)
		}
	}
}
