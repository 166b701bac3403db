package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	_ "image/png"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// TestBrowserCourierOfflineCode: at a door whose device does not answer,
// in a building that allows offline delivery, the courier page says NOT
// OPENED and shows a QR code with the seconds it has left; the QR code,
// read back from the page by an independent decoder, is an offline grant
// that the door's pinned keys verify, for this door, this courier and the
// grant the log shows issued. The page passes axe and fits a phone.
func TestBrowserCourierOfflineCode(t *testing.T) {
	b := newBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	dir := t.TempDir()
	d, err := StartDemo(ctx, cfg, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	base, bid, door := d.Main.URL(), d.State.BuildingID, d.State.DoorID
	api(t, base, "PATCH", "/v1/buildings/"+bid, d.Operator, map[string]any{"offline_delivery_days": 3}, 200)
	// The door's device goes quiet.
	d.stopAgent()
	<-d.agentDone
	d.stopAgent = nil

	tab := b.user(t)
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/courier/signin?t="+d.Tokens["pp-alice"])); err != nil {
		t.Fatal(err)
	}
	submit(t, tab, "main form button[type=submit]")
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/courier/doors/"+door)); err != nil {
		t.Fatal(err)
	}
	submit(t, tab, "#open-door")
	if got := text(t, tab, "#result"); !strings.Contains(got, "NOT OPENED") || !strings.Contains(got, "code below") {
		t.Fatalf("result at an offline door: %q", got)
	}
	box := text(t, tab, "#offline-code")
	if !strings.Contains(box, "Show this code to the door's reader") {
		t.Fatalf("offline code box: %q", box)
	}
	secs, err := strconv.Atoi(text(t, tab, "#offline-seconds"))
	if err != nil || secs <= 0 || secs > 60 {
		t.Fatalf("seconds left shown: %d (%v)", secs, err)
	}
	b.check(t, tab, "courier-offline-code")
	noSideScroll(t, tab, "courier-offline-code")

	// Read the QR code off the page as a reader would.
	src, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("offline-qr").src`))
	if err != nil {
		t.Fatal(err)
	}
	b64, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("the QR code is not an inline PNG: %.60s", src)
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	read, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the page's QR code does not decode: %v", err)
	}
	token := read.GetText()

	// The door's pinned keys verify it: this door, the grant the log shows
	// issued offline, this courier.
	id, err := agent.LoadIdentity(filepath.Join(dir, "agent"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := wire.NewVerifier(wire.VerifierConfig{DoorID: door, Keys: id.CommandKeys, Replay: wire.NewMemoryReplay(nil)})
	if err != nil {
		t.Fatal(err)
	}
	og, err := v.VerifyOfflineGrant([]byte(token), wire.OfflineCheck{Now: time.Now()})
	if err != nil {
		t.Fatalf("the door would refuse the page's code: %v", err)
	}
	entries, _, err := d.Main.Store.ListAudit(ctx, doorman.AuditFilter{Chain: bid}, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	var issued *doorman.AuditEntry
	for _, e := range entries {
		if e.Action == doorman.ActionGrantOfflineIssued {
			issued = e
		}
	}
	if issued == nil || og.DoorID != door || og.GrantID != issued.GrantID || og.CourierID != issued.CourierID ||
		!strings.Contains(issued.Detail, og.JTI) || time.Until(og.ExpiresAt) > time.Minute {
		t.Fatalf("offline grant %+v; the log's issue entry %+v", og, issued)
	}

	// When its time is up the page hides the code and says so.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[any](`(() => {
		const box = document.getElementById("offline-code");
		box.setAttribute("data-seconds", "0");
		document.dispatchEvent(new Event("DOMContentLoaded"));
	})()`)); err != nil {
		t.Fatal(err)
	}
	hidden, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.getElementById("offline-qr").hidden && !document.getElementById("offline-expired").hidden`))
	if err != nil || !hidden {
		t.Fatalf("an expired code is still shown (%v)", err)
	}
}
