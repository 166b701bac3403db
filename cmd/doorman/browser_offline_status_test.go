package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/doorman-dev/doorman"
)

// TestBrowserConsoleDoorOffline: the doors page tells the manager how old
// each door's time sync is and whether it takes offline grants, and lists
// on the door's card what its device did while its link was down, in
// words, at desktop and phone width.
func TestBrowserConsoleDoorOffline(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base, bid, door := d.Main.URL(), d.State.BuildingID, d.State.DoorID
	ctx := context.Background()

	// The demo door's agent syncs its time and says so in a heartbeat.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := d.Main.Store.Door(ctx, door)
		if err != nil {
			t.Fatal(err)
		}
		if got.ClockSyncedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo door never reported a time sync")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// What its device queued during an outage twenty minutes ago arrives
	// now: an opening at the reader and a refused second scan.
	dev, err := d.Main.Store.ActiveDevice(ctx, door)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-20 * time.Minute)
	grant := doorman.NewID(doorman.PrefixGrant)
	for _, e := range []*doorman.DeviceEvent{
		{Kind: doorman.EventUnlockExecuted, At: at, GrantID: grant, Detail: "reader, offline grant"},
		{Kind: doorman.EventCommandRejected, At: at.Add(time.Minute), GrantID: grant, Reason: "replayed", Detail: "reader"},
	} {
		e.ID, e.DeviceID, e.DoorID = doorman.NewID("evt"), dev.ID, door
		if _, err := d.Main.Store.RecordDeviceEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // event IDs are in time order by the millisecond
	}

	tab := b.user(t)
	signInManager(t, tab, base, DemoManagerEmail, DemoManagerPassword)
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/console/buildings/"+bid+"/doors")); err != nil {
		t.Fatal(err)
	}
	// The status rows are replaced live (server-sent events every two
	// seconds): read the row's text in one step, in the page, so a swap
	// between finding the row and reading it cannot lose it.
	got, err := chromedp.Run(tab, chromedp.Evaluate[string](`(document.getElementById("status-`+door+`") || {}).innerText || ""`))
	if err != nil || !strings.Contains(got, "synced") {
		t.Fatalf("the status row does not show the door's time sync: %q (%v)", got, err)
	}
	card := text(t, tab, "#door-"+door)
	for _, want := range []string{"While offline", "Opened for a delivery", "Refused to open: the code had been used already", grant} {
		if !strings.Contains(card, want) {
			t.Fatalf("the door's card does not say %q: %q", want, card)
		}
	}
	if strings.Index(card, "Refused to open") > strings.Index(card, "Opened for a delivery") {
		t.Fatalf("offline activity is not latest first: %q", card)
	}
	b.check(t, tab, "console-doors-offline")
}
