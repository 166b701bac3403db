package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserOperator: the operator signs in with the operator token,
// creates a carrier and an API key that is shown once (and works as a
// bearer token), creates a building, invites a manager whose invitation
// is accepted in another browser (once only), and that manager signs in
// to the console and sees the building; the platform audit lists it all.
func TestBrowserOperator(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	op := b.user(t)

	if err := chromedp.Do(op, chromedp.Navigate(base+"/operator/signin")); err != nil {
		t.Fatal(err)
	}
	b.check(t, op, "operator-signin")
	if err := chromedp.Do(op, chromedp.SendKeys(chromedp.ID("token"), "dmo_not-the-token")); err != nil {
		t.Fatal(err)
	}
	submit(t, op, "main form button[type=submit]")
	if got := text(t, op, ".error"); !strings.Contains(got, "not valid") {
		t.Fatalf("a wrong token told %q", got)
	}
	if err := chromedp.Do(op, chromedp.SendKeys(chromedp.ID("token"), d.Operator)); err != nil {
		t.Fatal(err)
	}
	submit(t, op, "main form button[type=submit]")
	if got := text(t, op, "main"); !strings.Contains(got, "ParcelPost") || !strings.Contains(got, "Maple Court") {
		t.Fatalf("operator home shows %q", got)
	}
	b.check(t, op, "operator-home")
	noSideScroll(t, op, "operator-home")

	// A carrier and its API key, shown once.
	if err := chromedp.Do(op, chromedp.SendKeys(chromedp.ID("carrier-name"), "Northwind Parcels")); err != nil {
		t.Fatal(err)
	}
	submit(t, op, "#create-carrier")
	if got := text(t, op, "h1"); got != "Northwind Parcels" {
		t.Fatalf("after creating a carrier: %q", got)
	}
	if err := chromedp.Do(op, chromedp.SendKeys(chromedp.ID("key-name"), "dispatch system")); err != nil {
		t.Fatal(err)
	}
	submit(t, op, "#create-key")
	key := strings.TrimSpace(text(t, op, "#new-key-token"))
	if !strings.HasPrefix(key, "dmk_") {
		t.Fatalf("new key shown as %q", key)
	}
	b.check(t, op, "operator-carrier-key")
	noSideScroll(t, op, "operator-carrier-key")
	p, err := d.Main.App.Credentials.Authenticate(t.Context(), key)
	if err != nil || p.Role != "carrier" {
		t.Fatalf("the shown key does not authenticate: %v %+v", err, p)
	}
	// Reloading the carrier's page does not show it again.
	if err := chromedp.Do(op, chromedp.Navigate(base+"/operator/carriers/"+p.CarrierID)); err != nil {
		t.Fatal(err)
	}
	if page := text(t, op, "main"); strings.Contains(page, key) || !strings.Contains(page, "dispatch system") {
		t.Fatalf("the carrier's page after creating a key:\n%s", page)
	}

	// A building and an invitation for its manager.
	if err := chromedp.Do(op, chromedp.Navigate(base+"/operator"),
		chromedp.SendKeys(chromedp.ID("building-name"), "Cedar Yard"),
		chromedp.SendKeys(chromedp.ID("building-address"), "9 Dock Road, Springfield"),
		chromedp.SendKeys(chromedp.ID("building-timezone"), "Europe/Berlin"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, op, "#create-building")
	if got := text(t, op, "h1"); got != "Cedar Yard" {
		t.Fatalf("after creating a building: %q", got)
	}
	const email, pw = "lena@cedar-yard.example", "cedar yard manager pw"
	if err := chromedp.Do(op, chromedp.SendKeys(chromedp.ID("invite-email"), email)); err != nil {
		t.Fatal(err)
	}
	submit(t, op, "#create-invite")
	link := strings.TrimSpace(text(t, op, "#invite-link"))
	if !strings.HasPrefix(link, base+"/console/invite?t=dmi_") {
		t.Fatalf("invitation link %q", link)
	}
	b.check(t, op, "operator-building-invite")

	invitee := b.user(t)
	if err := chromedp.Do(invitee, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	b.check(t, invitee, "console-invite")
	if err := chromedp.Do(invitee,
		chromedp.SendKeys(chromedp.ID("name"), "Lena Berg"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.SendKeys(chromedp.ID("password2"), pw),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, invitee, "#accept")
	if got := text(t, invitee, ".notice"); !strings.Contains(got, "Invitation accepted") {
		t.Fatalf("after accepting: %q", got)
	}
	// The link works once.
	if err := chromedp.Do(invitee, chromedp.Navigate(link),
		chromedp.SendKeys(chromedp.ID("name"), "Mallory"),
		chromedp.SendKeys(chromedp.ID("password"), "another password 1"),
		chromedp.SendKeys(chromedp.ID("password2"), "another password 1"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, invitee, "#accept")
	if got := text(t, invitee, ".error"); !strings.Contains(got, "does not work") {
		t.Fatalf("a used invitation told %q", got)
	}
	b.check(t, invitee, "console-invite-used")
	signInManager(t, invitee, base, email, pw)
	if got := text(t, invitee, "main"); !strings.Contains(got, "Cedar Yard") || strings.Contains(got, "Maple Court") {
		t.Fatalf("the new manager's console shows %q", got)
	}

	if err := chromedp.Do(op, chromedp.Navigate(base+"/operator/audit")); err != nil {
		t.Fatal(err)
	}
	if got := text(t, op, "main"); !strings.Contains(got, "manager.joined") || !strings.Contains(got, "api_key.created") {
		t.Fatalf("platform audit shows %q", got)
	}
	b.check(t, op, "operator-audit")
	noSideScroll(t, op, "operator-audit")

	// Signing out ends the browser's session, not the operator token.
	submit(t, op, "form.signout button")
	if _, err := d.Main.App.Credentials.Authenticate(t.Context(), d.Operator); err != nil {
		t.Fatalf("signing out revoked the operator token: %v", err)
	}
	if err := chromedp.Do(op, chromedp.Navigate(base+"/operator"), chromedp.WaitVisible(chromedp.ID("token"))); err != nil {
		t.Fatalf("after signing out the operator pages must ask to sign in again: %v", err)
	}
}
