package web

import (
	"net/http"
	"strings"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// consoleBuildingRoutes registers the manager's building pages: overview, units and residents, doors, carriers and hours, account.
func (s *Server) consoleBuildingRoutes() {
	m := func(h http.HandlerFunc) http.HandlerFunc { return s.need(h, doorman.RoleManager, doorman.RoleOperator) }
	s.mux.HandleFunc("GET /console/buildings/{id}", m(s.buildingOverview))
	s.mux.HandleFunc("POST /console/buildings/{id}", m(s.buildingUpdate))

	s.mux.HandleFunc("GET /console/buildings/{id}/units", m(s.unitsPage))
	s.mux.HandleFunc("POST /console/buildings/{id}/units", m(s.unitCreate))
	s.mux.HandleFunc("POST /console/buildings/{id}/units/{unit}/delete", m(s.unitDelete))
	s.mux.HandleFunc("POST /console/buildings/{id}/units/import", m(s.unitsImportPreview))
	s.mux.HandleFunc("POST /console/buildings/{id}/units/import/confirm", m(s.unitsImportConfirm))
	s.mux.HandleFunc("POST /console/buildings/{id}/residents", m(s.residentCreate))
	s.mux.HandleFunc("POST /console/buildings/{id}/residents/{resident}/delete", m(s.consoleResidentDelete))

	s.mux.HandleFunc("GET /console/buildings/{id}/doors", m(s.doorsPage))
	s.mux.HandleFunc("GET /console/buildings/{id}/doors/events", m(s.doorEvents))
	s.mux.HandleFunc("POST /console/buildings/{id}/doors", m(s.doorCreate))
	s.mux.HandleFunc("POST /console/buildings/{id}/doors/{door}/lockdown", m(s.doorLockdown))
	s.mux.HandleFunc("POST /console/buildings/{id}/doors/{door}/enrollments", m(s.enrollmentCreate))
	s.mux.HandleFunc("POST /console/buildings/{id}/devices/{device}/revoke", m(s.deviceRevoke))

	s.mux.HandleFunc("GET /console/buildings/{id}/carriers", m(s.carriersPage))
	s.mux.HandleFunc("POST /console/buildings/{id}/carriers", m(s.carrierAllow))
	s.mux.HandleFunc("POST /console/buildings/{id}/carriers/{carrier}/disallow", m(s.carrierDisallow))
	s.mux.HandleFunc("POST /console/buildings/{id}/hours", m(s.hoursUpdate))
	s.mux.HandleFunc("POST /console/buildings/{id}/notice-period", m(s.noticePeriodUpdate))

	s.consoleAccountRoutes()
	s.consoleWebhookRoutes()

	addNotices(map[string]string{
		"cb-building":     "The building is saved.",
		"cb-unit":         "The unit is added.",
		"cb-unitdel":      "The unit is deleted.",
		"cb-imported":     "The units are imported.",
		"cb-resident":     "The resident is added.",
		"cb-residentdel":  "The resident and their data are deleted.",
		"cb-door":         "The door is added. Create an enrollment code below to connect its device.",
		"cb-lockdown-on":  "The door is locked down: every delivery access is refused from now on.",
		"cb-lockdown-off": "The lockdown is lifted: deliveries may enter again.",
		"cb-revoked":      "The device is revoked and shut out.",
		"cb-allowed":      "The carrier is allowed. Its couriers are let in once every resident was sent notice and the notice period is over.",
		"cb-notice":       "The notice period is saved.",
		"cb-disallowed":   "The carrier may no longer enter.",
		"cb-hours":        "Delivery hours and distance are saved.",
	})
}

// buildingPath is the console path of a building's page (sub "" for the
// overview).
func buildingPath(id, sub string) string {
	if sub == "" {
		return "/console/buildings/" + id
	}
	return "/console/buildings/" + id + "/" + sub
}

// formError is a refused form: the message, and the field it is about
// when the service said.
type formError struct {
	Message string
	Items   []doorman.ErrorItem
}

// refusal turns a service error into what a form shows, or false when the
// error is not about the input (then the error page tells it).
func (s *Server) refusal(r *http.Request, err error) (int, *formError, bool) {
	switch doorman.ErrorCode(err) {
	case doorman.EINVALID, doorman.ECONFLICT, doorman.ETOOLARGE:
		status, msg := s.errorStatus(r, err)
		return status, &formError{Message: msg, Items: doorman.ErrorItems(err)}, true
	}
	return 0, nil, false
}

// overviewPage is the data of console/building.html.
type overviewPage struct {
	Building  *doorman.Building
	Doors     []*app.Door
	Units     int
	MoreUnits bool
	Residents int
	Carriers  int
	Form      struct{ Name, Address, Timezone string }
	Error     *formError
}

func (s *Server) buildingOverview(w http.ResponseWriter, r *http.Request) {
	s.renderOverview(w, r, http.StatusOK, nil, nil)
}

// renderOverview renders the overview; form, when not nil, is what was
// typed into the edit form, shown again with err.
func (s *Server) renderOverview(w http.ResponseWriter, r *http.Request, status int, form *overviewPage, ferr *formError) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &overviewPage{Building: b, Error: ferr}
	p.Form.Name, p.Form.Address, p.Form.Timezone = b.Name, b.Address, b.Timezone
	if form != nil {
		p.Form = form.Form
	}
	if p.Doors, _, err = s.app.Buildings.ListDoors(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit}); err != nil {
		s.fail(w, r, err)
		return
	}
	units, next, err := s.app.Buildings.ListUnits(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Units, p.MoreUnits = len(units), next != ""
	residents, _, err := s.app.Buildings.ListResidents(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Residents = len(residents)
	carriers, _, err := s.app.Buildings.AllowedCarriers(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Carriers = len(carriers)
	s.render(w, r, status, "console/building.html", p)
}

func (s *Server) buildingUpdate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var form overviewPage
	form.Form.Name = strings.TrimSpace(r.PostFormValue("name"))
	form.Form.Address = strings.TrimSpace(r.PostFormValue("address"))
	form.Form.Timezone = strings.TrimSpace(r.PostFormValue("timezone"))
	_, err := s.app.Buildings.UpdateBuilding(r.Context(), id, app.BuildingChange{
		Name: &form.Form.Name, Address: &form.Form.Address, Timezone: &form.Form.Timezone})
	if err != nil {
		if status, ferr, ok := s.refusal(r, err); ok {
			s.renderOverview(w, r, status, &form, ferr)
			return
		}
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(id, ""), "cb-building")
}
