package web

import (
	"net/http"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// consoleRoutes registers the building manager's console.
func (s *Server) consoleRoutes() {
	s.mux.HandleFunc("GET /console/signin", s.consoleSignInPage)
	s.mux.HandleFunc("POST /console/signin", s.consoleSignIn)
	s.mux.HandleFunc("POST /console/signin/code", s.consoleSignInCode)
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
// service (its guessing limits included) and starts a session, or, for a
// manager with sign-in codes on, asks for a code (consoleSignInCode). A
// wrong email and a wrong password get the same answer.
func (s *Server) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	email, pw, next := r.PostFormValue("email"), r.PostFormValue("password"), r.PostFormValue("next")
	step, err := s.app.Accounts.BeginSignIn(r.Context(), email, pw, s.clientAddr(r))
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
	if step.Signed == nil {
		s.render(w, r, http.StatusOK, "console/signin_code.html", signInCodePage{Challenge: step.Challenge, Next: next})
		return
	}
	setSession(w, step.Signed.Token, *step.Signed.Credential.ExpiresAt)
	http.Redirect(w, r, localPath(next, "/console"), http.StatusSeeOther)
}

// signInCodePage is the data of the sign-in's second step.
type signInCodePage struct {
	Challenge string
	Next      string
	Error     string
}

// consoleSignInCode is the second step of a sign-in with codes on: the
// challenge the first step gave (proof of the password, short-lived) and
// the code. The accounts service limits codes per manager; no session
// exists before a right code.
func (s *Server) consoleSignInCode(w http.ResponseWriter, r *http.Request) {
	challenge, next := r.PostFormValue("challenge"), r.PostFormValue("next")
	signed, err := s.app.Accounts.FinishSignIn(r.Context(), challenge, r.PostFormValue("code"), s.clientAddr(r))
	if err != nil {
		status, msg := s.errorStatus(r, err)
		if d := doorman.ErrorRetryAfter(err); d > 0 {
			w.Header().Set("Retry-After", retryAfter(d))
		}
		if status == http.StatusUnauthorized && doorman.ErrorReason(err) != app.ReasonTOTPInvalid {
			s.render(w, r, status, "console/signin.html", signInPage{Next: next, Error: msg})
			return
		}
		s.render(w, r, status, "console/signin_code.html", signInCodePage{Challenge: challenge, Next: next, Error: msg})
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
