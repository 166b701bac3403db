package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestShutdownEndsEventStreams: an event stream's request context ends
// when the server shuts down, so a graceful shutdown does not wait for
// browsers that keep a live page open; other requests are left alone.
func TestShutdownEndsEventStreams(t *testing.T) {
	s := &Server{}
	s.closing, s.shutdown = context.WithCancel(context.Background())
	ended := make(chan string, 2)
	h := s.endStreams(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			ended <- r.Header.Get("Accept")
		case <-time.After(2 * time.Second):
			ended <- "still running"
		}
	}))
	for _, accept := range []string{"text/event-stream", "text/html"} {
		go func() {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Header.Set("Accept", accept)
			h.ServeHTTP(httptest.NewRecorder(), r)
		}()
	}
	time.Sleep(50 * time.Millisecond)
	s.Shutdown()
	if got := <-ended; got != "text/event-stream" {
		t.Fatalf("first request to end: %q, want the event stream", got)
	}
	if got := <-ended; got != "still running" {
		t.Fatalf("a page request was ended by the shutdown: %q", got)
	}
}

// TestLocalPathSendsNobodyElsewhere: a sign-in link's "next" brings the
// user back to a page of this site, never to another one, however the
// attacker spells it (browsers drop tabs and newlines and read a
// backslash as a slash).
func TestLocalPathSendsNobodyElsewhere(t *testing.T) {
	for next, want := range map[string]string{
		"/console/buildings/bld_1?tab=x": "/console/buildings/bld_1?tab=x",
		"/courier/doors/dor_1":           "/courier/doors/dor_1",
		"":                               "/fallback",
		"https://evil.example/":          "/fallback",
		"//evil.example":                 "/fallback",
		"/\\evil.example":                "/fallback",
		"/\t/evil.example":               "/fallback",
		"/\n/evil.example":               "/fallback",
		"/\r\n/evil.example":             "/fallback",
		"/\x7f/evil.example":             "/fallback",
		"evil.example":                   "/fallback",
		"javascript:alert(1)":            "/fallback",
	} {
		if got := localPath(next, "/fallback"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", next, got, want)
		}
	}
}
