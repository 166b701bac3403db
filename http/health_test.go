package http

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t)
	e.must(200, request{Method: "GET", Path: "/healthz"})
	e.must(200, request{Method: "GET", Path: "/readyz"})
	e.mu.Lock()
	e.ready = errors.New("database is locked: secret detail")
	e.mu.Unlock()
	p := e.expectProblem(503, doorman.EUNAVAILABLE, request{Method: "GET", Path: "/readyz"})
	if strings.Contains(p.Detail, "secret") {
		t.Fatal("readiness problem shows internal detail")
	}
	e.must(200, request{Method: "GET", Path: "/healthz"})
}

// TestReadinessSaysWhy: a readiness check that fails with an application
// error (the store cannot commit, the bus is down) is answered 503 with
// its message and stable reason, so a load balancer's log or an operator
// with curl sees which dependency is missing; its internal detail stays
// in the server's log.
func TestReadinessSaysWhy(t *testing.T) {
	e := newEnv(t)
	notReady := &doorman.Error{Code: doorman.EUNAVAILABLE, Reason: "store_not_writable",
		Message: "Not ready: the store cannot commit a write."}
	e.mu.Lock()
	e.ready = fmt.Errorf("%w: disk I/O error: database or disk is full (secret detail)", notReady)
	e.mu.Unlock()
	p := e.expectProblem(503, doorman.EUNAVAILABLE, request{Method: "GET", Path: "/readyz"})
	if p.Reason != "store_not_writable" || p.Detail != notReady.Message {
		t.Fatalf("problem %+v, want reason store_not_writable and %q", p, notReady.Message)
	}
	if strings.Contains(p.Detail, "secret") {
		t.Fatal("readiness problem shows internal detail")
	}
	e.mu.Lock()
	logged := e.logs.String()
	e.mu.Unlock()
	if !strings.Contains(logged, "database or disk is full") {
		t.Fatalf("the detail was not logged: %q", logged)
	}
}

// TestMetrics checks what the server records in its registry, and that the
// API does not serve it: metrics are for a separate listener (cmd/doorman's
// --metrics-addr).
func TestMetrics(t *testing.T) {
	f := newFixture(t)
	base := f.listen()
	if res := call(t, base, "GET", "/metrics"); res.Status != http.StatusNotFound || res.Problem(t).Code != doorman.ENOTFOUND {
		t.Fatalf("GET /metrics on the API: status %d, want 404; body %s", res.Status, res.Body)
	}
	f.must(200, request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID, Token: f.tokens[pOperator]})
	f.do(request{Method: "GET", Path: "/v1/buildings/" + f.buildingB.ID, Token: f.tokens[pManagerA]})
	f.do(request{Method: "GET", Path: "/v1/no/such/" + f.buildingA.ID})
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(f.registry, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`doorman_http_request_duration_seconds_count{method="GET",route="/v1/buildings/{building_id}",status="200"} 1`,
		`doorman_http_request_duration_seconds_count{method="GET",route="/v1/buildings/{building_id}",status="404"} 1`,
		`doorman_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, f.buildingA.ID) {
		t.Error("an ID became a label value")
	}
	// Two servers can share one registry.
	NewServer(Config{App: app.New(f.store, *f.appCfg), Idempotency: f.store, Metrics: f.registry})
}

func TestInternalErrorsAreHidden(t *testing.T) {
	f := newFixture(t)
	f.store.Close() // every store call now fails with a driver error
	res := f.do(request{Method: "GET", Path: "/v1/buildings/" + f.buildingA.ID, Token: f.tokens[pOperator]})
	// A closed store cannot even check the token: still no internals shown.
	if res.Status != 500 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	p := res.Problem(t)
	if p.Code != doorman.EINTERNAL || p.Detail != "Internal error." {
		t.Fatalf("problem %+v", p)
	}
	f.mu.Lock()
	logged := f.logs.String()
	f.mu.Unlock()
	if !strings.Contains(logged, "internal error") {
		t.Fatalf("internal error not logged: %q", logged)
	}
}
