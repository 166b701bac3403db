package web

import (
	"net/http"

	"github.com/doorman-dev/doorman"
)

// consoleRoutes registers the building manager's console.
func (s *Server) consoleRoutes() {
	s.mux.HandleFunc("GET /console/signin", s.consoleSignInPage)
	s.mux.HandleFunc("POST /console/signin", s.consoleSignIn)
	s.mux.HandleFunc("GET /console", s.need(s.consoleHome, doorman.RoleManager, doorman.RoleOperator))
}

// signInPage is the data of the console's sign-in form.
type signInPage struct {
	Email string
	Next  string
	Error string
}

func (s *Server) consoleSignInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "console/signin.html", signInPage{Next: r.URL.Query().Get("next")})
}

// consoleSignIn checks the manager's email and password with the accounts
// service (its guessing limits included) and starts a session. A wrong
// email and a wrong password get the same answer.
func (s *Server) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	email, pw, next := r.PostFormValue("email"), r.PostFormValue("password"), r.PostFormValue("next")
	signed, err := s.app.Accounts.SignIn(r.Context(), email, pw, s.clientAddr(r))
	if err != nil {
		status, msg := s.errorStatus(r, err)
		if status == http.StatusUnauthorized {
			msg = "That email and password do not match an account."
		}
		if d := doorman.ErrorRetryAfter(err); d > 0 {
			w.Header().Set("Retry-After", retryAfter(d))
		}
		s.render(w, r, status, "console/signin.html", signInPage{Email: email, Next: next, Error: msg})
		return
	}
	setSession(w, signed.Token, *signed.Credential.ExpiresAt)
	http.Redirect(w, r, localPath(next, "/console"), http.StatusSeeOther)
}

// consoleHomePage is the data of the console's first page.
type consoleHomePage struct {
	Buildings []*doorman.Building
}

// consoleHome lists the buildings the caller manages.
func (s *Server) consoleHome(w http.ResponseWriter, r *http.Request) {
	buildings, _, err := s.app.Buildings.ListBuildings(r.Context(), doorman.Page{Limit: 200})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console/home.html", consoleHomePage{Buildings: buildings})
}
