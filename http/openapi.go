package http

import (
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
)

// serveOpenAPI serves the OpenAPI 3.1 document, naming as its server the
// one the client reached (see documentServers).
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := s.openAPIJSON(s.documentServers(r))
	if err != nil {
		s.logger.Error("http: marshal OpenAPI", "err", err)
		writeProblem(w, newProblem(http.StatusInternalServerError, doorman.EINTERNAL, "Internal error."))
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.1")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(doc)
}

// documentServers is the server list of the document served for r: the
// configured public URL, or else the scheme and Host of the request itself,
// which is the address this client reached. X-Forwarded-* headers are not
// honoured: any client can send them, and a deployment behind a proxy that
// rewrites Host sets the public URL instead. Without a Host (HTTP/1.0) it
// is nil, which keeps the default entry.
func (s *Server) documentServers(r *http.Request) []*huma.Server {
	if s.publicURL != "" {
		return []*huma.Server{{URL: s.publicURL, Description: "This Doorman."}}
	}
	if r.Host == "" {
		return nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return []*huma.Server{{URL: scheme + "://" + r.Host, Description: "The server this document was fetched from."}}
}

// OpenAPIJSON returns the OpenAPI document as indented JSON with its
// default server entry, the form committed as docs/openapi.json.
func (s *Server) OpenAPIJSON() ([]byte, error) { return s.openAPIJSON(nil) }

// openAPIJSON returns the OpenAPI document as indented JSON, with servers
// in place of its own server list unless servers is nil. The document is
// shared by concurrent requests and only read: the servers go into a
// shallow copy of it.
func (s *Server) openAPIJSON(servers []*huma.Server) ([]byte, error) {
	doc := *s.api.OpenAPI()
	if servers != nil {
		doc.Servers = servers
	}
	raw, err := json.Marshal(&doc)
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
