package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// sessionCookie holds the session token of whoever uses this browser: a
// manager, an operator, a courier or a resident. The __Host- prefix makes
// browsers refuse it unless it is Secure, host-only and for every path;
// browsers treat http://localhost and 127.0.0.1 as secure, so it works on
// the demo too.
const sessionCookie = "__Host-doorman-session"

// setSession stores token in the session cookie until expires.
func setSession(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// clearSession removes the session cookie.
func clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// authenticate resolves the session cookie into a principal, through the
// credentials service as for the API's bearer tokens; a cookie that no
// longer names a session (expired, revoked) is removed.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" || strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.app.Credentials.Authenticate(r.Context(), c.Value)
		if err != nil {
			if doorman.ErrorCode(err) != doorman.EUNAUTHORIZED {
				s.fail(w, r, err)
				return
			}
			clearSession(w)
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(doorman.NewContextWithPrincipal(r.Context(), p)))
	})
}

// signInPaths is where each role signs in.
var signInPaths = map[string]string{
	doorman.RoleManager:  "/console/signin",
	doorman.RoleOperator: "/operator/signin",
	doorman.RoleCourier:  "/courier/signin",
	doorman.RoleResident: "/resident/signin",
}

// need wraps a page that only the given roles may see. A visitor is sent
// to the first role's sign-in page, coming back here afterwards; a
// principal of another role is told it may not see the page. The
// services authorise every object again: this only picks the right
// answer for a browser.
func (s *Server) need(h http.HandlerFunc, roles ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := doorman.PrincipalFromContext(r.Context())
		if p == nil {
			if r.Method != http.MethodGet {
				s.renderError(w, r, http.StatusUnauthorized, "Your session has ended. Sign in again.")
				return
			}
			http.Redirect(w, r, signInPaths[roles[0]]+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		for _, role := range roles {
			if p.Role == role {
				h(w, r)
				return
			}
		}
		s.renderError(w, r, http.StatusForbidden, "This page is not for your account. Sign out and sign in with the right one.")
	}
}

// localPath returns next if it is a path on this site, else fallback:
// the sign-in pages' "next" may never send anyone elsewhere. Browsers
// drop tabs and newlines from URLs and read a backslash as a slash, so
// "/\t/evil.example" or "/\\evil.example" would become "//evil.example",
// another site: any control character or backslash is refused.
func localPath(next, fallback string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") {
		return fallback
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fallback
		}
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return next
}

// signOut ends the session of this browser.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if doorman.PrincipalFromContext(r.Context()) != nil {
		if err := s.app.Credentials.RevokeCurrent(r.Context()); err != nil && doorman.ErrorCode(err) != doorman.EUNAUTHORIZED {
			s.fail(w, r, err)
			return
		}
	}
	clearSession(w)
	redirect(w, r, "/", "signedout")
}
