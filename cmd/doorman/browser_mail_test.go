package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/doorman-dev/doorman"
)

// TestBrowserMail: the console's mail page with a dead message and its
// Retry button, and the unsubscribe page a mail's link opens, confirmed
// by hand (no script), each checked for accessibility.
func TestBrowserMail(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	sys := systemContext(context.Background())
	residents, err := d.Main.Store.ResidentsByEmail(sys, DemoResidentEmail)
	if err != nil || len(residents) == 0 {
		t.Fatalf("the demo resident: %v", err)
	}
	r := residents[0]
	dead := &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: d.State.BuildingID, Target: "nobody@example.org",
		Kind: "test.dead", Subject: "A message that failed"}
	if err := d.Main.Store.EnqueueMessage(sys, dead); err != nil {
		t.Fatal(err)
	}
	if err := d.Main.Store.MarkMessageFailed(sys, dead.ID, "550 no such user", nil); err != nil {
		t.Fatal(err)
	}

	mctx := b.user(t)
	signInManager(t, mctx, base, DemoManagerEmail, DemoManagerPassword)
	if err := chromedp.Do(mctx, chromedp.Navigate(base+"/console/buildings/"+d.State.BuildingID+"/mail")); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, mctx)
	if got := text(t, mctx, "main"); !strings.Contains(got, "550 no such user") ||
		!strings.Contains(got, "No SMTP server is configured") {
		t.Fatalf("the mail page shows %q", got)
	}
	b.check(t, mctx, "console-mail-dead")
	submit(t, mctx, `main form button[type=submit]`)
	if got := text(t, mctx, ".notice"); !strings.Contains(got, "queued again") {
		t.Fatalf("after retry: %q", got)
	}

	tok, err := d.Main.App.Outbox.UnsubscribeToken(sys, &doorman.Message{ResidentID: r.ID, Kind: "delivery.notice"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := b.user(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/unsubscribe?t="+url.QueryEscape(tok))); err != nil {
		t.Fatal(err)
	}
	waitNewPage(t, ctx)
	b.check(t, ctx, "unsubscribe")
	submit(t, ctx, "#unsubscribe")
	if got := text(t, ctx, "#unsubscribed"); !strings.Contains(got, "delivery notices") {
		t.Fatalf("after unsubscribing: %q", got)
	}
	b.check(t, ctx, "unsubscribed")
	if p, err := d.Main.Store.ResidentPreferences(sys, r.ID); err != nil || p.NotifyDelivery {
		t.Fatalf("preferences after unsubscribing: %+v %v", p, err)
	}
}
