package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/pquerna/otp/totp"
)

// TestBrowserConsoleBuilding: the demo's manager signs in, imports units
// from a CSV file with one bad row and sees it reported before anything
// is written, then imports a good file; adds a resident; adds a door and
// creates an enrollment code for it, which a second agent enrolls with;
// watches the doors' live status; locks the demo door down, after which a
// courier's request is refused with door_locked_down; edits carriers and
// hours; opens the account page and starts setting up sign-in codes. A
// second manager then finds none of the first one's building through any
// page or form.
func TestBrowserConsoleBuilding(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	bid := d.State.BuildingID
	sys := doorman.NewContextWithPrincipal(context.Background(), doorman.System())
	services := d.Main.App
	ctx := b.user(t)
	nav := func(path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path)); err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
	}
	// Forms ask before destructive changes; the test answers yes.
	confirmYes := func() {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.confirm = () => true`)); err != nil {
			t.Fatal(err)
		}
	}
	unitCount := func() int {
		t.Helper()
		units, _, err := services.Buildings.ListUnits(sys, bid, doorman.Page{Limit: doorman.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		return len(units)
	}

	signInManager(t, ctx, base, DemoManagerEmail, DemoManagerPassword)
	nav("/console/buildings/" + bid)
	if got := text(t, ctx, "h1"); got != "Maple Court" {
		t.Fatalf("overview h1 %q", got)
	}
	b.check(t, ctx, "console-building")

	// Units: a file with one bad row is previewed, row by row, and
	// nothing is written.
	nav("/console/buildings/" + bid + "/units")
	b.check(t, ctx, "console-units")
	before := unitCount()
	dir := t.TempDir()
	upload := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path})); err != nil {
			t.Fatal(err)
		}
		submit(t, ctx, "#preview-import")
	}
	upload("bad.csv", "label,floor\n7A,7\n7B,7,extra\n7C,7\n")
	if got := text(t, ctx, "#preview-result"); !strings.Contains(got, "1 of 3 rows cannot be imported") || !strings.Contains(got, "Nothing has been saved") {
		t.Fatalf("preview of a bad file says %q", got)
	}
	if got := text(t, ctx, "#preview-rows"); !strings.Contains(got, "Expected 2 fields (label,floor), found 3.") {
		t.Fatalf("the bad row is not reported: %q", got)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#confirm-import").length`)); n != 0 {
		t.Fatal("a file with a bad row can be confirmed")
	}
	b.check(t, ctx, "console-units-preview-errors")
	if n := unitCount(); n != before {
		t.Fatalf("the preview wrote units: %d, was %d", n, before)
	}

	upload("good.csv", "label,floor\n7A,7\n7B,7\n7C,7\n")
	if got := text(t, ctx, "#preview-result"); !strings.Contains(got, "All 3 rows can be imported") {
		t.Fatalf("preview of a good file says %q", got)
	}
	b.check(t, ctx, "console-units-preview")
	if n := unitCount(); n != before {
		t.Fatalf("the preview wrote units: %d, was %d", n, before)
	}
	submit(t, ctx, "#confirm-import")
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "imported") {
		t.Fatalf("after confirming: %q", got)
	}
	if n := unitCount(); n != before+3 {
		t.Fatalf("after confirming: %d units, want %d", n, before+3)
	}

	// A resident.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("res-name"), "Grace Hopper"),
		chromedp.SendKeys(chromedp.ID("res-email"), "grace@example.com"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#add-resident button")
	if got := text(t, ctx, "main"); !strings.Contains(got, "The resident is added") || !strings.Contains(got, "Grace Hopper") {
		t.Fatalf("after adding a resident: %q", got)
	}
	b.check(t, ctx, "console-units-resident")

	// Each part gets a tab of its own (each tab has two minutes).
	ctx = b.user(t)
	signInManager(t, ctx, base, DemoManagerEmail, DemoManagerPassword)

	// Doors: the live status connects.
	nav("/console/buildings/" + bid + "/doors")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("[data-sse-state]").textContent === "Live"`, chromedp.WithPollingTimeout(15e9))); err != nil {
		t.Fatalf("the live door status did not connect: %v", err)
	}
	b.check(t, ctx, "console-doors")

	// A new door and its enrollment code, shown with a QR code.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("door-name"), "Side gate")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#add-door-button")
	doors, _, err := services.Buildings.ListDoors(sys, bid, doorman.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var gate string
	for _, door := range doors {
		if door.Name == "Side gate" {
			gate = door.ID
		}
	}
	if gate == "" {
		t.Fatal("the new door is not stored")
	}
	submit(t, ctx, "#enroll-"+gate)
	code := strings.TrimSpace(text(t, ctx, "#enrollment-code"))
	if len(code) < 12 {
		t.Fatalf("enrollment code %q", code)
	}
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const i = document.querySelector("#enrollment-qr"); return i.complete && i.naturalWidth > 0 && i.alt.includes(`+"`"+code+"`"+`); })()`)); err != nil || !ok {
		t.Fatalf("the QR code image is not shown: %v", err)
	}
	if got := text(t, ctx, "main"); !strings.Contains(got, "15 minutes") {
		t.Fatalf("the enrollment page does not say how long the code works: %q", got)
	}
	b.check(t, ctx, "console-enrollment")
	id, err := agent.Enroll(context.Background(), agent.EnrollOptions{Server: base, Code: code, DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("a second agent cannot enroll with the code shown: %v", err)
	}
	if id.DoorID != gate {
		t.Fatalf("the agent enrolled for door %s, want %s", id.DoorID, gate)
	}

	// Lockdown of the demo door takes effect at once.
	nav("/console/buildings/" + bid + "/doors")
	confirmYes()
	submit(t, ctx, "#lockdown-on-"+d.State.DoorID)
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "locked down") {
		t.Fatalf("after lockdown: %q", got)
	}
	if got := text(t, ctx, "#door-"+d.State.DoorID); !strings.Contains(got, "Locked down") {
		t.Fatalf("the door's card does not show the lockdown: %q", got)
	}
	b.check(t, ctx, "console-doors-lockdown")
	res := api(t, base, "POST", "/v1/courier/access-requests", d.Tokens["pp-alice"],
		map[string]any{"door_id": d.State.DoorID, "tracking_numbers": []string{d.State.AllowedParcel}}, 200)
	if dec := res["decision"].(map[string]any); dec["allowed"] != false || dec["reason"] != "door_locked_down" {
		t.Fatalf("a courier at a locked-down door: %v", dec)
	}

	// Carriers and hours: a malformed window is told and the form kept.
	ctx = b.user(t)
	signInManager(t, ctx, base, DemoManagerEmail, DemoManagerPassword)
	nav("/console/buildings/" + bid + "/carriers")
	b.check(t, ctx, "console-carriers")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector("#any_hour").checked = false`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("h-monday"), "8 to 5")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "form[action$='/hours'] button[type=submit]")
	if got := text(t, ctx, "#hours-error"); !strings.Contains(got, "Monday") {
		t.Fatalf("a malformed window: %q", got)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#h-monday").value`)); v != "8 to 5" {
		t.Fatalf("the form lost what was typed: %q", v)
	}
	b.check(t, ctx, "console-carriers-error")

	// Notice before access: with a two-day period, a newly allowed carrier
	// is pending, and the page says which residents were told.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector("#notice_days").value = "2"`)); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "form[action$='/notice-period'] button[type=submit]")
	submit(t, ctx, "form[action$='/carriers'] button[type=submit]")
	if got := text(t, ctx, "#allowed-carriers"); !strings.Contains(got, "Pending notice") || !strings.Contains(got, "Residents told") {
		t.Fatalf("a newly allowed carrier: %q", got)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelectorAll("#allowed-carriers details").forEach(d => d.open = true)`)); err != nil {
		t.Fatal(err)
	}
	b.check(t, ctx, "console-carriers-pending")

	// The account: session expiry and setting up sign-in codes.
	nav("/console/account")
	if got := text(t, ctx, "#session-expiry"); !strings.Contains(got, "UTC") {
		t.Fatalf("session expiry %q", got)
	}
	b.check(t, ctx, "console-account")
	submit(t, ctx, "#start-totp")
	if got := text(t, ctx, "#totp-secret"); len(strings.TrimSpace(got)) < 32 {
		t.Fatalf("TOTP secret %q", got)
	}
	b.check(t, ctx, "console-account-totp-setup")

	// A second manager, of another building, sees nothing of Maple Court.
	other := &doorman.Building{Name: "Birch House", Address: "2 Birch Lane", Timezone: "Europe/Berlin"}
	if err := services.Buildings.CreateBuilding(sys, other); err != nil {
		t.Fatal(err)
	}
	inv, err := services.Accounts.CreateInvite(sys, other.ID, "birch@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := services.Accounts.AcceptInvite(context.Background(), inv.Token, "Bea", "birch house password"); err != nil {
		t.Fatal(err)
	}
	ctx2 := b.user(t)
	signInManager(t, ctx2, base, "birch@example.com", "birch house password")
	if got := text(t, ctx2, "main"); !strings.Contains(got, "Birch House") || strings.Contains(got, "Maple Court") {
		t.Fatalf("the second manager's buildings: %q", got)
	}
	paths := []string{"", "/units", "/doors", "/doors/events", "/carriers"}
	for i, p := range paths {
		if err := chromedp.Do(ctx2, chromedp.Navigate(base+"/console/buildings/"+bid+p)); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx2, "main"); !strings.Contains(got, "Not found") || strings.Contains(got, "Maple") {
			t.Fatalf("the second manager at %s sees %q", p, got)
		}
		if i == 0 {
			b.check(t, ctx2, "console-other-manager-not-found")
		}
	}
	b1 := "/console/buildings/" + bid
	posts := []string{b1, b1 + "/units", b1 + "/units/import/confirm", b1 + "/residents", b1 + "/doors",
		b1 + "/doors/" + d.State.DoorID + "/lockdown", b1 + "/doors/" + d.State.DoorID + "/enrollments",
		b1 + "/carriers", b1 + "/carriers/" + d.State.CarrierIDs["pp-alice"] + "/disallow", b1 + "/hours"}
	for _, p := range posts {
		status, err := chromedp.Run(ctx2, chromedp.Evaluate[int](`fetch(`+"`"+p+"`"+`, {method: "POST", body: new URLSearchParams({on: "0", name: "x", label: "x", address: "x", timezone: "UTC"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if err != nil || status != 404 {
			t.Errorf("the second manager's POST %s: %d %v", p, status, err)
		}
	}
	door, err := services.Buildings.Door(sys, bid, d.State.DoorID)
	if err != nil || !door.LockedDown {
		t.Fatalf("the second manager lifted the lockdown: %+v %v", door, err)
	}
}

// TestBrowserConsoleTOTP: the demo's manager turns sign-in codes on with
// the secret the account page shows; signing in then asks for a code on
// a second page, refuses a wrong one, and takes the right one; signing
// out everywhere ends the session.
func TestBrowserConsoleTOTP(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	ctx := b.user(t)
	signInManager(t, ctx, base, DemoManagerEmail, DemoManagerPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/console/account")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#start-totp")
	secret := strings.TrimSpace(text(t, ctx, "#totp-secret"))
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The code of the step before: the one after it stays unused for the
	// sign-in below.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("confirm-code"), code(time.Now().Add(-30*time.Second)))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#confirm-totp")
	if got := text(t, ctx, "#totp-state"); got != "On" {
		t.Fatalf("after confirming: %q", got)
	}
	b.check(t, ctx, "console-account-totp-on")

	ctx2 := b.user(t)
	signInManager(t, ctx2, base, DemoManagerEmail, DemoManagerPassword)
	if got := text(t, ctx2, "h1"); got != "Enter your sign-in code" {
		t.Fatalf("after the password: %q", got)
	}
	b.check(t, ctx2, "console-signin-code")
	if err := chromedp.Do(ctx2, chromedp.SendKeys(chromedp.ID("code"), "000000")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx2, "main form button[type=submit]")
	if got := text(t, ctx2, ".error"); !strings.Contains(got, "not right") {
		t.Fatalf("a wrong code: %q", got)
	}
	b.check(t, ctx2, "console-signin-code-error")
	if err := chromedp.Do(ctx2, chromedp.Navigate(base+"/console")); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx2, "h1"); got != "Sign in to the console" {
		t.Fatalf("the password alone opened the console: %q", got)
	}
	signInManager(t, ctx2, base, DemoManagerEmail, DemoManagerPassword)
	if err := chromedp.Do(ctx2, chromedp.SendKeys(chromedp.ID("code"), code(time.Now()))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx2, "main form button[type=submit]")
	if got := text(t, ctx2, "main"); !strings.Contains(got, "Maple Court") {
		t.Fatalf("after the right code: %q", got)
	}

	// Sign out everywhere from the first browser: the second is out too.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/console/account")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.confirm = () => true`)); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#signout-everywhere")
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "signed out everywhere") {
		t.Fatalf("after signing out everywhere: %q", got)
	}
	b.check(t, ctx, "console-signed-out-everywhere")
	if err := chromedp.Do(ctx2, chromedp.Navigate(base+"/console"), chromedp.WaitVisible(chromedp.ID("email"))); err != nil {
		t.Fatalf("the other browser is still signed in: %v", err)
	}
}
