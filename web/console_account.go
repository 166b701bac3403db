package web

import (
	"html/template"
	"net/http"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// consoleAccountRoutes registers the manager's account page: sign-in
// codes (TOTP) and signing out everywhere.
func (s *Server) consoleAccountRoutes() {
	s.mux.HandleFunc("GET /console/account", s.need(s.accountPage, doorman.RoleManager))
	s.mux.HandleFunc("POST /console/account/totp", s.need(s.totpStart, doorman.RoleManager))
	s.mux.HandleFunc("POST /console/account/totp/confirm", s.need(s.totpConfirm, doorman.RoleManager))
	s.mux.HandleFunc("POST /console/account/totp/disable", s.need(s.totpDisable, doorman.RoleManager))
	s.mux.HandleFunc("POST /console/account/signout-everywhere", s.need(s.signOutEverywhere, doorman.RoleManager))
	addNotices(map[string]string{
		"acct-totp-on":    "Sign-in codes are on. From now on, signing in asks for a code from your app.",
		"acct-totp-off":   "Sign-in codes are off.",
		"acct-everywhere": "You are signed out everywhere, here too.",
	})
}

// accountPage is the data of console/account.html.
type accountPage struct {
	Account *app.Account
	QR      template.URL
	Error   string
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, http.StatusOK, "")
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, msg string) {
	a, err := s.app.Accounts.Account(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := accountPage{Account: a, Error: msg}
	if a.TOTPPending != nil {
		if p.QR, err = qrDataURI(a.TOTPPending.URL); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, status, "console/account.html", p)
}

// totpStart makes a new secret; the account page then shows it with its
// QR code and asks for a code to confirm.
func (s *Server) totpStart(w http.ResponseWriter, r *http.Request) {
	if _, err := s.app.Accounts.StartTOTP(r.Context()); err != nil {
		s.accountRefused(w, r, err)
		return
	}
	http.Redirect(w, r, "/console/account#totp", http.StatusSeeOther)
}

func (s *Server) totpConfirm(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Accounts.ConfirmTOTP(r.Context(), r.PostFormValue("code")); err != nil {
		s.accountRefused(w, r, err)
		return
	}
	redirect(w, r, "/console/account", "acct-totp-on")
}

func (s *Server) totpDisable(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Accounts.DisableTOTP(r.Context(), r.PostFormValue("code")); err != nil {
		s.accountRefused(w, r, err)
		return
	}
	redirect(w, r, "/console/account", "acct-totp-off")
}

// accountRefused shows the account page with a refused code or setup;
// other errors get the error page.
func (s *Server) accountRefused(w http.ResponseWriter, r *http.Request, err error) {
	switch doorman.ErrorCode(err) {
	case doorman.EINVALID, doorman.ECONFLICT, doorman.ETOOMANYREQUEST:
	case doorman.EUNAUTHORIZED:
		if doorman.ErrorReason(err) != app.ReasonTOTPInvalid {
			s.fail(w, r, err)
			return
		}
	default:
		s.fail(w, r, err)
		return
	}
	status, msg := s.errorStatus(r, err)
	if d := doorman.ErrorRetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", retryAfter(d))
	}
	// A wrong code is not a lost session: 422, not 401.
	if status == http.StatusUnauthorized {
		status = http.StatusUnprocessableEntity
	}
	s.renderAccount(w, r, status, msg)
}

// signOutEverywhere revokes every session of the manager, this one too.
func (s *Server) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	if _, err := s.app.Credentials.RevokeAllSessions(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	clearSession(w)
	redirect(w, r, "/console/signin", "acct-everywhere")
}
