package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/keyring"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/password"
	"github.com/doorman-dev/doorman/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
)

// testClock is a settable clock shared by the server under test.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a server under test over a real store (SQLite, or PostgreSQL in
// the suite's second run; see TestMain) and the real access service.
type env struct {
	t        testing.TB
	store    *sqlstore.Store
	server   *Server
	clock    *testClock
	registry *prometheus.Registry
	logs     *bytes.Buffer
	// ready is what the server's readiness check returns.
	ready error
	mu    *sync.Mutex
	// bus is the server's device bus, when the env was made withBus.
	bus *natsbus.Bus
	// keys are the command keys devices are given, with the bus.
	keys *keyring.Ring
	// appCfg configures the services under the server; options change it
	// before they are made.
	appCfg *app.Config
}

// envOption changes an env and its server's configuration before the
// server is made.
type envOption func(e *env, cfg *Config)

// withBus gives the server a real embedded NATS bus for door devices, on a
// free loopback port.
func withBus(e *env, cfg *Config) {
	e.t.Helper()
	e.bus, e.keys = openBus(e.t)
	e.appCfg.Bus, e.appCfg.Keys = e.bus, e.keys
}

// openBus starts an embedded bus with a command signer in a temporary
// directory.
func openBus(t testing.TB) (*natsbus.Bus, *keyring.Ring) {
	t.Helper()
	dir := t.TempDir()
	signer, err := keyring.LoadOrCreateSigner(filepath.Join(dir, "command.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := natsbus.Open(context.Background(), natsbus.Config{DataDir: filepath.Join(dir, "bus"), Listen: "127.0.0.1:0", Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, keyring.New(signer)
}

// with returns a view of the env that reports to t (for subtests).
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// newEnv opens a fresh store of the current engine and serves it.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	st := openStore(t)
	e := &env{t: t, store: st, clock: &testClock{now: time.Now().UTC().Truncate(time.Second)}, registry: prometheus.NewRegistry(), logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: e.logs, mu: e.mu}, nil))
	e.appCfg = &app.Config{
		Access: access.NewService(st, access.WithClock(e.clock.Now)),
		Now:    e.clock.Now,
		Logger: logger,
		// Cheap hashing keeps the suite fast; password has its own tests
		// of the real costs.
		PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	}
	cfg := Config{
		Idempotency: st,
		Logger:      logger,
		Metrics:     e.registry,
		Ready: func(ctx context.Context) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.ready != nil {
				return e.ready
			}
			return st.DB().PingContext(ctx)
		},
	}
	for _, opt := range opts {
		opt(e, &cfg)
	}
	cfg.App = app.New(st, *e.appCfg)
	e.server = NewServer(cfg)
	return e
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// response is a recorded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r *response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem decodes a problem answer and checks its content type.
func (r *response) Problem(t testing.TB) *Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p Problem
	r.JSON(t, &p)
	if p.Status != r.Status {
		t.Fatalf("problem status %d differs from HTTP status %d", p.Status, r.Status)
	}
	return &p
}

// request describes a call.
type request struct {
	Method string
	Path   string
	Token  string
	// Body is JSON-encoded unless it is a string or []byte.
	Body        any
	ContentType string
	Header      map[string]string
	// RemoteAddr is the caller's address (httptest's 192.0.2.1:1234 when
	// empty).
	RemoteAddr string
}

// do serves one request.
func (e *env) do(r request) *response {
	e.t.Helper()
	var body io.Reader
	ct := r.ContentType
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
		if ct == "" {
			ct = "application/json"
		}
	}
	if body != nil && ct == "" {
		ct = "application/json"
	}
	req := httptest.NewRequest(r.Method, r.Path, body)
	if ct != "" && body != nil {
		req.Header.Set("Content-Type", ct)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if r.RemoteAddr != "" {
		req.RemoteAddr = r.RemoteAddr
	}
	rec := httptest.NewRecorder()
	e.server.Handler().ServeHTTP(rec, req)
	checkDocumented(e.t, e.server.Handler(), r.Method, r.Path, rec.Code)
	return &response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// must serves a request and fails the test unless the status is want.
func (e *env) must(want int, r request) *response {
	e.t.Helper()
	res := e.do(r)
	if res.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", r.Method, r.Path, res.Status, want, res.Body)
	}
	return res
}

// expectProblem serves a request and checks the status and problem code.
func (e *env) expectProblem(status int, code string, r request) *Problem {
	e.t.Helper()
	res := e.do(r)
	if res.Status != status {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", r.Method, r.Path, res.Status, status, res.Body)
	}
	p := res.Problem(e.t)
	if p.Code != code {
		e.t.Fatalf("%s %s: problem code %q, want %q; body %s", r.Method, r.Path, p.Code, code, res.Body)
	}
	if p.Detail == "" || p.Title == "" || p.Type == "" {
		e.t.Fatalf("%s %s: problem lacks type, title or detail: %s", r.Method, r.Path, res.Body)
	}
	return p
}

// credential stores a credential for a role and subject and returns its
// token: how the CLI makes operator tokens, and a shortcut elsewhere.
func (e *env) credential(role, subjectID, carrierID string) string {
	e.t.Helper()
	prefix := map[string]string{
		doorman.RoleOperator: doorman.TokenOperator,
		doorman.RoleManager:  doorman.TokenManager,
		doorman.RoleCarrier:  doorman.TokenCarrier,
		doorman.RoleCourier:  doorman.TokenCourier,
		doorman.RoleResident: doorman.TokenResident,
	}[role]
	token, hash := doorman.NewToken(prefix)
	c := &doorman.Credential{
		ID: doorman.NewID(doorman.PrefixCredential), Role: role, SubjectID: subjectID, CarrierID: carrierID,
		Prefix: token[:12], TokenHash: hash, CreatedAt: e.clock.Now(),
	}
	if role == doorman.RoleManager || role == doorman.RoleCourier || role == doorman.RoleResident {
		exp := e.clock.Now().Add(time.Hour)
		c.ExpiresAt = &exp
	}
	if err := e.store.CreateCredential(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return token
}

// decode is a generic JSON decode of a response.
func decode[T any](t testing.TB, r *response) T {
	t.Helper()
	var v T
	r.JSON(t, &v)
	return v
}

// ctxBG is the context of direct store calls in tests.
var ctxBG = context.Background()

// huOp is huma's operation type.
type huOp = huma.Operation

var jsonMarshal = json.Marshal
