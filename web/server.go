package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/internal/clientaddr"
)

//go:embed all:templates static
var files embed.FS

// Config holds the dependencies of a Server. App is required.
type Config struct {
	// App are the application services every page calls.
	App *app.Services
	// Logger receives errors the pages do not show. Defaults to
	// slog.Default().
	Logger *slog.Logger
	// TrustedProxies are the reverse proxies whose X-Forwarded-For the
	// guessing limits believe (as for the API).
	TrustedProxies []netip.Prefix
	// PublicURL is the base URL people reach Doorman at, used in links
	// that leave the browser (magic links, QR stickers). When empty, the
	// scheme and Host of the request are used.
	PublicURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server serves the pages. Create it with NewServer and serve Handler().
type Server struct {
	app       *app.Services
	logger    *slog.Logger
	trusted   []netip.Prefix
	publicURL string
	now       func() time.Time

	pages   map[string]*template.Template
	mux     *http.ServeMux
	handler http.Handler

	// closing ends every event stream when the server shuts down
	// (Shutdown), which would otherwise wait for them until its deadline.
	closing  context.Context
	shutdown context.CancelFunc
}

// NewServer returns a Server over cfg. It panics if cfg.App is nil or a
// template does not parse: both are bugs, not runtime conditions.
func NewServer(cfg Config) *Server {
	if cfg.App == nil {
		panic("web: Config.App is required")
	}
	s := &Server{
		app:       cfg.App,
		logger:    cfg.Logger,
		trusted:   cfg.TrustedProxies,
		publicURL: cfg.PublicURL,
		now:       cfg.Now,
		mux:       http.NewServeMux(),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.closing, s.shutdown = context.WithCancel(context.Background())
	s.pages = parsePages()
	s.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusForbidden, "This form was sent from another site, so it was refused. Reload the page and try again.")
	}))
	s.handler = s.recoverPanics(secureHeaders(cop.Handler(s.authenticate(s.endStreams(s.mux)))))
	return s
}

// Handler returns the http.Handler serving every page.
func (s *Server) Handler() http.Handler { return s.handler }

// Shutdown ends the event streams being served (their requests' contexts
// end), so that a graceful shutdown of the HTTP server does not wait for
// them; browsers reconnect to another node or after the restart. Give it
// to http.Server.RegisterOnShutdown.
func (s *Server) Shutdown() { s.shutdown() }

// endStreams gives each event stream (a request accepting
// text/event-stream, as EventSource sends) a context that Shutdown ends.
func (s *Server) endStreams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(s.closing, cancel)
		defer stop()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// routes registers every page: this function and the areas' route
// functions it calls are the whole URL map of the pages.
func (s *Server) routes() {
	static, _ := fs.Sub(files, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(static)))
	s.mux.HandleFunc("GET /{$}", s.home)
	s.mux.HandleFunc("POST /signout", s.signOut)
	s.consoleRoutes()
	s.consoleBuildingRoutes()
	s.consoleInsightRoutes()
	s.residentRoutes()
	s.mailRoutes()
	s.photoRoutes()
	s.courierRoutes()
	s.returnRoutes()
	s.transparencyRoutes()
	s.consoleAlertRoutes()
	s.operatorRoutes()
}

// contentSecurityPolicy allows only this origin's scripts, styles and
// images (and data: images, for QR codes), no inline script or style, no
// framing, and forms posting only back here.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets what every answer carries.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// Magic links and courier links carry tokens in their URL: no
		// page may tell another site where it was.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=(self)")
		next.ServeHTTP(w, r)
	})
}

// staticFiles serves the embedded assets; they change only with the
// binary, so browsers may keep them for an hour.
func staticFiles(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in a handler into a logged 500 page instead
// of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("web: panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				s.renderError(w, r, http.StatusInternalServerError, "Something went wrong on our side. Try again in a moment.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the address the request came from, for guessing limits.
func (s *Server) clientAddr(r *http.Request) string {
	return app.AddrKey(clientaddr.Resolve(r.RemoteAddr, r.Header.Get("X-Forwarded-For"), s.trusted))
}

// baseURL is the URL people reach Doorman at, without a trailing slash.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return trimSlash(s.publicURL)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func trimSlash(u string) string {
	for len(u) > 0 && u[len(u)-1] == '/' {
		u = u[:len(u)-1]
	}
	return u
}

// home is the landing page: where each kind of user goes.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home.html", nil)
}

// errorStatus maps a service error to the status of the page telling it,
// and the message people are shown (internal detail is logged instead).
func (s *Server) errorStatus(r *http.Request, err error) (int, string) {
	code, msg := doorman.ErrorCode(err), doorman.ErrorMessage(err)
	switch code {
	case doorman.EINVALID:
		return http.StatusUnprocessableEntity, msg
	case doorman.ENOTFOUND:
		return http.StatusNotFound, msg
	case doorman.ECONFLICT:
		return http.StatusConflict, msg
	case doorman.EUNAUTHORIZED:
		return http.StatusUnauthorized, msg
	case doorman.EFORBIDDEN:
		return http.StatusForbidden, "You may not do that."
	case doorman.ETOOMANYREQUEST:
		return http.StatusTooManyRequests, msg
	case doorman.ETOOLARGE:
		return http.StatusRequestEntityTooLarge, msg
	case doorman.EPRECONDITION:
		return http.StatusPreconditionFailed, msg
	case doorman.EUNAVAILABLE:
		return http.StatusServiceUnavailable, msg
	}
	if !errors.Is(err, context.Canceled) {
		s.logger.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	return http.StatusInternalServerError, "Something went wrong on our side. Try again in a moment."
}

// fail renders the error page for err.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.errorStatus(r, err)
	if d := doorman.ErrorRetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", retryAfter(d))
	}
	s.renderError(w, r, status, msg)
}

// retryAfter is d as a Retry-After value: whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
