package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserWebhooks: the demo building's manager adds a webhook endpoint
// in the console, sees its secret once, and then the endpoint listed
// without it; every page passes the accessibility checks.
func TestBrowserWebhooks(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	page := base + "/console/buildings/" + d.State.BuildingID + "/webhooks"

	manager := b.user(t)
	signInManager(t, manager, base, DemoManagerEmail, DemoManagerPassword)
	if err := chromedp.Do(manager, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, manager, "main"); !strings.Contains(got, "No webhook endpoint yet") {
		t.Fatalf("webhooks page:\n%s", got)
	}
	b.check(t, manager, "console-webhooks-empty")
	noSideScroll(t, manager, "console-webhooks-empty")

	if err := chromedp.Do(manager, chromedp.SendKeys(chromedp.ID("wh-url"), "https://93.184.216.34/doorman")); err != nil {
		t.Fatal(err)
	}
	submit(t, manager, "#webhook-add")
	secret := text(t, manager, "#webhook-secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown: %q", secret)
	}
	b.check(t, manager, "console-webhook-secret")
	noSideScroll(t, manager, "console-webhook-secret")

	if err := chromedp.Do(manager, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	got := text(t, manager, "main")
	if !strings.Contains(got, "https://93.184.216.34/doorman") || strings.Contains(got, secret) || !strings.Contains(got, "No calls yet") {
		t.Fatalf("webhooks page after adding:\n%s", got)
	}
	b.check(t, manager, "console-webhooks")
	noSideScroll(t, manager, "console-webhooks")
}
