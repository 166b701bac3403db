package http

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the served document")

// openAPIFile is the committed OpenAPI document.
var openAPIFile = filepath.Join("..", "docs", "openapi.json")

// TestOpenAPIDocument keeps docs/openapi.json true: it fails when the
// document the server serves differs. Run with -update to regenerate it.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	res := e.must(200, request{Method: "GET", Path: "/v1/openapi.json"})
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/vnd.oai.openapi+json") {
		t.Fatalf("content type %q", res.Header.Get("Content-Type"))
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(openAPIFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(openAPIFile, res.Body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatalf("%v (run go test ./http -run TestOpenAPIDocument -update)", err)
	}
	if !bytes.Equal(res.Body, want) {
		t.Fatalf("served OpenAPI document differs from %s; run go test ./http -run TestOpenAPIDocument -update and commit it", openAPIFile)
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
