package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/internal/mailpit"
	"github.com/doorman-dev/doorman/webhook"
)

// TestNotificationsEndToEnd: the demo with a real SMTP server (mailpit)
// and a real webhook receiver. Each kind of notification, caused the way
// people cause it, arrives: residents are told before a carrier is let
// in (and the carrier's couriers only then get in), the unit's resident
// is told of a delivery with where it was left (never by whom), the
// manager is told of a forced door, and the building's webhook endpoint
// receives the entry, signed.
func TestNotificationsEndToEnd(t *testing.T) {
	mp := mailpit.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Mail.SMTPURL, cfg.Mail.From, cfg.Mail.Interval = "smtp://"+mp.SMTP, "Doorman <doorman@maple-court.example>", 100*time.Millisecond
	cfg.WebhookAllowLoopback = true
	d, err := StartDemo(ctx, cfg, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	base, st := d.Main.URL(), d.State

	var mu sync.Mutex
	var calls []*http.Request
	var bodies [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls, bodies = append(calls, r), append(bodies, b)
		mu.Unlock()
	}))
	defer recv.Close()
	hook := api(t, base, "POST", "/v1/buildings/"+st.BuildingID+"/webhooks", d.Operator, map[string]any{
		"url": recv.URL + "/doorman", "event_types": []string{doorman.WebhookAccessGranted}}, 201)
	secret, _ := hook["secret"].(string)

	// mailArrived reports whether a mail to addr whose subject or text
	// has every one of want has arrived.
	mailArrived := func(addr string, want ...string) bool {
		t.Helper()
		list, err := mp.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			if len(s.To) == 0 || !strings.EqualFold(s.To[0].Address, addr) {
				continue
			}
			m, err := mp.Message(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(s.Subject+"\n"+m.Text, w)
			}
			if ok {
				return true
			}
		}
		return false
	}
	// mailTo waits for a mail to addr whose subject or text has every one
	// of want.
	mailTo := func(addr string, want ...string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if mailArrived(addr, want...) {
				return
			}
		}
		list, _ := mp.Messages(ctx)
		for _, s := range list {
			t.Logf("mail: %v %q", s.To, s.Subject)
		}
		entries, _, _ := d.Main.App.Audit.List(systemContext(ctx), app.AuditQuery{}, doorman.Page{Limit: 10})
		for _, e := range entries {
			t.Logf("audit: %s %s %s", e.Action, e.Reason, e.Detail)
		}
		t.Fatalf("no mail to %s saying %q", addr, want)
	}

	// LocalRunners is newly allowed at Maple Court: every resident is told
	// who may enter, and Carol gets in once the notices are queued (the
	// demo's notice period is 0).
	carol := d.Tokens["lr-carol"]
	api(t, base, "PUT", "/v1/buildings/"+st.BuildingID+"/carriers/"+st.CarrierIDs["lr-carol"], d.Operator, nil, 204)
	for _, r := range []string{"resident1@example.org", "resident2@example.org", "resident3@example.org"} {
		mailTo(r, "LocalRunners")
	}
	var decision map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		res := api(t, base, "POST", "/v1/courier/access-requests", carol, map[string]any{"door_id": st.DoorID, "tracking_numbers": []string{"LR5000000001"}}, 200)
		if decision = res["decision"].(map[string]any); decision["reason"] != doorman.ReasonCarrierPendingNotice {
			break
		}
	}
	if decision["reason"] != "parcel_not_for_building" {
		t.Fatalf("Carol after the notices: %v (her parcel is for the other building; the door is now hers to ask)", decision)
	}

	// The door is pushed open with no unlock: the manager is told; left
	// open past the door's held-open time (the agent's default, a
	// minute), the manager is told again.
	d.Relay.SetOpen(true)
	mailTo(DemoManagerEmail, "forced")
	heldDeadline := time.Now().Add(agent.DefaultHeldOpen + 30*time.Second)
	for !mailArrived(DemoManagerEmail, "Door held open") {
		if time.Now().After(heldDeadline) {
			t.Fatal("no held-open alert")
		}
		time.Sleep(500 * time.Millisecond)
	}
	d.Relay.SetOpen(false)

	// Alice opens the door and leaves PP1000000001 for unit 2B, where
	// resident1 lives: told of the delivery and where it was left, never
	// by whom.
	res := api(t, base, "POST", "/v1/courier/access-requests", d.Tokens["pp-alice"], map[string]any{"door_id": st.DoorID, "tracking_numbers": []string{st.AllowedParcel}}, 200)
	if res["decision"].(map[string]any)["allowed"] != true {
		t.Fatalf("Alice was refused: %v", res)
	}
	api(t, base, "POST", "/v1/courier/parcels/"+st.AllowedParcel+"/delivery", d.Tokens["pp-alice"], map[string]any{"note": "with the concierge"}, 200)
	mailTo("resident1@example.org", st.AllowedParcel, "with the concierge")
	if mailArrived("resident1@example.org", "Alice") || mailArrived("resident1@example.org", "Martin") {
		t.Fatal("a mail to the resident names the courier")
	}

	// Ana (resident1, unit 2B) registers a return for ParcelPost; Alice
	// collects it: Ana is told.
	sys := systemContext(ctx)
	residents, _, err := d.Main.App.Buildings.ListResidents(sys, st.BuildingID, doorman.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var ana *doorman.Resident
	for _, r := range residents {
		if r.Email == "resident1@example.org" {
			ana = r
		}
	}
	anaCtx := doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleResident, SubjectID: ana.ID})
	if _, err := d.Main.App.Returns.Register(anaCtx, app.ReturnInput{CarrierID: st.CarrierIDs["pp-alice"], TrackingNumber: "RET0000001", Place: "lobby"}); err != nil {
		t.Fatal(err)
	}
	api(t, base, "POST", "/v1/courier/returns/RET0000001/collection", d.Tokens["pp-alice"], nil, 200)
	mailTo("resident1@example.org", "RET0000001", "collected")

	// The manager narrows the delivery hours (nobody is told), then widens
	// them: every resident is told the new hours.
	narrow := map[string]any{"start": "09:00", "end": "12:00"}
	wide := map[string]any{"start": "07:00", "end": "21:00"}
	week := func(w map[string]any) map[string]any {
		return map[string]any{"monday": []any{w}, "tuesday": []any{w}, "wednesday": []any{w}, "thursday": []any{w},
			"friday": []any{w}, "saturday": []any{w}, "sunday": []any{w}}
	}
	api(t, base, "PATCH", "/v1/buildings/"+st.BuildingID, d.Operator, map[string]any{"delivery_hours": week(narrow)}, 200)
	api(t, base, "PATCH", "/v1/buildings/"+st.BuildingID, d.Operator, map[string]any{"delivery_hours": week(wide)}, 200)
	for _, r := range []string{"resident1@example.org", "resident2@example.org", "resident3@example.org"} {
		mailTo(r, "21:00")
	}

	// The alerts and reminders sweeps cause: a door whose device was last
	// heard 20 minutes ago is offline; a return registered 8 days ago is
	// overdue (its resident and the manager are told); Alice refused five
	// times within ten minutes is possible abuse; an audit entry edited in
	// the database breaks the chain. The sweeps run periodically in
	// serve; here they are called once.
	db := d.Main.Store.(interface{ DB() *sql.DB }).DB()
	if _, err := d.Main.App.Returns.Register(anaCtx, app.ReturnInput{CarrierID: st.CarrierIDs["pp-alice"], TrackingNumber: "RET0000002", Place: "mailroom"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE returns SET created_at = created_at - $1 WHERE tracking_number = 'RET0000002'`, (8 * 24 * time.Hour).Microseconds()); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Main.App.Returns.SweepOverdue(sys); err != nil || n != 1 {
		t.Fatalf("overdue sweep: %d, %v", n, err)
	}
	mailTo("resident1@example.org", "Return not collected", "RET0000002")
	mailTo(DemoManagerEmail, "Return not collected", "RET0000002")

	for range doorman.DenialAlertThreshold {
		res := api(t, base, "POST", "/v1/courier/access-requests", d.Tokens["pp-alice"], map[string]any{"door_id": st.DoorID, "tracking_numbers": []string{st.OtherBuildingPar}}, 200)
		if res["decision"].(map[string]any)["allowed"] != false {
			t.Fatalf("Alice with another building's parcel: %v", res)
		}
	}
	mailTo(DemoManagerEmail, "Repeated denials of one courier")

	if _, err := db.Exec(`UPDATE doors SET last_seen_at = last_seen_at - $1 WHERE id = $2`, (20 * time.Minute).Microseconds(), st.DoorID); err != nil {
		t.Fatal(err)
	}
	if offline, _, err := d.Main.App.Alerts.SweepDoors(sys); err != nil || offline != 1 {
		t.Fatalf("door sweep: %d offline, %v", offline, err)
	}
	mailTo(DemoManagerEmail, "Door offline")

	if _, err := db.Exec(`UPDATE audit_entries SET detail = 'rewritten' WHERE chain = $1 AND action = $2`, st.BuildingID, doorman.ActionCarrierAllowed); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Main.App.Alerts.CheckChains(sys); err != nil || n != 1 {
		t.Fatalf("chain check: %d broken, %v", n, err)
	}
	mailTo(DemoManagerEmail, "Audit log no longer verifies")

	// The building's endpoint got Alice's entry, signed with its secret.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		n := len(calls)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no webhook call")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	r, body := calls[0], bodies[0]
	var ts int64
	json.Unmarshal([]byte(r.Header.Get("webhook-timestamp")), &ts)
	sig, err := webhook.Signature(secret, r.Header.Get("webhook-id"), ts, body)
	if err != nil || r.Header.Get("webhook-signature") != sig {
		t.Fatalf("webhook signature %q, want %q (%v)", r.Header.Get("webhook-signature"), sig, err)
	}
	if !strings.Contains(string(body), doorman.WebhookAccessGranted) || strings.Contains(string(body), "courier_id") {
		t.Fatalf("webhook body: %s", body)
	}
}
