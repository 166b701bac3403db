package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// carriersPage is the data of console/carriers.html.
type carriersPage struct {
	Building *doorman.Building
	Allowed  []*doorman.Carrier
	Others   []*doorman.Carrier
	// Hours is the hours form: one field per weekday, as typed or as
	// stored ("08:00-12:00, 14:00-20:00").
	Hours       []dayHours
	AnyHour     bool
	MaxDistance string
	// OfflineDays is the building's offline delivery window in days, as
	// typed or as stored ("0": off).
	OfflineDays string
	Error       *formError
	// Notices are the allowed carriers' notice states; NoticeDays is the
	// notice period form, NoticeError its error.
	Notices     []*app.CarrierNotice
	NoticeDays  string
	NoticeError *formError
}

// dayHours is one weekday of the hours form.
type dayHours struct {
	Key, Name, Windows string
}

var weekdays = []struct {
	key  string
	day  time.Weekday
	name string
}{
	{"monday", time.Monday, "Monday"}, {"tuesday", time.Tuesday, "Tuesday"}, {"wednesday", time.Wednesday, "Wednesday"},
	{"thursday", time.Thursday, "Thursday"}, {"friday", time.Friday, "Friday"}, {"saturday", time.Saturday, "Saturday"},
	{"sunday", time.Sunday, "Sunday"},
}

func (s *Server) carriersPage(w http.ResponseWriter, r *http.Request) {
	s.renderCarriers(w, r, http.StatusOK, nil)
}

// renderCarriers renders the page; form, when not nil, is the hours form
// as typed, shown again with its error.
func (s *Server) renderCarriers(w http.ResponseWriter, r *http.Request, status int, form *carriersPage) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &carriersPage{Building: b}
	if p.Allowed, _, err = s.app.Buildings.AllowedCarriers(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit}); err != nil {
		s.fail(w, r, err)
		return
	}
	all, _, err := s.app.Carriers.ListCarriers(ctx, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var period time.Duration
	if p.Notices, period, err = s.app.Notices.CarrierNotices(ctx, b.ID, s.now()); err != nil {
		s.fail(w, r, err)
		return
	}
	p.NoticeDays = strconv.FormatFloat(period.Hours()/24, 'f', -1, 64)
	if form != nil && form.NoticeError != nil {
		p.NoticeDays, p.NoticeError = form.NoticeDays, form.NoticeError
	}
	allowed := map[string]bool{}
	for _, c := range p.Allowed {
		allowed[c.ID] = true
	}
	for _, c := range all {
		if !allowed[c.ID] {
			p.Others = append(p.Others, c)
		}
	}
	if form != nil && form.Hours != nil {
		p.Hours, p.AnyHour, p.MaxDistance, p.OfflineDays, p.Error = form.Hours, form.AnyHour, form.MaxDistance, form.OfflineDays, form.Error
	} else {
		p.OfflineDays = strconv.Itoa(b.OfflineDeliveryDays)
		p.AnyHour = b.DeliveryHours == nil
		for _, d := range weekdays {
			var windows []string
			if b.DeliveryHours != nil {
				for _, win := range b.DeliveryHours.Day(d.day) {
					windows = append(windows, win.Start+"-"+win.End)
				}
			}
			p.Hours = append(p.Hours, dayHours{Key: d.key, Name: d.name, Windows: strings.Join(windows, ", ")})
		}
		if b.MaxDistanceMeters > 0 {
			p.MaxDistance = strconv.FormatFloat(b.MaxDistanceMeters, 'f', -1, 64)
		}
	}
	s.render(w, r, status, "console/carriers.html", p)
}

func (s *Server) carrierAllow(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Buildings.AllowCarrier(r.Context(), r.PathValue("id"), r.PostFormValue("carrier_id")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "carriers"), "cb-allowed")
}

func (s *Server) carrierDisallow(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Buildings.DisallowCarrier(r.Context(), r.PathValue("id"), r.PathValue("carrier")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "carriers"), "cb-disallowed")
}

// hoursUpdate saves the delivery hours, the distance limit and the offline
// delivery window (left as it is when the form has no offline_days). The
// form is only read here; the building service checks them as it checks
// the API's.
func (s *Server) hoursUpdate(w http.ResponseWriter, r *http.Request) {
	form := &carriersPage{AnyHour: r.PostFormValue("any_hour") == "1", MaxDistance: strings.TrimSpace(r.PostFormValue("max_distance"))}
	hours := &doorman.WeeklyHours{}
	var bad string
	for _, d := range weekdays {
		typed := r.PostFormValue(d.key)
		form.Hours = append(form.Hours, dayHours{Key: d.key, Name: d.name, Windows: typed})
		windows, ok := parseWindows(typed)
		if !ok && bad == "" && !form.AnyHour {
			bad = d.name + ": write each window as HH:MM-HH:MM, separated by commas (e.g. 08:00-12:00, 14:00-20:00)."
		}
		setDay(hours, d.day, windows)
	}
	var c app.BuildingChange
	if form.AnyHour {
		c.Clear = append(c.Clear, app.FieldDeliveryHours)
	} else {
		c.DeliveryHours = hours
	}
	if form.MaxDistance == "" {
		c.Clear = append(c.Clear, app.FieldMaxDistanceMeters)
	} else if v, err := strconv.ParseFloat(form.MaxDistance, 64); err != nil && bad == "" {
		bad = "The maximum distance must be a number of metres, or empty for no limit."
	} else {
		c.MaxDistanceMeters = &v
	}
	if _, sent := r.PostForm["offline_days"]; sent {
		form.OfflineDays = strings.TrimSpace(r.PostFormValue("offline_days"))
		if form.OfflineDays == "" {
			form.OfflineDays = "0"
		}
		if v, err := strconv.Atoi(form.OfflineDays); err != nil && bad == "" {
			bad = "Offline delivery must be a whole number of days: 0 for off, at most 30."
		} else {
			c.OfflineDeliveryDays = &v
		}
	}
	if bad != "" {
		form.Error = &formError{Message: bad}
		s.renderCarriers(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	_, err := s.app.Buildings.UpdateBuilding(r.Context(), r.PathValue("id"), c)
	if status, ferr, ok := s.refusal(r, err); ok {
		form.Error = ferr
		s.renderCarriers(w, r, status, form)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "carriers"), "cb-hours")
}

// noticePeriodUpdate sets the building's notice period, typed in days
// (fractions allowed, 0 for none); the notice service checks its bounds.
func (s *Server) noticePeriodUpdate(w http.ResponseWriter, r *http.Request) {
	typed := strings.TrimSpace(r.PostFormValue("notice_days"))
	form := &carriersPage{NoticeDays: typed}
	days, err := strconv.ParseFloat(typed, 64)
	if err != nil || days != days || days < 0 || days > 365 {
		form.NoticeError = &formError{Message: "The notice period is a number of days from 0 to 365."}
		s.renderCarriers(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	err = s.app.Notices.SetNoticePeriod(r.Context(), r.PathValue("id"), time.Duration(days*24*float64(time.Hour)))
	if status, ferr, ok := s.refusal(r, err); ok {
		form.NoticeError = ferr
		s.renderCarriers(w, r, status, form)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "carriers"), "cb-notice")
}

// parseWindows reads "08:00-12:00, 14:00-20:00" into windows (their times
// are checked by the building service).
func parseWindows(typed string) ([]doorman.Window, bool) {
	var out []doorman.Window
	for _, part := range strings.Split(typed, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		start, end, ok := strings.Cut(part, "-")
		if !ok {
			return nil, false
		}
		out = append(out, doorman.Window{Start: strings.TrimSpace(start), End: strings.TrimSpace(end)})
	}
	return out, true
}

func setDay(h *doorman.WeeklyHours, d time.Weekday, w []doorman.Window) {
	switch d {
	case time.Monday:
		h.Monday = w
	case time.Tuesday:
		h.Tuesday = w
	case time.Wednesday:
		h.Wednesday = w
	case time.Thursday:
		h.Thursday = w
	case time.Friday:
		h.Friday = w
	case time.Saturday:
		h.Saturday = w
	default:
		h.Sunday = w
	}
}
