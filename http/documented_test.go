package http

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// documented is what the served OpenAPI document declares: for each path
// template, method (lower case) and status, whether it is there. Generated
// clients decode only the statuses the document declares, so every answer
// the tests see is checked against it (see env.do).
type documented struct {
	templates [][]string
	ops       map[string]map[string]map[string]bool
}

var (
	apiDocOnce sync.Once
	apiDoc     *documented
)

// documentedBy reads the document served by h, once per test binary: the
// document does not depend on the server's configuration.
func documentedBy(t testing.TB, h http.Handler) *documented {
	t.Helper()
	apiDocOnce.Do(func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
		var doc struct {
			Paths map[string]map[string]struct {
				Responses map[string]json.RawMessage `json:"responses"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("OpenAPI document: %v", err)
		}
		d := &documented{ops: map[string]map[string]map[string]bool{}}
		for path, methods := range doc.Paths {
			d.templates = append(d.templates, strings.Split(path, "/"))
			d.ops[path] = map[string]map[string]bool{}
			for method, op := range methods {
				d.ops[path][method] = map[string]bool{}
				for status := range op.Responses {
					d.ops[path][method][status] = true
				}
			}
		}
		apiDoc = d
	})
	if apiDoc == nil {
		t.Fatal("OpenAPI document could not be read")
	}
	return apiDoc
}

// template returns the path template a request path falls under, preferring
// the one with the most literal segments, or "" when none does.
func (d *documented) template(path string) string {
	segs := strings.Split(path, "/")
	best, bestLiterals := "", -1
	for _, tpl := range d.templates {
		if len(tpl) != len(segs) {
			continue
		}
		literals := 0
		match := true
		for i, s := range tpl {
			switch {
			case strings.HasPrefix(s, "{"):
			case s == segs[i]:
				literals++
			default:
				match = false
			}
			if !match {
				break
			}
		}
		if match && literals > bestLiterals {
			best, bestLiterals = strings.Join(tpl, "/"), literals
		}
	}
	return best
}

// checkDocumented fails the test when an operation answered a status its
// document entry does not declare. Requests outside the documented
// operations (unknown paths or methods, the plain endpoints) are not
// checked.
func checkDocumented(t testing.TB, h http.Handler, method, target string, status int) {
	t.Helper()
	path, _, _ := strings.Cut(target, "?")
	d := documentedBy(t, h)
	tpl := d.template(path)
	if tpl == "" {
		return
	}
	statuses, ok := d.ops[tpl][strings.ToLower(method)]
	if !ok {
		return
	}
	if !statuses[strconv.Itoa(status)] {
		t.Errorf("%s %s answered %d, which the OpenAPI document does not declare for %s %s", method, target, status, method, tpl)
	}
}
