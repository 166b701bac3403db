package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/password"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds the dependencies of a Server. Store and Access are required;
// the others have defaults.
type Config struct {
	// Store keeps everything; the server never talks to a database itself.
	Store doorman.Store
	// Access decides and records courier access requests.
	Access doorman.AccessService
	// Logger receives request errors (internal detail is logged, never
	// shown to callers). Defaults to slog.Default().
	Logger *slog.Logger
	// Metrics is the registry the HTTP metrics are registered with.
	// Defaults to a new registry. The API does not serve it: metrics
	// describe the deployment, so cmd/doorman serves them on a listener of
	// their own.
	Metrics *prometheus.Registry
	// Now is the clock used for token expiry and sessions. Defaults to
	// time.Now.
	Now func() time.Time
	// PasswordParams are the argon2id costs of new manager passwords.
	// Defaults to password.Default; existing hashes keep their own.
	PasswordParams password.Params
	// Devices issues and revokes door devices' bus credentials (natsbus.Bus
	// implements it). Without it devices cannot enroll (503) and revoking
	// a device only marks it revoked in the store.
	Devices DeviceBus
	// PublicURL is the base URL clients reach the API at, such as
	// https://doorman.example behind a reverse proxy; the served OpenAPI
	// document names it as its server. When empty, the document names the
	// scheme and Host of each request for it (X-Forwarded-* headers are not
	// trusted). cmd/doorman checks that it is an absolute http(s) URL.
	PublicURL string
	// Ready reports whether the store (and anything else the server needs)
	// is reachable; /readyz answers 503 while it returns an error. Defaults
	// to always ready.
	Ready func(context.Context) error
}

// Server is Doorman's HTTP API. Create it with NewServer and serve
// Handler().
type Server struct {
	store   doorman.Store
	access  doorman.AccessService
	devices DeviceBus
	logger  *slog.Logger
	now     func() time.Time
	ready   func(context.Context) error
	pwcost  password.Params
	// publicURL is Config.PublicURL without a trailing slash.
	publicURL string

	registry *prometheus.Registry
	metrics  *httpMetrics
	logins   *failureLimiter
	// enrollByAddr and enrollGlobal limit enrollment code guessing per
	// client address and overall.
	enrollByAddr *failureLimiter
	enrollGlobal *failureLimiter
	// dummyHash is verified against when a login names an unknown email,
	// so that unknown and known emails take the same time.
	dummyHash string

	mux     *http.ServeMux
	api     huma.API
	handler http.Handler
}

// NewServer returns a Server over cfg. It panics if cfg.Store or cfg.Access
// is nil: that is a wiring bug, not a runtime condition.
func NewServer(cfg Config) *Server {
	if cfg.Store == nil || cfg.Access == nil {
		panic("doormanhttp: Config.Store and Config.Access are required")
	}
	installHumaHooks()
	s := &Server{
		store:        cfg.Store,
		access:       cfg.Access,
		devices:      cfg.Devices,
		logger:       cfg.Logger,
		now:          cfg.Now,
		ready:        cfg.Ready,
		pwcost:       cfg.PasswordParams,
		publicURL:    strings.TrimRight(cfg.PublicURL, "/"),
		registry:     cfg.Metrics,
		logins:       newFailureLimiter(loginFailures, loginWindow),
		enrollByAddr: newFailureLimiter(enrollFailures, enrollWindow),
		enrollGlobal: newFailureLimiter(enrollGlobalFailures, enrollWindow),
		mux:          http.NewServeMux(),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	if s.pwcost == (password.Params{}) {
		s.pwcost = password.Default
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(s.registry)
	s.dummyHash = s.mustHash("doorman-dummy-password-for-timing")

	s.api = humago.New(s.mux, apiConfig())
	s.api.UseMiddleware(s.authenticate)
	s.routes()
	s.handler = s.recoverPanics(s.instrument(s.secureHeaders(s.unmatched(s.mux))))
	return s
}

// Handler returns the http.Handler serving the whole API.
func (s *Server) Handler() http.Handler { return s.handler }

// OpenAPI returns the OpenAPI 3.1 document of the API, with the default
// server entry of docs/openapi.json; the served document names the server
// its client reached instead. Callers must not change it.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// secureHeaders sets headers every API response carries: answers hold
// tokens and personal data, so nothing may be cached or sniffed.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in a handler into a logged 500 problem instead
// of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("http: panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeProblem(w, newProblem(http.StatusInternalServerError, doorman.EINTERNAL, "Internal error."))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// isClientGone reports whether err only says the caller went away.
func isClientGone(err error) bool {
	return errors.Is(err, context.Canceled)
}
