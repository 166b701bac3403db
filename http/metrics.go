package http

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the server's Prometheus metrics.
type httpMetrics struct {
	duration *prometheus.HistogramVec
}

// newHTTPMetrics registers the metrics with reg, reusing them if a server
// already registered them there.
func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	d := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "doorman_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by method, route pattern and status.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route", "status"})
	if err := reg.Register(d); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err)
		}
		d = are.ExistingCollector.(*prometheus.HistogramVec)
	}
	return &httpMetrics{duration: d}
}

// instrument observes every request under its route pattern, so that IDs
// in paths do not become label values.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by the ServeMux on this request
		if i := strings.IndexByte(route, ' '); i >= 0 {
			route = route[i+1:]
		}
		if route == "" || route == "/" {
			route = "unmatched"
		}
		method := r.Method
		if !knownMethod(method) {
			method = "other"
		}
		took := time.Since(start)
		s.metrics.duration.WithLabelValues(method, route, strconv.Itoa(sw.code())).Observe(took.Seconds())
		s.logger.Debug("http: request", "method", r.Method, "route", route, "status", sw.code(), "took", took)
	})
}

func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the real writer (huma sets
// body read deadlines through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
