package web

import (
	"net/http"

	"github.com/doorman-dev/doorman"
)

// mailRoutes registers the console's mail page (the building's email
// messages, with a retry for dead ones) and the one-click unsubscribe
// endpoint that mail's List-Unsubscribe header names.
func (s *Server) mailRoutes() {
	m := func(h http.HandlerFunc) http.HandlerFunc { return s.need(h, doorman.RoleManager, doorman.RoleOperator) }
	s.mux.HandleFunc("GET /console/buildings/{id}/mail", m(s.consoleMail))
	s.mux.HandleFunc("POST /console/buildings/{id}/mail/{message}/retry", m(s.consoleMailRetry))
	// No session: the signed token in the link is the authority (RFC 8058).
	s.mux.HandleFunc("GET /unsubscribe", s.unsubscribePage)
	s.mux.HandleFunc("POST /unsubscribe", s.unsubscribe)
	addNotices(map[string]string{
		"mail-retry": "The message is queued again.",
	})
}

// consoleMailPage is the data of the console's mail page.
type consoleMailPage struct {
	Building *doorman.Building
	Mail     []*doorman.Message
	Next     string
	// Logged: no SMTP server is configured, so mail is kept here only.
	Logged bool
}

// consoleMail shows a building's email messages.
func (s *Server) consoleMail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	b, err := s.app.Buildings.Building(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mail, next, err := s.app.Outbox.BuildingMail(r.Context(), id, doorman.Page{After: r.URL.Query().Get("after"), Limit: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console/mail.html", consoleMailPage{Building: b, Mail: mail, Next: next, Logged: s.app.Outbox.MailIsLogged()})
}

// consoleMailRetry queues a dead message again.
func (s *Server) consoleMailRetry(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.app.Outbox.Retry(r.Context(), id, r.PathValue("message")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(id, "mail"), "mail-retry")
}

// unsubscribeForm is the data of unsubscribe.html.
type unsubscribeForm struct {
	Token string
	// Done names the preference turned off.
	Done string
}

// unsubscribePage asks to confirm: fetching the link (as a mail scanner
// does) changes nothing.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "unsubscribe.html", unsubscribeForm{Token: r.URL.Query().Get("t")})
}

// unsubscribe turns the notification off: the mail client's one-click
// POST (RFC 8058, body List-Unsubscribe=One-Click, token in the URL) or
// the confirm form's (token in the body).
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	pref, err := s.app.Outbox.Unsubscribe(r.Context(), r.FormValue("t"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "unsubscribe.html", unsubscribeForm{Done: pref})
}
