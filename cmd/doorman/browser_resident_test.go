package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/doorman-dev/doorman"
)

// TestBrowserResident: a courier opens the demo door; the demo's first
// resident asks for a magic link, follows it (a page with a Continue
// button, so that mail scanners do not use it up), sees the parcel for
// their unit and the entry (carrier and time, never the courier), gets
// the entry's inclusion proof and the building's checkpoint, saves
// preferences, and deletes their data: afterwards their sessions and
// links no longer work. The manager's mail log shows the mail without
// the link.
func TestBrowserResident(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	sys := systemContext(context.Background())

	// Alice opens the front door with the parcel for unit 2B.
	res := api(t, base, "POST", "/v1/courier/access-requests", d.Tokens["pp-alice"],
		map[string]any{"door_id": d.State.DoorID, "tracking_numbers": []string{d.State.AllowedParcel}}, 200)
	if dec := res["decision"].(map[string]any); dec["allowed"] != true {
		t.Fatalf("the courier was refused: %v", dec)
	}

	ctx := b.user(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/resident")); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, ctx)
	if _, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("email"))); err != nil {
		t.Fatalf("the resident page without a session must ask to sign in: %v", err)
	}
	b.check(t, ctx, "resident-signin")

	// Asking for a link: one answer whether or not the email is known.
	answers := map[string]string{}
	for _, email := range []string{"nobody@example.org", DemoResidentEmail} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/resident/signin"), chromedp.SendKeys(chromedp.ID("email"), email)); err != nil {
			t.Fatal(err)
		}
		submit(t, ctx, "main form button[type=submit]")
		answers[email] = strings.ReplaceAll(text(t, ctx, "#link-sent"), email, "EMAIL")
	}
	if answers["nobody@example.org"] != answers[DemoResidentEmail] || !strings.Contains(answers[DemoResidentEmail], "sign-in link") {
		t.Fatalf("answers differ: %q", answers)
	}
	b.check(t, ctx, "resident-link-sent")

	// The link is in the outbox (the demo printed one before: take the newest).
	link := newestLink(t, d, DemoResidentEmail)
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, ctx)
	b.check(t, ctx, "resident-link")
	submit(t, ctx, "main form button[type=submit]")

	// Checkpoints are signed every second: wait for the one covering the entry.
	var page string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/resident")); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, ctx)
		page = text(t, ctx, "main")
		if strings.Contains(page, "Inclusion proof") || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{"Ana Ruiz", "unit 2B", d.State.AllowedParcel, "ParcelPost", "Out for delivery", "A courier was let in", "Front door", "Inclusion proof", "QuickShip"} {
		if !strings.Contains(page, want) {
			t.Errorf("the resident page lacks %q:\n%s", want, page)
		}
	}
	for _, never := range []string{"Alice", "pp-alice", d.State.CourierIDs["pp-alice"]} {
		if strings.Contains(page, never) {
			t.Errorf("the resident page names the courier (%q)", never)
		}
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err != nil || strings.Contains(html, d.State.CourierIDs["pp-alice"]) {
		t.Errorf("the page's markup names the courier: %v", err)
	}
	b.check(t, ctx, "resident-home")

	// The entry's proof and the building's checkpoint, as the browser gets them.
	proof, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`fetch(document.querySelector("a[href$='/proof']").href).then(r => r.json())`, chromedp.EvalAwaitPromise))
	if err != nil || proof["chain"] != d.State.BuildingID || proof["size"] == nil || proof["leaf_hash"] == nil {
		t.Fatalf("inclusion proof %v, %v", proof, err)
	}
	note, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector("a[href$='/checkpoint']").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(note, "doorman.audit/"+d.State.BuildingID) {
		t.Fatalf("checkpoint %q, %v", note, err)
	}
	other, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/resident/buildings/`+doorman.NewID(doorman.PrefixBuilding)+`/checkpoint").then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || other != 404 {
		t.Errorf("another building's checkpoint: %d, %v", other, err)
	}

	// Preferences.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("notify_entry"))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#preferences ~ form button[type=submit]")
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "preferences are saved") {
		t.Fatalf("after saving preferences: %q", got)
	}
	if on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("notify_entry").checked`)); err != nil || !on {
		t.Errorf("notify on entry not kept: %v", err)
	}

	// The manager's mail log shows the mail, not the link.
	mctx := b.user(t)
	signInManager(t, mctx, base, DemoManagerEmail, DemoManagerPassword)
	if err := chromedp.Do(mctx, chromedp.Navigate(base+"/console/buildings/"+d.State.BuildingID+"/mail")); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, mctx)
	if got := text(t, mctx, "main"); !strings.Contains(got, DemoResidentEmail) || !strings.Contains(got, "Your sign-in link for Maple Court") {
		t.Fatalf("the mail log shows %q", got)
	}
	if html, err := chromedp.Run(mctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err != nil ||
		strings.Contains(html, doorman.TokenResidentLink) || !strings.Contains(html, "[sign-in link hidden]") {
		t.Errorf("the mail log shows a sign-in link: %v", err)
	}
	b.check(t, mctx, "console-mail")

	// A second browser of the resident, and a link not used yet.
	second := b.user(t)
	link2, err := d.Main.App.Residents.CreateLink(sys, DemoResidentEmail, base)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(second, chromedp.Navigate(link2)); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, second)
	submit(t, second, "main form button[type=submit]")
	if got := text(t, second, "h1"); !strings.Contains(got, "Ana Ruiz") {
		t.Fatalf("second browser: %q", got)
	}
	unused, err := d.Main.App.Residents.CreateLink(sys, DemoResidentEmail, base)
	if err != nil {
		t.Fatal(err)
	}

	// Delete my data.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/resident/delete")); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, ctx)
	if got := text(t, ctx, "main"); !strings.Contains(got, "What is kept, and why") {
		t.Fatalf("delete page: %q", got)
	}
	b.check(t, ctx, "resident-delete")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("confirm"))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "main form button.danger")
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "data is deleted") {
		t.Fatalf("after deleting: %q", got)
	}
	b.check(t, ctx, "resident-deleted")

	// Afterwards: no session in either browser, no link works.
	for name, c := range map[string]context.Context{"this browser": ctx, "the other browser": second} {
		if err := chromedp.Do(c, chromedp.Navigate(base+"/resident")); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, c)
		if got := text(t, c, "main"); strings.Contains(got, "Ana Ruiz") || strings.Contains(got, "2B") {
			t.Errorf("%s still shows the resident page: %q", name, got)
		}
	}
	for _, l := range []string{link, unused} {
		if err := chromedp.Do(ctx, chromedp.Navigate(l)); err != nil {
			t.Fatal(err)
		}
		waitNewPage(t, ctx)
		submit(t, ctx, "main form button[type=submit]")
		if got := text(t, ctx, "main"); !strings.Contains(got, "does not work") {
			t.Errorf("a link after deletion: %q", got)
		}
	}
	b.check(t, ctx, "resident-link-refused")
	for _, m := range queuedMail(t, d) {
		if m.Target == DemoResidentEmail {
			t.Errorf("mail to the deleted resident kept: %s", m.Subject)
		}
	}
}

// queuedMail is the demo's outbox.
func queuedMail(t *testing.T, d *Demo) []*doorman.Message {
	t.Helper()
	mail, err := d.Main.App.Residents.OutboxMail(systemContext(context.Background()), 500)
	if err != nil {
		t.Fatal(err)
	}
	return mail
}

// newestLink is the magic link in the newest mail to email.
func newestLink(t *testing.T, d *Demo, email string) string {
	t.Helper()
	mail := queuedMail(t, d)
	for i := len(mail) - 1; i >= 0; i-- {
		if mail[i].Target != email {
			continue
		}
		body := mail[i].Text
		if at := strings.Index(body, d.Main.URL()+"/resident/link?t="); at >= 0 {
			return strings.Fields(body[at:])[0]
		}
	}
	t.Fatalf("no magic link mailed to %s", email)
	return ""
}
