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

// readyz answers 200 when the readiness check passes, 503 otherwise. A
// check that fails with an EUNAVAILABLE application error (the store
// cannot commit, the bus is down) is answered with its message and
// reason; any other error only as "Not ready."; the detail is logged.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.logger.Warn("http: not ready", "err", err)
		p := problemf(doorman.EUNAVAILABLE, "Not ready.")
		if doorman.ErrorCode(err) == doorman.EUNAVAILABLE {
			p = problemf(doorman.EUNAVAILABLE, "%s", doorman.ErrorMessage(err)).withReason(doorman.ErrorReason(err))
		}
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
