package web

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// view is what every page template is given: the page's own data as
// .Page, and what the layout needs.
type view struct {
	// Me is the signed-in principal, nil for visitors.
	Me *doorman.Principal
	// Path is the request's path, for marking the current nav entry.
	Path string
	// Notice is a one-line confirmation shown above the page (from the
	// "done" query parameter, see notices).
	Notice string
	Page   any
}

// funcs are the template functions every page may use.
var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 MST")
	},
	"whenISO": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return humanAgo(time.Since(t))
	},
	// age says how long ago, in words, a number of seconds was.
	"age":         func(seconds int64) string { return humanAgo(time.Duration(seconds) * time.Second) },
	"offlineWhat": offlineWhat,
	"title": func(s string) string {
		s = strings.ReplaceAll(s, "_", " ")
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"has": func(role string, me *doorman.Principal) bool { return me != nil && me.Role == role },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}

// humanAgo says how long ago d was, in words.
func humanAgo(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "seconds ago"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// parsePages parses every page under templates/ with the layout and the
// shared partials: page "x/y.html" is rendered by executing "layout".
// Partials are files whose name starts with "_".
func parsePages() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/layout.html"))
	partials, _ := fs.Glob(files, "templates/_*.html")
	more, _ := fs.Glob(files, "templates/*/_*.html")
	partials = append(partials, more...)
	if len(partials) > 0 {
		base = template.Must(base.ParseFS(files, partials...))
	}
	pages := map[string]*template.Template{}
	err := fs.WalkDir(files, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		name := strings.TrimPrefix(path, "templates/")
		if name == "layout.html" || strings.HasPrefix(d.Name(), "_") {
			return nil
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(files, path))
		return nil
	})
	if err != nil {
		panic(err)
	}
	return pages
}

// render executes page with data inside the layout and writes it with
// status. It renders into a buffer first, so a template error becomes a
// 500 page rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	t, ok := s.pages[page]
	if !ok {
		panic("web: no page " + page)
	}
	v := view{Me: doorman.PrincipalFromContext(r.Context()), Path: r.URL.Path, Notice: notices[r.URL.Query().Get("done")], Page: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.logger.Error("web: render", "page", page, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>Something went wrong on our side.</p>")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fragment executes one named template of page (no layout), for live
// updates and partial answers.
func (s *Server) fragment(page, name string, data any) (string, error) {
	t, ok := s.pages[page]
	if !ok {
		panic("web: no page " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// errorPage is the data of error.html.
type errorPage struct {
	Status  int
	Message string
}

// renderError renders the error page.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, "error.html", errorPage{Status: status, Message: msg})
}

// redirect answers a form post by sending the browser to path (303), with
// a notice key the next page shows (see notices).
func redirect(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + notice
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// notices are the confirmations a redirect may ask the next page to show;
// only these keys are shown, so a link cannot put words on a page. Each
// area adds its own with addNotices when it registers its routes.
var notices = map[string]string{
	"signedout": "You are signed out.",
}

// addNotices adds confirmations a redirect may name. Called only while
// routes are registered (NewServer), never concurrently with requests.
func addNotices(m map[string]string) {
	for k, v := range m {
		notices[k] = v
	}
}
