package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// TestDeviceConnectedTwiceIsAudited: a second connection with a door
// device's bus credentials (a copy of its device.json) is written into the
// building's audit log, naming the device, for the manager to act on.
func TestDeviceConnectedTwiceIsAudited(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	d, err := StartDemo(ctx, cfg, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, door := d.Main, d.State.DoorID

	bd := enrollOnBus(t, ctx, m, door) // connected once, as its agent
	bd.connect(t, m)                   // and again, with a copy of its device.json
	dev := bd.dev

	flagged := func() *doorman.AuditEntry {
		entries, _, err := m.Store.ListAudit(ctx, doorman.AuditFilter{DoorID: door}, doorman.Page{Limit: doorman.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Action == doorman.ActionDeviceDuplicateConnection {
				return e
			}
		}
		return nil
	}
	waitUntil(t, ctx, func() bool { return flagged() != nil })
	if e := flagged(); !strings.Contains(e.Detail, dev.ID) || !strings.Contains(e.Detail, "2 connections") {
		t.Fatalf("audit entry %+v, want the device and its two connections named", e)
	}
}
