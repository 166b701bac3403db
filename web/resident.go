package web

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"

	"github.com/doorman-dev/doorman"
)

// residentRoutes registers the resident's page, reached by a magic link.
func (s *Server) residentRoutes() {
	s.mux.HandleFunc("GET /resident/signin", s.residentSignInPage)
	s.mux.HandleFunc("POST /resident/signin", s.residentSignIn)
	s.mux.HandleFunc("GET /resident/link", s.residentLinkPage)
	s.mux.HandleFunc("POST /resident/link", s.residentLink)
	s.mux.HandleFunc("GET /resident", s.need(s.residentHome, doorman.RoleResident))
	s.mux.HandleFunc("POST /resident/preferences", s.need(s.residentPreferences, doorman.RoleResident))
	s.mux.HandleFunc("GET /resident/delete", s.need(s.residentDeletePage, doorman.RoleResident))
	s.mux.HandleFunc("POST /resident/delete", s.need(s.residentDelete, doorman.RoleResident))
	s.mux.HandleFunc("GET /resident/entries/{id}/proof", s.need(s.residentProof, doorman.RoleResident))
	s.mux.HandleFunc("GET /resident/buildings/{id}/checkpoint", s.need(s.residentCheckpoint, doorman.RoleResident))
	addNotices(map[string]string{
		"prefs":   "Your notification preferences are saved.",
		"deleted": "Your data is deleted and you are signed out. Thank you for using Doorman.",
	})
}

// residentSignInForm is the data of the resident's sign-in form and of
// the answer after it.
type residentSignInForm struct {
	Email string
	Error string
	// Sent: the request was taken (whether or not the email is a
	// resident's: the answer is the same).
	Sent bool
}

func (s *Server) residentSignInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "resident/signin.html", residentSignInForm{})
}

// residentSignIn asks the residents service to mail a sign-in link. The
// page says the same whether or not the email belongs to a resident.
func (s *Server) residentSignIn(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	base, ok := s.linkBase(r)
	if !ok {
		s.renderError(w, r, http.StatusServiceUnavailable, "Sign-in links cannot be sent: this Doorman has no public address set (doorman serve --public-url). Tell your building's manager.")
		return
	}
	if err := s.app.Residents.RequestLink(r.Context(), email, s.clientAddr(r), base); err != nil {
		status, msg := s.errorStatus(r, err)
		if d := doorman.ErrorRetryAfter(err); d > 0 {
			w.Header().Set("Retry-After", retryAfter(d))
		}
		s.render(w, r, status, "resident/signin.html", residentSignInForm{Email: email, Error: msg})
		return
	}
	s.render(w, r, http.StatusOK, "resident/signin.html", residentSignInForm{Email: strings.TrimSpace(email), Sent: true})
}

// linkBase is the base URL magic links lead to: the configured public
// URL, or, without one, this request's own only when it came to a
// loopback address. A link mailed to a resident must never lead to a
// host someone put in a Host header.
func (s *Server) linkBase(r *http.Request) (string, bool) {
	if s.publicURL != "" {
		return trimSlash(s.publicURL), true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); host == "localhost" || ip != nil && ip.IsLoopback() {
		return s.baseURL(r), true
	}
	return "", false
}

// residentLinkForm is the data of the page a magic link opens.
type residentLinkForm struct {
	Token string
	Error string
}

// residentLinkPage shows a Continue button that posts the link's token:
// mail scanners that fetch links do not use them up.
func (s *Server) residentLinkPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "resident/link.html", residentLinkForm{Token: r.URL.Query().Get("t")})
}

// residentLink exchanges the link for a resident session.
func (s *Server) residentLink(w http.ResponseWriter, r *http.Request) {
	signed, err := s.app.Residents.UseLink(r.Context(), r.PostFormValue("t"), s.clientAddr(r))
	if err != nil {
		status, msg := s.errorStatus(r, err)
		s.render(w, r, status, "resident/link.html", residentLinkForm{Error: msg})
		return
	}
	setSession(w, signed.Token, *signed.Credential.ExpiresAt)
	http.Redirect(w, r, "/resident", http.StatusSeeOther)
}

// residentHome is the resident's page.
func (s *Server) residentHome(w http.ResponseWriter, r *http.Request) {
	h, err := s.app.Residents.Home(r.Context())
	if err != nil {
		s.residentFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "resident/home.html", h)
}

// residentFail is fail, except that a resident whose session no longer
// stands (their data deleted) is signed out of this browser.
func (s *Server) residentFail(w http.ResponseWriter, r *http.Request, err error) {
	if doorman.ErrorCode(err) == doorman.EUNAUTHORIZED {
		clearSession(w)
	}
	s.fail(w, r, err)
}

// residentPreferences saves the notification preferences.
func (s *Server) residentPreferences(w http.ResponseWriter, r *http.Request) {
	p := doorman.ResidentPreferences{
		NotifyDelivery: r.PostFormValue("notify_delivery") == "on",
		NotifyEntry:    r.PostFormValue("notify_entry") == "on",
	}
	if err := s.app.Residents.SetPreferences(r.Context(), p); err != nil {
		s.residentFail(w, r, err)
		return
	}
	redirect(w, r, "/resident", "prefs")
}

// residentDeletePage explains what deleting one's data deletes and keeps.
func (s *Server) residentDeletePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "resident/delete.html", nil)
}

// residentDelete deletes the resident's data and signs this browser out.
func (s *Server) residentDelete(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("confirm") != "yes" {
		s.render(w, r, http.StatusUnprocessableEntity, "resident/delete.html", "Tick the box to confirm that your data should be deleted.")
		return
	}
	if err := s.app.Residents.DeleteMyData(r.Context()); err != nil {
		s.residentFail(w, r, err)
		return
	}
	clearSession(w)
	redirect(w, r, "/resident/signin", "deleted")
}

// residentProof downloads an entry's inclusion proof, as JSON, for the
// latest checkpoint of its chain.
func (s *Server) residentProof(w http.ResponseWriter, r *http.Request) {
	proof, err := s.app.Audit.InclusionProof(r.Context(), r.PathValue("id"), 0)
	if err != nil {
		s.residentFail(w, r, err)
		return
	}
	writeDownload(w, "application/json", "inclusion-proof-"+proof.EntryID+".json", func() ([]byte, error) {
		return json.MarshalIndent(proof, "", "  ")
	})
}

// residentCheckpoint shows the building chain's latest signed checkpoint
// as the text it is.
func (s *Server) residentCheckpoint(w http.ResponseWriter, r *http.Request) {
	cp, err := s.app.Audit.Checkpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		s.residentFail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.Write([]byte(cp.Note))
}

// writeDownload answers with a file to save.
func writeDownload(w http.ResponseWriter, contentType, name string, body func() ([]byte, error)) {
	b, err := body()
	if err != nil {
		http.Error(w, "could not encode the file", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}
