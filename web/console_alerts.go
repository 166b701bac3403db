package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/doorman-dev/doorman"
)

// consoleAlertRoutes registers the building's alerts page: which alerts
// its managers are emailed, when a silent door counts as offline, and how
// long personal data is kept.
func (s *Server) consoleAlertRoutes() {
	m := func(h http.HandlerFunc) http.HandlerFunc { return s.need(h, doorman.RoleManager, doorman.RoleOperator) }
	s.mux.HandleFunc("GET /console/buildings/{id}/alerts", m(s.alertsPage))
	s.mux.HandleFunc("POST /console/buildings/{id}/alerts", m(s.alertsSave))
	addNotices(map[string]string{"alerts-saved": "The alert and retention settings are saved."})
}

// alertKind is one switch of the alerts form.
type alertKind struct {
	Key, Name, Hint string
	On              bool
}

// alertKindText names and explains each alert kind on the page.
var alertKindText = map[string][2]string{
	doorman.AlertDoorHeldOpen:       {"Door held open", "The door's sensor reports the door was held open too long."},
	doorman.AlertDoorForced:         {"Door forced open", "The door opened without Doorman unlocking it."},
	doorman.AlertDoorOffline:        {"Door offline", "The door's device has been silent longer than the minutes below, and again when it is back."},
	doorman.AlertRepeatedDenials:    {"Repeated denials", "One courier, or one door, refused 5 times within 10 minutes: possible abuse."},
	doorman.AlertAuditChainBroken:   {"Audit log no longer verifies", "Someone may have changed or deleted entries of the building's audit log."},
	doorman.AlertOfflineGrantMisuse: {"Offline grant misused", "A door reported a code shown to it offline that does not match what Doorman issued, or a grant used twice."},
}

// alertsPageData is the data of console/alerts.html.
type alertsPageData struct {
	Building       *doorman.Building
	Kinds          []alertKind
	OfflineMinutes string
	RetentionDays  string
	Error          *formError
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	s.renderAlerts(w, r, http.StatusOK, nil)
}

// renderAlerts renders the page; form, when not nil, is the form as
// typed, shown again with its error.
func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, status int, form *alertsPageData) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if form == nil {
		st, err := s.app.Alerts.Settings(ctx, b.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		form = &alertsPageData{OfflineMinutes: strconv.Itoa(st.OfflineMinutes), RetentionDays: strconv.Itoa(st.RetentionDays)}
		for _, k := range doorman.AlertKinds {
			t := alertKindText[k]
			form.Kinds = append(form.Kinds, alertKind{Key: k, Name: t[0], Hint: t[1], On: st.Enabled(k)})
		}
	}
	form.Building = b
	s.render(w, r, status, "console/alerts.html", form)
}

// alertsSave stores the form; bad numbers show the form again as typed,
// with the error.
func (s *Server) alertsSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, doorman.Errorf(doorman.EINVALID, "The form could not be read."))
		return
	}
	form := &alertsPageData{OfflineMinutes: strings.TrimSpace(r.PostFormValue("offline_minutes")),
		RetentionDays: strings.TrimSpace(r.PostFormValue("retention_days"))}
	st := &doorman.AlertSettings{}
	for _, k := range doorman.AlertKinds {
		t := alertKindText[k]
		on := r.PostFormValue("on_"+k) == "1"
		form.Kinds = append(form.Kinds, alertKind{Key: k, Name: t[0], Hint: t[1], On: on})
		if !on {
			st.Disabled = append(st.Disabled, k)
		}
	}
	var bad string
	var err error
	if st.OfflineMinutes, err = strconv.Atoi(form.OfflineMinutes); err != nil {
		bad = "Offline minutes must be a whole number of minutes."
	} else if st.RetentionDays, err = strconv.Atoi(form.RetentionDays); err != nil {
		bad = "Retention must be a whole number of days."
	}
	if bad != "" {
		form.Error = &formError{Message: bad}
		s.renderAlerts(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	err = s.app.Alerts.SetSettings(r.Context(), r.PathValue("id"), st)
	if status, ferr, ok := s.refusal(r, err); ok {
		form.Error = ferr
		s.renderAlerts(w, r, status, form)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "alerts"), "alerts-saved")
}
