package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// TestEventsAfterOutageArriveOnce stops the whole control plane (store,
// embedded bus, API) while the door is forced open and closed again, then
// starts it again: the agent's queued events reach the building's audit
// chain, each exactly once, and the chain verifies.
func TestEventsAfterOutageArriveOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:"+freePort(t) // the device must find the bus again
	d, err := StartDemo(ctx, cfg, t.TempDir(), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Relay.SetOpen(false) // the door is known to be shut

	// The control plane goes down; meanwhile the door is forced.
	config := d.Main.Config
	if err := d.Main.Close(ctx); err != nil {
		t.Fatal(err)
	}
	before := d.Agent.QueueLen()
	d.Relay.SetOpen(true)
	waitUntil(t, ctx, func() bool { return d.Agent.QueueLen() >= before+1 })
	d.Relay.SetOpen(false)
	waitUntil(t, ctx, func() bool { return d.Agent.QueueLen() >= before+2 })

	// It comes back on the same data dir and bus address.
	d.Main = NewMain()
	d.Main.Config, d.Main.Logger = config, logger
	if err := d.Main.Open(ctx); err != nil {
		t.Fatal(err)
	}
	go d.Main.Serve()

	count := func(action string) int {
		entries, _, err := d.Main.Store.ListAudit(ctx, doorman.AuditFilter{DoorID: d.State.DoorID}, doorman.Page{Limit: doorman.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Action == action {
				n++
			}
		}
		return n
	}
	forced, closed := doorman.DeviceEventAction(doorman.EventDoorForced), doorman.DeviceEventAction(doorman.EventDoorClosed)
	waitUntil(t, ctx, func() bool { return d.Agent.QueueLen() == 0 && count(forced) == 1 && count(closed) >= 1 })
	closedBefore := count(closed)

	// Give redelivery every chance to duplicate: restart once more.
	if err := d.Main.Close(ctx); err != nil {
		t.Fatal(err)
	}
	d.Main = NewMain()
	d.Main.Config, d.Main.Logger = config, logger
	if err := d.Main.Open(ctx); err != nil {
		t.Fatal(err)
	}
	go d.Main.Serve()
	waitUntil(t, ctx, func() bool { synced, _ := d.Agent.ClockSynced(); return synced && d.Agent.QueueLen() == 0 })
	if n := count(forced); n != 1 {
		t.Fatalf("door_forced recorded %d times, want 1", n)
	}
	if n := count(closed); n != closedBefore {
		t.Fatalf("door_closed recorded %d times after a restart, was %d", n, closedBefore)
	}
	if breaks, err := d.Main.Store.VerifyAudit(ctx); err != nil || len(breaks) > 0 {
		t.Fatalf("audit: %v %v", breaks, err)
	}
}

// waitUntil polls cond until it holds or ctx ends.
func waitUntil(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition never held")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
