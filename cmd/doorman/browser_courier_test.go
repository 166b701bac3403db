package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/doorman-dev/doorman"
)

// TestBrowserCourierOpensDoor: a courier follows the sign-in link its
// carrier's app sent (GET only shows a Continue button), sees its doors
// and parcels, is refused at the demo door with a parcel for another
// building in plain words (and the relay does not move), opens the door
// with its parcel for the building (the relay pulses), and marks the
// parcel delivered with where it was left.
func TestBrowserCourierOpensDoor(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	ctx := b.user(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/courier/signin?t="+d.Tokens["pp-alice"])); err != nil {
		t.Fatal(err)
	}
	b.check(t, ctx, "courier-signin-link")
	// The link alone signed nobody in.
	if got := text(t, ctx, "main"); !strings.Contains(got, "Continue") {
		t.Fatalf("sign-in link page shows %q", got)
	}
	submit(t, ctx, "main form button[type=submit]")
	home := text(t, ctx, "main")
	for _, want := range []string{"Maple Court", "Front door", d.State.AllowedParcel, "Out for delivery"} {
		if !strings.Contains(home, want) {
			t.Fatalf("courier home lacks %q:\n%s", want, home)
		}
	}
	b.check(t, ctx, "courier-home")
	noSideScroll(t, ctx, "courier-home")

	door := base + "/courier/doors/" + d.State.DoorID
	if err := chromedp.Do(ctx, chromedp.Navigate(door)); err != nil {
		t.Fatal(err)
	}
	b.check(t, ctx, "courier-door")
	noSideScroll(t, ctx, "courier-door")

	// A parcel for another building: refused, said plainly, no pulse.
	pulses := d.Relay.Pulses()
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("p-"+d.State.AllowedParcel)),
		chromedp.SendKeys(chromedp.ID("tracking"), d.State.OtherBuildingPar),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#open-door")
	if got := text(t, ctx, "#result"); !strings.Contains(got, "NOT OPENED") || !strings.Contains(got, "This parcel is not for this building.") {
		t.Fatalf("refusal shows %q", got)
	}
	b.check(t, ctx, "courier-refused")
	if n := d.Relay.Pulses(); n != pulses {
		t.Fatalf("relay pulsed %d times on a refusal", n-pulses)
	}

	// The parcel for this building, ticked by default: OPEN, and the door's
	// relay pulses.
	if err := chromedp.Do(ctx, chromedp.Navigate(door)); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#open-door")
	if got := text(t, ctx, "#result"); !strings.Contains(got, "OPEN") || strings.Contains(got, "NOT") {
		t.Fatalf("open shows %q", got)
	}
	wait, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Relay.WaitPulses(wait, pulses+1); err != nil {
		t.Fatalf("the relay did not pulse: %v", err)
	}
	b.check(t, ctx, "courier-open")
	noSideScroll(t, ctx, "courier-open")

	// Mark it delivered with where it was left.
	const note = "With the concierge, desk by the lifts"
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("note-"+d.State.AllowedParcel), note)); err != nil {
		t.Fatal(err)
	}
	// With a photo of where it was left: a PNG, as the file picker gives it.
	photo := filepath.Join(t.TempDir(), "door.png")
	if err := os.WriteFile(photo, browserPNG, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("photo-"+d.State.AllowedParcel), []string{photo})); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "form.deliver button[type=submit]")
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "Marked delivered") {
		t.Fatalf("after delivering: %q", got)
	}
	b.check(t, ctx, "courier-delivered")
	sys := systemContext(context.Background())
	p, err := d.Main.Store.ParcelByTracking(sys, d.State.CarrierIDs["pp-alice"], d.State.AllowedParcel)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != doorman.ParcelDelivered {
		t.Fatalf("parcel is %s", p.Status)
	}
	notes, err := d.Main.App.Carriers.DeliveryNotes(sys, d.State.BuildingID, []string{p.ID})
	if err != nil || notes[p.ID] != note {
		t.Fatalf("delivery note %q, %v; want %q", notes[p.ID], err, note)
	}

	// The unit's resident sees a link to the photo, and the photo; the
	// building's manager sees it too.
	link, err := d.Main.App.Residents.CreateLink(sys, DemoResidentEmail, base)
	if err != nil {
		t.Fatal(err)
	}
	rctx := b.user(t)
	if err := chromedp.Do(rctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, rctx)
	submit(t, rctx, "main form button[type=submit]")
	photoPath := "/resident/deliveries/" + p.ID + "/photo"
	if html, err := chromedp.Run(rctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err != nil || !strings.Contains(html, photoPath) {
		t.Fatalf("the resident page does not link the photo: %v", err)
	}
	b.check(t, rctx, "resident-delivery-photo")
	imageAt := func(ctx context.Context, path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
			t.Fatal(err)
		}
		if ct, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.contentType`)); err != nil || ct != "image/png" {
			t.Fatalf("%s: %q, %v", path, ct, err)
		}
	}
	imageAt(rctx, photoPath)
	mctx := b.user(t)
	signInManager(t, mctx, base, DemoManagerEmail, DemoManagerPassword)
	imageAt(mctx, "/console/buildings/"+d.State.BuildingID+"/parcels/"+p.ID+"/photo")
}

// browserPNG is a 1×1 PNG.
var browserPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// TestBrowserCourierSignInCode: a mistyped code is told plainly, and the
// code form is accessible.
func TestBrowserCourierSignInCode(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	ctx := b.user(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.Main.URL()+"/courier/doors/"+d.State.DoorID),
		chromedp.WaitVisible(chromedp.ID("code")),
	); err != nil {
		t.Fatalf("a door page must ask a visitor to sign in: %v", err)
	}
	b.check(t, ctx, "courier-signin")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), "dmc_not-a-real-session")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "main form button[type=submit]")
	if got := text(t, ctx, ".error"); !strings.Contains(got, "does not work") {
		t.Fatalf("wrong code told %q", got)
	}
	b.check(t, ctx, "courier-signin-error")
	// The right code brings the courier back to the door it scanned.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("code"), d.Tokens["pp-alice"])); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "main form button[type=submit]")
	if got := text(t, ctx, "h1"); !strings.Contains(got, "Front door") {
		t.Fatalf("after signing in: %q", got)
	}
}

// fakeScanner stands in for a phone's camera and barcode reader, which
// headless Chromium on Linux lacks: BarcodeDetector reads one number once,
// and getUserMedia gives a blank canvas's stream.
const fakeScanner = `(() => {
	window.BarcodeDetector = class {
		async detect() {
			if (window.__doormanScanned) return [];
			window.__doormanScanned = true;
			return [{rawValue: "PP1000000003", format: "code_128"}];
		}
	};
	if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = async () => {
		const c = document.createElement("canvas");
		c.width = 64; c.height = 64;
		c.getContext("2d").fillRect(0, 0, 64, 64);
		return c.captureStream(5);
	};
})()`

// TestBrowserCourierScanner: where the browser has BarcodeDetector the
// door page offers the camera; a scanned number lands in the tracking
// numbers, and the parcel (manifested, not out for delivery) is refused in
// plain words. Without BarcodeDetector the scanner stays hidden.
func TestBrowserCourierScanner(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	door := base + "/courier/doors/" + d.State.DoorID

	plain := b.user(t)
	if err := chromedp.Do(plain, chromedp.Navigate(base+"/courier/signin?t="+d.Tokens["pp-alice"])); err != nil {
		t.Fatal(err)
	}
	submit(t, plain, "main form button[type=submit]")
	if err := chromedp.Do(plain, chromedp.Navigate(door)); err != nil {
		t.Fatal(err)
	}
	if hidden, err := chromedp.Run(plain, chromedp.Evaluate[bool](`document.getElementById("scanner").hidden`)); err != nil || !hidden {
		t.Fatalf("without BarcodeDetector the scanner shows (hidden=%v, %v)", hidden, err)
	}

	ctx := b.user(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fakeScanner}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/courier/signin?t="+d.Tokens["pp-alice"])); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "main form button[type=submit]")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(door),
		chromedp.WaitVisible(chromedp.ID("scan-start")),
		chromedp.Click(chromedp.ID("p-"+d.State.AllowedParcel)),
		chromedp.Click(chromedp.ID("scan-start")),
	); err != nil {
		t.Fatalf("the scanner: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("tracking").value`))
		if err == nil && v == "PP1000000003" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scanned value %q, %v", v, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := text(t, ctx, "#scan-status"); !strings.Contains(got, "Added PP1000000003") {
		t.Fatalf("scanner status %q", got)
	}
	b.check(t, ctx, "courier-scanner")
	submit(t, ctx, "#open-door")
	if got := text(t, ctx, "#result"); !strings.Contains(got, "This parcel is not out for delivery.") {
		t.Fatalf("a manifested parcel: %q", got)
	}
}
