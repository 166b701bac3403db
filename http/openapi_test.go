package http

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the served document")

// openAPIFile is the committed OpenAPI document.
var openAPIFile = filepath.Join("..", "docs", "openapi.json")

// TestOpenAPIDocument keeps docs/openapi.json true: it fails when the
// server's document differs, or when the served one differs from it in
// anything but its servers. Run with -update to regenerate it.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	doc, err := e.server.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(openAPIFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(openAPIFile, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatalf("%v (run go test ./http -run TestOpenAPIDocument -update)", err)
	}
	if !bytes.Equal(doc, want) {
		t.Fatalf("the server's OpenAPI document differs from %s; run go test ./http -run TestOpenAPIDocument -update and commit it", openAPIFile)
	}

	res := e.must(200, request{Method: "GET", Path: "/v1/openapi.json"})
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/vnd.oai.openapi+json") {
		t.Fatalf("content type %q", res.Header.Get("Content-Type"))
	}
	var served, committed map[string]any
	res.JSON(t, &served)
	if err := json.Unmarshal(want, &committed); err != nil {
		t.Fatal(err)
	}
	delete(served, "servers")
	delete(committed, "servers")
	if !reflect.DeepEqual(served, committed) {
		t.Fatalf("the served document differs from %s in more than its servers", openAPIFile)
	}
}

// TestOpenAPIOperations checks what the linter cannot know: every
// operation is tagged, summarised, documents its errors as problems and,
// unless public, requires the bearer scheme.
func TestOpenAPIOperations(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			License struct{ Identifier string } `json:"license"`
		} `json:"info"`
		Paths map[string]map[string]struct {
			OperationID string                      `json:"operationId"`
			Summary     string                      `json:"summary"`
			Tags        []string                    `json:"tags"`
			Security    []map[string][]string       `json:"security"`
			Parameters  []struct{ Name, In string } `json:"parameters"`
			Responses   map[string]map[string]any   `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(e.must(200, request{Method: "GET", Path: "/v1/openapi.json"}).Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.License.Identifier != "Apache-2.0" {
		t.Fatalf("openapi %q, license %q", doc.OpenAPI, doc.Info.License.Identifier)
	}
	public := map[string]bool{"createSession": true, "acceptInvite": true, "enrollDevice": true}
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			t.Errorf("path %s outside /v1", path)
		}
		for method, op := range ops {
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) != 1 {
				t.Errorf("%s %s: operationId %q, summary %q, tags %v", method, path, op.OperationID, op.Summary, op.Tags)
			}
			_, bearer := op.Security[0]["bearer"]
			if bearer == public[op.OperationID] {
				t.Errorf("%s: security %v", op.OperationID, op.Security)
			}
			if bearer && method == "post" {
				idem := false
				for _, p := range op.Parameters {
					idem = idem || (p.In == "header" && p.Name == "Idempotency-Key")
				}
				if !idem {
					t.Errorf("%s: authenticated POST does not document Idempotency-Key", op.OperationID)
				}
			}
			if bearer {
				for _, code := range []string{"401", "403"} {
					if op.Responses[code] == nil {
						t.Errorf("%s: no %s response", op.OperationID, code)
					}
				}
			}
			for code, r := range op.Responses {
				if code[0] == '4' || code[0] == '5' {
					if r["content"].(map[string]any)["application/problem+json"] == nil {
						t.Errorf("%s %s: not a problem", op.OperationID, code)
					}
				}
			}
		}
	}
}

// servedServers fetches the document from base over a real connection, with
// the given Host header (unless empty) and other headers, and returns its
// server URLs.
func servedServers(client *http.Client, base, host string, header map[string]string) ([]string, error) {
	req, err := http.NewRequest("GET", base+"/v1/openapi.json", nil)
	if err != nil {
		return nil, err
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var doc struct {
		Servers []struct{ URL string } `json:"servers"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		return nil, err
	}
	var urls []string
	for _, s := range doc.Servers {
		urls = append(urls, s.URL)
	}
	return urls, nil
}

// wantServer fails the test unless the document served at base, asked
// for with host and header, names exactly the server want.
func wantServer(t testing.TB, client *http.Client, base, host string, header map[string]string, want string) {
	t.Helper()
	got, err := servedServers(client, base, host, header)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("Host %q: servers %v, want [%s]", host, got, want)
	}
}

// TestOpenAPIServers checks that the served document names the server the
// client reached, by the scheme and Host of its request, and nothing that
// X-Forwarded-* headers claim.
func TestOpenAPIServers(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	wantServer(t, http.DefaultClient, base, "", nil, base)
	wantServer(t, http.DefaultClient, base, "api.doorman.test:8443", nil, "http://api.doorman.test:8443")
	wantServer(t, http.DefaultClient, base, "", map[string]string{
		"X-Forwarded-Host": "evil.test", "X-Forwarded-Proto": "https", "Forwarded": "host=evil.test;proto=https"}, base)

	// Over TLS the scheme is https.
	tlsSrv := httptest.NewTLSServer(e.server.Handler())
	defer tlsSrv.Close()
	wantServer(t, tlsSrv.Client(), tlsSrv.URL, "", nil, tlsSrv.URL)

	// Concurrent requests for different hosts each get their own, and the
	// server's own document keeps its default entry.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := fmt.Sprintf("host-%d.doorman.test", i)
			got, err := servedServers(http.DefaultClient, base, host, nil)
			if err != nil || len(got) != 1 || got[0] != "http://"+host {
				t.Errorf("host %s: servers %v, %v", host, got, err)
			}
		}()
	}
	wg.Wait()
	if s := e.server.OpenAPI().Servers; len(s) != 1 || s[0].URL != "http://127.0.0.1:8080" {
		t.Fatalf("the shared document changed: servers %+v", s)
	}
}

// TestOpenAPIPublicURL checks that a configured public URL is the served
// document's server whatever Host the request names.
func TestOpenAPIPublicURL(t *testing.T) {
	e := newEnv(t, func(e *env, cfg *Config) { cfg.PublicURL = "https://doorman.example/" })
	base := e.listen()
	wantServer(t, http.DefaultClient, base, "", nil, "https://doorman.example")
	wantServer(t, http.DefaultClient, base, "internal.doorman.test:8080", nil, "https://doorman.example")
}
