package http

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/doorman-dev/doorman"
)

// readyTimeout bounds a readiness check.
const readyTimeout = 2 * time.Second

// healthz answers 200 while the process runs.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the store is reachable, 503 otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.logger.Warn("http: not ready", "err", err)
		writeProblem(w, problemf(doorman.EUNAVAILABLE, "Not ready: the store is not reachable."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// serveOpenAPI serves the OpenAPI 3.1 document.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := s.OpenAPIJSON()
	if err != nil {
		s.logger.Error("http: marshal OpenAPI", "err", err)
		writeProblem(w, newProblem(http.StatusInternalServerError, doorman.EINTERNAL, "Internal error."))
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.1")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(doc)
}

// OpenAPIJSON returns the OpenAPI document as indented JSON, the form
// committed as docs/openapi.json.
func (s *Server) OpenAPIJSON() ([]byte, error) {
	raw, err := json.Marshal(s.api.OpenAPI())
	if err != nil {
		return nil, err
	}
	// Re-encode through a generic value so that keys come out sorted and
	// the output does not depend on huma's field order.
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
