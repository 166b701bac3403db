package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserInsight: a courier is let in once and refused once through
// the API; the demo's manager sees both on the activity page, and a third
// request arrives there live, without a reload. The audit log says the
// chain verifies, filters, exports CSV and hands out an entry's proof;
// the charts page draws its charts as SVG with the numbers as tables.
func TestBrowserInsight(t *testing.T) {
	b := newBrowser(t)
	d := startBrowserDemo(t)
	base := d.Main.URL()
	building := "/console/buildings/" + d.State.BuildingID
	courier := d.Tokens["pp-alice"]
	ask := func(parcel string) map[string]any {
		res := api(t, base, "POST", "/v1/courier/access-requests", courier,
			map[string]any{"door_id": d.State.DoorID, "tracking_numbers": []string{parcel}}, 200)
		return res["decision"].(map[string]any)
	}
	// The door opens once its device is online.
	var decision map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if decision = ask(d.State.AllowedParcel); decision["reason"] != "door_offline" {
			break
		}
	}
	if decision["allowed"] != true {
		t.Fatalf("the demo courier was refused: %v", decision)
	}
	// The courier leaves the parcel: its delivery time is charted.
	api(t, base, "POST", "/v1/courier/parcels/"+d.State.AllowedParcel+"/delivery", courier, nil, 200)
	if decision = ask(d.State.OtherBuildingPar); decision["reason"] != "parcel_not_for_building" {
		t.Fatalf("a parcel for another building: %v", decision)
	}

	ctx := b.user(t)
	signInManager(t, ctx, base, DemoManagerEmail, DemoManagerPassword)

	// Activity: both requests, newest first; then a live one.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+building+"/activity")); err != nil {
		t.Fatal(err)
	}
	activity := text(t, ctx, "#activity tbody")
	if !strings.Contains(activity, "Access granted") || !strings.Contains(activity, "Parcel not for building") {
		t.Fatalf("the activity page shows:\n%s", activity)
	}
	waitFor(t, ctx, "the live feed", `document.querySelector("[data-sse-state]").textContent === "Live"`)
	b.check(t, ctx, "console-activity")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__samePage = true`)); err != nil {
		t.Fatal(err)
	}
	if decision = ask("NOT-A-PARCEL-42"); decision["reason"] != "unknown_parcel" {
		t.Fatalf("an unknown parcel: %v", decision)
	}
	waitFor(t, ctx, "the new entry to arrive live",
		`document.querySelector("#activity tbody tr").textContent.includes("Unknown parcel") && window.__samePage === true`)

	// Audit log: verified, with a checkpoint and proofs (checkpoints are
	// signed every second).
	var audit string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+building+"/audit")); err != nil {
			t.Fatal(err)
		}
		audit = text(t, ctx, "main")
		if strings.Contains(audit, "Download the checkpoint") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(audit, "verified") || strings.Contains(audit, "Not verified") || !strings.Contains(audit, "Download the checkpoint") {
		t.Fatalf("the audit page shows:\n%s", audit)
	}
	b.check(t, ctx, "console-audit")

	// The filters: refusals for a reason.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("f-action"), "access.denied"),
		chromedp.SetValue(chromedp.ID("f-reason"), "unknown_parcel")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, ".insight-filters button[type=submit]")
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#audit tbody tr")].map(r => r.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || !strings.Contains(rows[0], "Access denied") || !strings.Contains(rows[0], "Unknown parcel") {
		t.Fatalf("filtered rows: %q", rows)
	}
	b.check(t, ctx, "console-audit-filtered")

	// The export and a proof, fetched with the browser's session.
	session := sessionCookie(t, ctx, base)
	res := fetch(t, base+building+"/audit.csv", session)
	records, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || len(records) < 4 || records[0][0] != "at" {
		t.Fatalf("the CSV export: %v, %v", err, records)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#audit a[href$='/proof']") || {}).href || ""`))
	if err != nil || href == "" {
		t.Fatalf("no proof link on the filtered page: %v", err)
	}
	res = fetch(t, href, session)
	var proof struct {
		LeafHash []byte   `json:"leaf_hash"`
		Hashes   [][]byte `json:"hashes"`
		Size     uint64   `json:"size"`
	}
	if err := json.NewDecoder(res.Body).Decode(&proof); err != nil || len(proof.LeafHash) != 32 || proof.Size == 0 {
		t.Fatalf("the proof: %v, %+v", err, proof)
	}
	res.Body.Close()

	// Charts: three SVG images, each named, with its numbers as a table.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+building+"/charts")); err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("svg[role=img]")].map(s => document.getElementById(s.getAttribute("aria-labelledby").split(" ")[0]).textContent)`))
	if err != nil || len(charts) != 3 {
		t.Fatalf("charts %q: %v", charts, err)
	}
	if all, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").textContent`)); !strings.Contains(all, "Parcel not for building") {
		t.Fatalf("the refusals chart does not name the refusal:\n%s", all)
	}
	if !strings.Contains(text(t, ctx, "main"), "1 delivery measured") {
		t.Fatalf("the delivery just made is not measured:\n%s", text(t, ctx, "main"))
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("details table").length`)); n != 3 {
		t.Fatalf("%d data tables under the charts, want 3", n)
	}
	b.check(t, ctx, "console-charts")
}

// waitFor waits until the expression is true in the tab.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
}

// sessionCookie reads the tab's session cookie (HttpOnly, so not from
// the page's script).
func sessionCookie(t *testing.T, ctx context.Context, base string) *http.Cookie {
	t.Helper()
	res, err := chromedp.Run(ctx, func(ctx context.Context, tgt *chromedp.Target) (*network.GetCookiesResult, error) {
		r, err := cdp.Call(ctx, tgt, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
		return &r, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == "__Host-doorman-session" {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatal("no session cookie in the browser")
	return nil
}

// fetch GETs url with the cookie, failing unless it answers 200.
func fetch(t *testing.T, url string, c *http.Cookie) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.AddCookie(c)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("GET %s: %d\n%s", url, res.StatusCode, body)
	}
	return res
}
