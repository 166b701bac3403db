package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds the dependencies of a Server. App is required; the others
// have defaults.
type Config struct {
	// App are the application services every operation calls; the server
	// never talks to a store or bus itself.
	App *app.Services
	// Idempotency keeps the answers of POSTs made with an Idempotency-Key
	// (an HTTP matter, kept in the store so that every node replays them).
	// Required.
	Idempotency IdempotencyStore
	// Logger receives request errors (internal detail is logged, never
	// shown to callers). Defaults to slog.Default().
	Logger *slog.Logger
	// Metrics is the registry the HTTP metrics are registered with.
	// Defaults to a new registry. The API does not serve it: metrics
	// describe the deployment, so cmd/doorman serves them on a listener of
	// their own.
	Metrics *prometheus.Registry
	// PublicURL is the base URL clients reach the API at, such as
	// https://doorman.example behind a reverse proxy; the served OpenAPI
	// document names it as its server. When empty, the document names the
	// scheme and Host of each request for it (X-Forwarded-* headers are not
	// trusted). cmd/doorman checks that it is an absolute http(s) URL.
	PublicURL string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For the
	// guessing limits believe; requests from anywhere else are counted by
	// their TCP peer. Empty: the header is ignored.
	TrustedProxies []netip.Prefix
	// Ready reports whether the server can do its work (cmd/doorman: the
	// store commits, the bus is connected); /readyz answers 503 while it
	// returns an error, with the message and reason of an EUNAVAILABLE
	// *doorman.Error. Defaults to always ready.
	Ready func(context.Context) error

	// servicesDecideRoles, for tests, leaves refusing a role to the
	// services, so that the role × route matrix checks them too.
	servicesDecideRoles bool
}

// Server is Doorman's HTTP API: a thin adapter that maps requests onto
// the application services and their answers and errors back. Create it
// with NewServer and serve Handler().
type Server struct {
	app    *app.Services
	idem   IdempotencyStore
	logger *slog.Logger
	ready  func(context.Context) error
	// publicURL is Config.PublicURL without a trailing slash.
	publicURL string
	// trustedProxies are Config.TrustedProxies.
	trustedProxies []netip.Prefix
	// servicesDecideRoles is Config.servicesDecideRoles.
	servicesDecideRoles bool

	registry *prometheus.Registry
	metrics  *httpMetrics

	mux     *http.ServeMux
	api     huma.API
	handler http.Handler
}

// NewServer returns a Server over cfg. It panics if cfg.App or
// cfg.Idempotency is nil: that
// is a wiring bug, not a runtime condition.
func NewServer(cfg Config) *Server {
	if cfg.App == nil || cfg.Idempotency == nil {
		panic("doormanhttp: Config.App and Config.Idempotency are required")
	}
	installHumaHooks()
	s := &Server{
		app:                 cfg.App,
		idem:                cfg.Idempotency,
		logger:              cfg.Logger,
		ready:               cfg.Ready,
		registry:            cfg.Metrics,
		publicURL:           strings.TrimRight(cfg.PublicURL, "/"),
		trustedProxies:      cfg.TrustedProxies,
		servicesDecideRoles: cfg.servicesDecideRoles,
		mux:                 http.NewServeMux(),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(s.registry)

	s.api = humago.New(s.mux, apiConfig())
	s.api.UseMiddleware(s.clientAddress, s.authenticate)
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
