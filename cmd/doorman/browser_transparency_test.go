package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserTransparency: the demo building's transparency page is on and
// readable without an account, with its carriers, door, hours and the
// latest signed checkpoint, and nothing about couriers or residents; its
// manager turns it off in the console (with the door stickers there), and
// the page is then a missing page.
func TestBrowserTransparency(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	public := base + "/buildings/" + d.State.BuildingID + "/transparency"

	visitor := b.user(t)
	if err := chromedp.Do(visitor, chromedp.Navigate(public)); err != nil {
		t.Fatal(err)
	}
	page := text(t, visitor, "main")
	for _, want := range []string{"Maple Court", "ParcelPost", "QuickShip", "Front door", "At any hour", "doorman audit verify"} {
		if !strings.Contains(page, want) {
			t.Fatalf("transparency page lacks %q:\n%s", want, page)
		}
	}
	for _, never := range []string{"LocalRunners", "Alice", "pp-alice", "Ana Ruiz", "resident1@", d.State.AllowedParcel} {
		if strings.Contains(page, never) {
			t.Fatalf("transparency page shows %q", never)
		}
	}
	b.check(t, visitor, "transparency")
	noSideScroll(t, visitor, "transparency")

	manager := b.user(t)
	signInManager(t, manager, base, DemoManagerEmail, DemoManagerPassword)
	if err := chromedp.Do(manager, chromedp.Navigate(base+"/console/buildings/"+d.State.BuildingID+"/transparency")); err != nil {
		t.Fatal(err)
	}
	if got := text(t, manager, "main"); !strings.Contains(got, "/courier/doors/"+d.State.DoorID) {
		t.Fatalf("console transparency page lacks the door's sticker URL:\n%s", got)
	}
	b.check(t, manager, "console-transparency-on")
	noSideScroll(t, manager, "console-transparency-on")
	submit(t, manager, "#transparency-toggle")
	if got := text(t, manager, ".notice"); !strings.Contains(got, "off") {
		t.Fatalf("after turning off: %q", got)
	}
	b.check(t, manager, "console-transparency-off")

	if err := chromedp.Do(manager, chromedp.Navigate(base+"/console/buildings/"+d.State.BuildingID+"/doors/"+d.State.DoorID+"/sticker")); err != nil {
		t.Fatal(err)
	}
	b.check(t, manager, "console-door-sticker")

	if err := chromedp.Do(visitor, chromedp.Navigate(public)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, visitor, "h1"); got != "Not found" {
		t.Fatalf("transparency page turned off shows %q", got)
	}
	if strings.Contains(text(t, visitor, "main"), "Maple Court") {
		t.Fatal("a page turned off still names the building")
	}
}
