package agent

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/wire"
)

// TestRejectReportsLimited: a flood of junk commands yields at most
// MaxRejectReportsPerMinute events a minute, and the next report says how
// many were left out.
func TestRejectReportsLimited(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a, sim, _ := newOfflineAgent(t, func(c *Config) { c.Now = clock })
	for i := 0; i < MaxRejectReportsPerMinute+15; i++ {
		a.onCommand(&nats.Msg{Data: []byte("junk"), Reply: "_INBOX.attacker"})
	}
	if got := a.queue.Len(); got != MaxRejectReportsPerMinute {
		t.Fatalf("%d events queued, want %d", got, MaxRejectReportsPerMinute)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	a.onCommand(&nats.Msg{Data: []byte("junk"), Reply: "_INBOX.attacker"})
	evs, _ := a.queue.Next(MaxRejectReportsPerMinute + 10)
	noted := 0
	for _, ev := range evs {
		if ev.Reason != wire.RejectMalformed {
			t.Fatalf("event %+v", ev)
		}
		if strings.HasPrefix(ev.Detail, "15 similar rejections not reported") {
			noted++
		}
	}
	if len(evs) != MaxRejectReportsPerMinute+1 || noted != 1 {
		t.Fatalf("%d events, %d noting the suppressed ones; want %d and 1", len(evs), noted, MaxRejectReportsPerMinute+1)
	}
	if sim.Pulses() != 0 {
		t.Fatal("junk pulsed the relay")
	}
}
