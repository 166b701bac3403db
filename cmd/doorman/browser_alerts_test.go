package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAlerts: the demo building's manager opens the Alerts tab,
// turns one kind of alert off, is told a malformed number with the form
// kept as typed, and saves; every state of the page passes the
// accessibility checks.
func TestBrowserAlerts(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	ctx := b.user(t)
	signInManager(t, ctx, base, DemoManagerEmail, DemoManagerPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/console/buildings/"+d.State.BuildingID+"/alerts")); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "main"); !strings.Contains(got, "Door forced open") || !strings.Contains(got, "Keep personal data") {
		t.Fatalf("alerts page:\n%s", got)
	}
	b.check(t, ctx, "console-alerts")
	noSideScroll(t, ctx, "console-alerts")

	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector("#on_door_held_open").checked = false`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("offline_minutes"), "ten")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#alerts-save")
	if got := text(t, ctx, "#alerts-error"); !strings.Contains(got, "whole number") {
		t.Fatalf("a malformed number: %q", got)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#on_door_held_open").checked`)); v {
		t.Fatal("the form lost the switch turned off")
	}
	b.check(t, ctx, "console-alerts-error")

	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("offline_minutes"), "20")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#alerts-save")
	if got := text(t, ctx, ".notice"); !strings.Contains(got, "saved") {
		t.Fatalf("after saving: %q", got)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#offline_minutes").value`)); v != "20" {
		t.Fatalf("offline minutes after saving: %q", v)
	}
	b.check(t, ctx, "console-alerts-saved")
}
