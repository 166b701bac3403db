package web

import (
	"net/http"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// returnRoutes registers the pages of returns: the resident registers
// one; the courier marks one collected from the door's page.
func (s *Server) returnRoutes() {
	s.mux.HandleFunc("GET /resident/returns", s.need(s.residentReturnsPage, doorman.RoleResident))
	s.mux.HandleFunc("POST /resident/returns", s.need(s.residentRegisterReturn, doorman.RoleResident))
	s.mux.HandleFunc("POST /courier/returns/collect", s.need(s.courierCollectReturn, doorman.RoleCourier))
	addNotices(map[string]string{
		"returned":  "Your return is registered. The carrier's courier can now pick it up.",
		"collected": "The return is marked collected. The resident is told.",
	})
}

// residentReturnsData is the data of resident/returns.html.
type residentReturnsData struct {
	Returns  []*doorman.Return
	Carriers []*doorman.Carrier
	Names    map[string]string // carrier names by ID
	Places   []string
	Form     app.ReturnInput
	Error    string
}

func (s *Server) residentReturnsData(r *http.Request) (*residentReturnsData, error) {
	carriers, err := s.app.Returns.ReturnCarriers(r.Context())
	if err != nil {
		return nil, err
	}
	list, err := s.app.Returns.MyReturns(r.Context())
	if err != nil {
		return nil, err
	}
	d := &residentReturnsData{Returns: list, Carriers: carriers, Names: map[string]string{}, Places: doorman.ReturnPlaces,
		Form: app.ReturnInput{Place: doorman.ReturnPlaceLobby}}
	for _, c := range carriers {
		d.Names[c.ID] = c.Name
	}
	return d, nil
}

// residentReturnsPage lists the resident's returns with the form to
// register one.
func (s *Server) residentReturnsPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.residentReturnsData(r)
	if err != nil {
		s.residentFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "resident/returns.html", d)
}

// residentRegisterReturn registers a return; bad input shows the form
// again with what was typed.
func (s *Server) residentRegisterReturn(w http.ResponseWriter, r *http.Request) {
	in := app.ReturnInput{CarrierID: r.PostFormValue("carrier"), TrackingNumber: r.PostFormValue("tracking"), Place: r.PostFormValue("place")}
	if _, err := s.app.Returns.Register(r.Context(), in); err != nil {
		d, derr := s.residentReturnsData(r)
		if derr != nil {
			s.residentFail(w, r, derr)
			return
		}
		status, msg := s.errorStatus(r, err)
		d.Form, d.Error = in, msg
		s.render(w, r, status, "resident/returns.html", d)
		return
	}
	redirect(w, r, "/resident/returns", "returned")
}

// courierCollectData is the data of courier/collect.html, shown when a
// collection could not be marked.
type courierCollectData struct {
	Tracking string
	Back     string
	Error    string
}

// courierCollectReturn marks a return collected and goes back to the
// door's page.
func (s *Server) courierCollectReturn(w http.ResponseWriter, r *http.Request) {
	tracking := r.PostFormValue("tracking")
	back := localPath(r.PostFormValue("back"), "/courier")
	if _, err := s.app.Returns.Collect(r.Context(), tracking); err != nil {
		status, msg := s.errorStatus(r, err)
		s.render(w, r, status, "courier/collect.html", courierCollectData{Tracking: tracking, Back: back, Error: msg})
		return
	}
	redirect(w, r, back, "collected")
}
