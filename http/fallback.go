package http

import (
	"net/http"

	"github.com/doorman-dev/doorman"
)

// unmatched serves mux, and answers as problems the requests none of its
// patterns match: 405 with the Allow header when the path exists under
// other methods, 404 when it does not exist at all. The mux decides which
// (it computes Allow from its own patterns); only its plain-text answer is
// replaced. A catch-all "/" pattern cannot do this: it matches every method
// and so hides the mux's 405.
func (s *Server) unmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			probe := &muxAnswer{header: http.Header{}}
			h.ServeHTTP(probe, r)
			switch probe.status {
			case http.StatusNotFound:
				s.unknownRoute(w, r)
				return
			case http.StatusMethodNotAllowed:
				s.methodNotAllowed(w, r, probe.header.Get("Allow"))
				return
			}
		}
		mux.ServeHTTP(w, r) // a match, or a redirect to a cleaned path
	})
}

// unknownRoute answers a path no route has.
func (s *Server) unknownRoute(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, problemf(doorman.ENOTFOUND, "There is no %s %s in this API.", r.Method, shortPath(r)))
}

// methodNotAllowed answers a method the path does not have; allow lists
// those it has.
func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	detail := "There is no " + r.Method + " " + shortPath(r) + " in this API; this path allows " + allow + "."
	writeProblem(w, newProblem(http.StatusMethodNotAllowed, doorman.EINVALID, detail).withHeader("Allow", allow))
}

// shortPath is the request's path, cut to a length fit for a message.
func shortPath(r *http.Request) string {
	path := r.URL.Path
	if len(path) > 200 {
		path = path[:200] + "…"
	}
	return path
}

// muxAnswer records the status and headers of the mux's own answer to an
// unmatched request, and drops its body.
type muxAnswer struct {
	header http.Header
	status int
}

func (a *muxAnswer) Header() http.Header { return a.header }

func (a *muxAnswer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

func (a *muxAnswer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return len(b), nil
}
