package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/internal/netproxy"
)

// TestOfflineDelivery is issue 10's "done when": a building allows offline
// delivery; its door's link to the bus is cut; a courier asking to open is
// answered door_offline with an offline grant; the grant, fed to the
// door's reader, opens the door; a second scan of it is refused; when the
// link returns the building's audit chain shows the opening, the grant
// used and the refusal, and verifies; the door's offline activity lists
// both.
func TestOfflineDelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	dir := t.TempDir()
	d, err := StartDemo(ctx, cfg, dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	base, bid, door := d.Main.URL(), d.State.BuildingID, d.State.DoorID

	// The building allows three days of offline delivery.
	b := api(t, base, "PATCH", "/v1/buildings/"+bid, d.Operator, map[string]any{"offline_delivery_days": 3}, 200)
	if b["offline_delivery_days"] != float64(3) {
		t.Fatalf("building after the change: %v", b)
	}

	// The demo's door agent is replaced by one that reaches the bus
	// through a link the test can cut, with a reader on a pipe.
	d.stopAgent()
	<-d.agentDone
	d.stopAgent = nil
	agentDir := filepath.Join(dir, "agent")
	id, err := agent.LoadIdentity(agentDir)
	if err != nil {
		t.Fatal(err)
	}
	link := netproxy.Start(t, strings.TrimPrefix(id.NATSURLs[0], "tls://"))
	id.NATSURLs = []string{"tls://" + link.Addr}
	if err := agent.SaveIdentity(agentDir, id); err != nil {
		t.Fatal(err)
	}
	scans, scanner := io.Pipe()
	defer scanner.Close()
	door1 := relay.NewSim()
	a, err := agent.New(agent.Config{DataDir: agentDir, Relay: door1, Reader: agent.StreamReader{R: scans},
		TimeSyncInterval: 200 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	agentCtx, stopAgent := context.WithCancel(context.Background())
	agentDone := make(chan error, 1)
	go func() { agentDone <- a.Run(agentCtx) }()
	defer func() { stopAgent(); <-agentDone }()

	// The door learns the window at a time sync and says so.
	waitUntil(t, ctx, func() bool {
		got, err := d.Main.Store.Door(ctx, door)
		return err == nil && got.OfflineGrantsUntil != nil && got.OfflineGrantsUntil.After(time.Now().Add(2*24*time.Hour))
	})

	// The link goes down. The courier is answered door_offline, with an
	// offline grant.
	link.Cut()
	res := api(t, base, "POST", "/v1/courier/access-requests", d.Tokens["pp-alice"],
		map[string]any{"door_id": door, "tracking_numbers": []string{d.State.AllowedParcel}}, 200)
	dec := res["decision"].(map[string]any)
	og, _ := res["offline_grant"].(map[string]any)
	if dec["allowed"] != false || dec["reason"] != doorman.ReasonDoorOffline || og == nil {
		t.Fatalf("a courier at a door whose link is down: %v", res)
	}
	token, _ := og["token"].(string)
	if expires, err := time.Parse(time.RFC3339, og["expires_at"].(string)); err != nil || time.Until(expires) > time.Minute {
		t.Fatalf("offline grant expires at %v (%v)", og["expires_at"], err)
	}

	// The courier shows it to the reader: the door opens, once.
	queued := a.QueueLen()
	if _, err := io.WriteString(scanner, token+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := door1.WaitPulses(ctx, 1); err != nil {
		t.Fatalf("the door did not open for the offline grant: %v", err)
	}
	waitUntil(t, ctx, func() bool { return a.QueueLen() >= queued+1 })
	if _, err := io.WriteString(scanner, token+"\n"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, ctx, func() bool { return a.QueueLen() >= queued+2 })
	if n := door1.Pulses(); n != 1 {
		t.Fatalf("the door pulsed %d times for one offline grant", n)
	}

	// The link returns: the chain shows the opening, the grant used, and
	// the refused second scan; it verifies.
	link.Restore(t)
	waitUntil(t, ctx, func() bool { return a.QueueLen() == 0 })
	var used, opened, refused bool
	grantID := ""
	waitUntil(t, ctx, func() bool {
		entries, _, err := d.Main.Store.ListAudit(ctx, doorman.AuditFilter{Chain: bid}, doorman.Page{Limit: doorman.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		used, opened, refused = false, false, false
		for _, e := range entries {
			switch {
			case e.Action == doorman.DeviceEventAction(doorman.EventUnlockExecuted) && strings.Contains(e.Detail, "offline"):
				opened, grantID = true, e.GrantID
			case e.Action == doorman.ActionGrantUsed && e.GrantID != "" && e.GrantID == grantID:
				used = true
			case e.Action == doorman.DeviceEventAction(doorman.EventCommandRejected) && e.Reason == "replayed":
				refused = true
			}
		}
		return opened && used && refused
	})
	if breaks, err := d.Main.Store.VerifyAudit(ctx); err != nil || len(breaks) > 0 {
		t.Fatalf("audit: %v %v", breaks, err)
	}
	activity := api(t, base, "GET", "/v1/buildings/"+bid+"/doors/"+door+"/offline-activity", d.Operator, nil, 200)
	items := activity["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["kind"] != doorman.EventCommandRejected ||
		items[1].(map[string]any)["kind"] != doorman.EventUnlockExecuted || items[1].(map[string]any)["grant_id"] != grantID {
		t.Fatalf("offline activity: %v", items)
	}

	// `doorman courier open` at the door, its link down again: refused,
	// exit non-zero, with the offline grant drawn as a terminal QR code
	// and a TOKEN line, which the reader takes.
	link.Cut()
	var out bytes.Buffer
	err = runCourier(ctx, []string{"open", "--server", base, "--token", d.Tokens["pp-alice"], "--door", door, "--parcel", d.State.AllowedParcel}, &out, io.Discard)
	if !errors.Is(err, errRefused) {
		t.Fatalf("courier open at an offline door: %v\n%s", err, out.String())
	}
	printed := out.String()
	_, cliToken, _ := strings.Cut(printed, "\nTOKEN ")
	cliToken = strings.TrimSpace(cliToken)
	if !strings.Contains(printed, "REFUSED "+doorman.ReasonDoorOffline) || !strings.Contains(printed, "OFFLINE ") ||
		strings.Count(printed, "█") < 50 || !strings.HasPrefix(cliToken, "v4.public.") || cliToken == token {
		t.Fatalf("courier open printed:\n%s", printed)
	}
	if _, err := io.WriteString(scanner, cliToken+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := door1.WaitPulses(ctx, 2); err != nil {
		t.Fatalf("the door did not open for the code courier open printed: %v", err)
	}
}
