package agent_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
)

// logLines is an slog handler's output that tests can read while the
// agent writes.
type logLines struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logLines) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

// TestAgent_KeepsReconnectingAfterAuthErrors: a bus that refuses the
// device's credentials for a while (here: the device was revoked, then
// the revocation undone, as restoring the bus from a backup does) must
// not leave the agent running but disconnected for good, where its
// supervisor never restarts it: it keeps trying, and serves again once
// the bus lets it in.
func TestAgent_KeepsReconnectingAfterAuthErrors(t *testing.T) {
	logs := &logLines{}
	e := MustEnv(t, func(c *agent.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.Events.Wait(t, wire.EventHeartbeat, 1)
	if err := e.Bus.RevokeDevice(context.Background(), e.DevPub); err != nil {
		t.Fatal(err)
	}
	// nats.go gives up after two authorization errors in a row.
	deadline := time.Now().Add(testWait)
	for logs.count("uthorization") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the agent saw %d authorization errors, want 2:\n%s", logs.count("uthorization"), logs.buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.Bus.Close()
	if err := os.Remove(filepath.Join(e.BusDir, "revocations.json")); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	e.StartBus(t)
	// The agent reports itself online again.
	for n := 1; ; n++ {
		if hb := e.Events.Wait(t, wire.EventHeartbeat, n); hb[n-1].At.After(restarted) {
			break
		}
	}
	if ack, err := e.Unlock(t, e.Sign(t, "gnt_after_reconnect")); err != nil || !ack.Executed() {
		t.Fatalf("after reconnecting: %+v %v", ack, err)
	}
}
