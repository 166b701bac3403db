package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serving opens m and serves it until the test ends.
func serving(t *testing.T, m *Main) {
	t.Helper()
	mustStart(t, m)
	done := make(chan error, 1)
	go func() { done <- m.Serve() }()
	t.Cleanup(func() {
		m.Close(context.Background())
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// get fetches url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// TestPublicURL checks that --public-url becomes the served OpenAPI
// document's server, and that serve refuses one that is not an absolute
// http(s) URL before opening anything.
func TestPublicURL(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := DefaultConfig()
	cfg.httpFlags(fs)
	t.Setenv("DOORMAN_PUBLIC_URL", "https://doorman.example")
	if err := parseFlags(fs, nil); err != nil || cfg.PublicURL != "https://doorman.example" {
		t.Fatalf("DOORMAN_PUBLIC_URL: %q, %v", cfg.PublicURL, err)
	}

	m := node(t, t.TempDir(), "")
	m.Config.PublicURL = "https://doorman.example/api/"
	serving(t, m)
	status, body := get(t, m.URL()+"/v1/openapi.json")
	var doc struct {
		Servers []struct{ URL string } `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &doc); status != 200 || err != nil {
		t.Fatalf("status %d, %v: %s", status, err, body)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://doorman.example/api" {
		t.Fatalf("servers %+v", doc.Servers)
	}

	for _, bad := range []string{"doorman.example", "ftp://doorman.example", "https://", "https://doorman.example/?x=1", "https://doorman.example/#top", "https://u:p@doorman.example"} {
		m := node(t, t.TempDir(), "")
		m.Config.PublicURL = bad
		err := m.Open(context.Background())
		m.Close(context.Background())
		if err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("public URL %q: error %v", bad, err)
		}
		if m.Store != nil {
			t.Errorf("public URL %q: the store was opened", bad)
		}
	}
}

// TestMetricsListener checks that Prometheus metrics are served on
// --metrics-addr only, from the one registry the API's HTTP metrics and the
// Go runtime's (and the access service's) are in, and that the API does not
// serve them; without the flag there is no metrics listener.
func TestMetricsListener(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := DefaultConfig()
	cfg.httpFlags(fs)
	if cfg.MetricsAddr != "" {
		t.Fatalf("metrics listener on by default: %q", cfg.MetricsAddr)
	}
	t.Setenv("DOORMAN_METRICS_ADDR", "127.0.0.1:9999")
	if err := parseFlags(fs, []string{"--metrics-addr", "127.0.0.1:0"}); err != nil || cfg.MetricsAddr != "127.0.0.1:0" {
		t.Fatalf("--metrics-addr: %q, %v", cfg.MetricsAddr, err)
	}

	m := node(t, t.TempDir(), "")
	m.Config.MetricsAddr = "127.0.0.1:0"
	serving(t, m)
	if status, body := get(t, m.URL()+"/metrics"); status != http.StatusNotFound {
		t.Fatalf("the API serves /metrics: %d %s", status, body)
	}
	if status, _ := get(t, m.URL()+"/healthz"); status != http.StatusOK {
		t.Fatalf("/healthz: %d", status)
	}
	if m.MetricsURL() == "" || m.MetricsURL() == m.URL() {
		t.Fatalf("metrics URL %q, API %q", m.MetricsURL(), m.URL())
	}
	status, body := get(t, m.MetricsURL()+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("metrics listener: %d %s", status, body)
	}
	for _, want := range []string{
		`doorman_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1`,
		`go_goroutines`,
		`doorman_bus_unverified_acks_total 0`,
		// The device event service's backlog.
		`doorman_device_events_pending 0`,
		`doorman_device_events_busy_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if status, _ := get(t, m.MetricsURL()+"/v1/openapi.json"); status != http.StatusNotFound {
		t.Errorf("the metrics listener serves the API: %d", status)
	}
	// The runtime's profiles are on the metrics listener, not the API.
	if status, body := get(t, m.MetricsURL()+"/debug/pprof/goroutine?debug=1"); status != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("metrics listener's goroutine profile: %d %.80s", status, body)
	}
	if status, _ := get(t, m.URL()+"/debug/pprof/goroutine?debug=1"); status != http.StatusNotFound {
		t.Errorf("the API serves profiles: %d", status)
	}

	off := node(t, t.TempDir(), "")
	serving(t, off)
	if off.MetricsURL() != "" {
		t.Fatalf("metrics listener without --metrics-addr: %s", off.MetricsURL())
	}
}

// TestAPIConnectionLimit is the flood that took every file descriptor
// (the bench's open loop did it by accident, and JetStream and the audit
// checkpoints then failed with "too many open files"): past
// --max-connections the API takes no more connections; clients wait to
// connect, and go on once a connection closes.
func TestAPIConnectionLimit(t *testing.T) {
	if c := DefaultConfig(); c.maxConnections() < 64 || c.maxConnections() > 4096 || c.maxConnections() > openFileLimit()/4+64 {
		t.Errorf("default limit %d with an open-file limit of %d", c.maxConnections(), openFileLimit())
	}
	m := node(t, t.TempDir(), "")
	m.Config.MaxConnections = 4
	serving(t, m)
	addr := strings.TrimPrefix(m.URL(), "http://")
	var held []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	// The four idle connections are accepted (the server holds them);
	// a fifth client's request waits.
	answered := make(chan int, 1)
	go func() {
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Get(m.URL() + "/healthz")
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case code := <-answered:
		t.Fatalf("a fifth connection was served (%d) while four were open", code)
	case <-time.After(500 * time.Millisecond):
	}
	held[0].Close()
	held = held[1:]
	select {
	case code := <-answered:
		if code != http.StatusOK {
			t.Fatalf("the waiting client got %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting client was not served after a connection closed")
	}
}
