package http

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
)

// call sends a request with no body to the server at base with Go's client
// and reads the answer.
func call(t testing.TB, base, method, path string) *response {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// TestMethodNotAllowed calls every path of the API, and the plain
// endpoints, with a method the path does not have: each answers 405 with an
// Allow header listing exactly the methods it has, and a problem.
func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	methods := map[string][]string{
		"/healthz":         {"GET"},
		"/readyz":          {"GET"},
		"/v1/openapi.json": {"GET"},
	}
	for path, item := range e.server.OpenAPI().Paths {
		for method, op := range map[string]*huOp{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op != nil {
				methods[path] = append(methods[path], method)
			}
		}
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for path := range methods {
		target := param.ReplaceAllString(path, "x1")
		// A literal segment may also match another path's parameter
		// (units/import and units/{unit_id}): the mux serves the methods
		// of every path the target matches.
		var allow []string
		for other, have := range methods {
			if matchesTemplate(other, target) {
				allow = append(allow, have...)
			}
		}
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD") // the mux serves HEAD with GET
		}
		slices.Sort(allow)
		allow = slices.Compact(allow)
		for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
			if slices.Contains(allow, method) {
				continue
			}
			res := call(t, base, method, target)
			if res.Status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405; body %s", method, target, res.Status, res.Body)
				continue
			}
			if got := res.Header.Get("Allow"); got != strings.Join(allow, ", ") {
				t.Errorf("%s %s: Allow %q, want %q", method, target, got, strings.Join(allow, ", "))
			}
			p := res.Problem(t)
			if p.Code != doorman.EINVALID || !strings.Contains(p.Detail, strings.Join(allow, ", ")) {
				t.Errorf("%s %s: problem %+v, want code invalid and a detail naming the allowed methods", method, target, p)
			}
		}
	}
}

// TestUnknownRoute checks that paths the API does not have are 404
// problems, whatever the method.
func TestUnknownRoute(t *testing.T) {
	e := newEnv(t)
	base := e.listen()
	for _, r := range []request{
		{Method: "GET", Path: "/v1/nothing"}, {Method: "DELETE", Path: "/v1/nothing"}, {Method: "GET", Path: "/"},
		{Method: "PUT", Path: "/"}, {Method: "GET", Path: "/v1/me/more"}, {Method: "POST", Path: "/v1/buildings/x1/y"},
	} {
		res := call(t, base, r.Method, r.Path)
		if res.Status != http.StatusNotFound {
			t.Fatalf("%s %s: status %d, want 404; body %s", r.Method, r.Path, res.Status, res.Body)
		}
		if p := res.Problem(t); p.Code != doorman.ENOTFOUND {
			t.Fatalf("%s %s: problem %+v", r.Method, r.Path, p)
		}
		if a := res.Header.Get("Allow"); a != "" {
			t.Fatalf("%s %s: Allow %q on a 404", r.Method, r.Path, a)
		}
	}
}

// matchesTemplate reports whether path falls under the path template tpl.
func matchesTemplate(tpl, path string) bool {
	ts, ps := strings.Split(tpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, seg := range ts {
		if !strings.HasPrefix(seg, "{") && seg != ps[i] {
			return false
		}
	}
	return true
}
