package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/doorman-dev/doorman"
)

// TestBrowserReturns: the demo's first resident follows a magic link and
// registers a return for ParcelPost left in the lobby; Alice (ParcelPost)
// sees it on the demo door's page, opens the door with its tracking
// number, and marks it collected; the resident sees it collected, and the
// pickup.collected entry is in the log.
func TestBrowserReturns(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	const tracking, second = "RET-PP-0001", "RET-PP-0002"

	// The resident signs in with a magic link.
	res := b.user(t)
	if err := chromedp.Do(res, chromedp.Navigate(base+"/resident/signin"), chromedp.SendKeys(chromedp.ID("email"), DemoResidentEmail)); err != nil {
		t.Fatal(err)
	}
	submit(t, res, "main form button[type=submit]")
	if err := chromedp.Do(res, chromedp.Navigate(newestLink(t, d, DemoResidentEmail))); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, res)
	submit(t, res, "main form button[type=submit]")

	// Registers a return.
	if err := chromedp.Do(res, chromedp.Navigate(base+"/resident/returns")); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, res)
	b.check(t, res, "resident-returns-empty")
	// A bad tracking number is refused, and what was typed stays.
	if err := chromedp.Do(res,
		chromedp.SetValue(chromedp.ID("carrier"), d.State.CarrierIDs["pp-alice"]),
		chromedp.SendKeys(chromedp.ID("tracking"), "RET BAD"),
		chromedp.Click(chromedp.ID("place-lobby")),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, res, "#return-form button[type=submit]")
	if got := text(t, res, "#return-error"); got == "" {
		t.Fatal("a bad tracking number was not refused")
	}
	b.check(t, res, "resident-returns-error")
	if got := text(t, res, "main"); !strings.Contains(got, "You have registered no return.") {
		t.Fatalf("a refused return was stored:\n%s", got)
	}
	if err := chromedp.Do(res, chromedp.Navigate(base+"/resident/returns")); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, res)
	for _, tn := range []string{second, tracking} {
		if err := chromedp.Do(res,
			chromedp.SendKeys(chromedp.ID("tracking"), tn),
			chromedp.SetValue(chromedp.ID("carrier"), d.State.CarrierIDs["pp-alice"]),
			chromedp.Click(chromedp.ID("place-lobby")),
		); err != nil {
			t.Fatal(err)
		}
		submit(t, res, "#return-form button[type=submit]")
	}
	if got := text(t, res, "main"); !strings.Contains(got, tracking) || !strings.Contains(got, "Waiting for pickup") || !strings.Contains(got, "ParcelPost") {
		t.Fatalf("the registered return is not shown:\n%s", got)
	}
	b.check(t, res, "resident-returns")

	// Alice sees it at the door, opens the door with it, marks it collected.
	ctx := b.user(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/courier/signin?t="+d.Tokens["pp-alice"])); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "main form button[type=submit]")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/courier/doors/"+d.State.DoorID)); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, ctx)
	if got := text(t, ctx, "main"); !strings.Contains(got, "Returns to pick up here") || !strings.Contains(got, tracking) {
		t.Fatalf("the door page lacks the return:\n%s", got)
	}
	b.check(t, ctx, "courier-door-returns")
	// Collected meanwhile (through the API): the button then says so plainly.
	api(t, base, "POST", "/v1/courier/returns/"+second+"/collection", d.Tokens["pp-alice"], nil, 200)
	submit(t, ctx, "form[action='/courier/returns/collect']:has(input[value='"+second+"']) button[type=submit]")
	if got := text(t, ctx, "main"); !strings.Contains(got, "already collected") {
		t.Fatalf("a second collection shows:\n%s", got)
	}
	b.check(t, ctx, "courier-collect-error")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/courier/doors/"+d.State.DoorID)); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, ctx)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("tracking"), tracking)); err != nil {
		t.Fatal(err)
	}
	// Only the return: untick the demo parcel.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("p-"+d.State.AllowedParcel))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#open-door")
	if got := text(t, ctx, "#result"); !strings.Contains(got, "OPEN") || strings.Contains(got, "NOT OPENED") {
		t.Fatalf("the return did not open the door: %q", got)
	}
	b.check(t, ctx, "courier-door-return-open")
	submit(t, ctx, "form[action='/courier/returns/collect'] button[type=submit]")
	if got := text(t, ctx, "main"); !strings.Contains(got, "marked collected") || strings.Contains(got, "Returns to pick up here") {
		t.Fatalf("after Collected the door page shows:\n%s", got)
	}
	b.check(t, ctx, "courier-door-collected")

	// A collected return no longer opens the door.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("tracking"), tracking)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("p-"+d.State.AllowedParcel))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#open-door")
	if got := text(t, ctx, "#result"); !strings.Contains(got, "NOT OPENED") {
		t.Fatalf("a collected return opened the door: %q", got)
	}

	// The resident sees it collected.
	if err := chromedp.Do(res, chromedp.Navigate(base+"/resident/returns")); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, res)
	if got := text(t, res, "main"); !strings.Contains(got, "Collected") || strings.Contains(got, "Waiting for pickup") {
		t.Fatalf("the resident does not see the return collected:\n%s", got)
	}
	b.check(t, res, "resident-returns-collected")

	entries, _, err := d.Main.Store.ListAudit(systemContext(context.Background()), doorman.AuditFilter{Chain: d.State.BuildingID}, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Action == doorman.ActionPickupCollected && e.CourierID == d.State.CourierIDs["pp-alice"] {
			found = true
		}
	}
	if !found {
		t.Fatal("no pickup.collected entry for Alice")
	}
}
