package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// courierRoutes registers the courier's page: sign-in with the session
// its carrier minted (a code or a link), the doors and parcels, a door's
// page (chosen from the QR sticker at the door), opening the door and
// marking parcels delivered.
func (s *Server) courierRoutes() {
	s.mux.HandleFunc("GET /courier/signin", s.courierSignInPage)
	s.mux.HandleFunc("POST /courier/signin", s.courierSignIn)
	s.mux.HandleFunc("GET /courier", s.need(s.courierHome, doorman.RoleCourier))
	s.mux.HandleFunc("GET /courier/doors/{door}", s.need(s.courierDoorPage, doorman.RoleCourier))
	s.mux.HandleFunc("POST /courier/doors/{door}/open", s.need(s.courierOpen, doorman.RoleCourier))
	s.mux.HandleFunc("POST /courier/deliver", s.need(s.courierDeliver, doorman.RoleCourier))
	addNotices(map[string]string{
		"courier-signedin": "You are signed in.",
		"delivered":        "Marked delivered. Thank you.",
	})
}

// courierSignInPageData is the data of courier/signin.html.
type courierSignInPageData struct {
	// Link is the token of a sign-in link, shown as a Continue button
	// (GET never signs in, so link previewers cannot use the link).
	Link  string
	Code  string
	Next  string
	Error string
}

func (s *Server) courierSignInPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.render(w, r, http.StatusOK, "courier/signin.html", courierSignInPageData{Link: strings.TrimSpace(q.Get("t")), Next: q.Get("next")})
}

// courierSignIn starts a session with the courier session token typed,
// pasted or carried by a link.
func (s *Server) courierSignIn(w http.ResponseWriter, r *http.Request) {
	code, next := strings.TrimSpace(r.PostFormValue("code")), r.PostFormValue("next")
	ws, err := s.app.Credentials.SignInWithToken(r.Context(), doorman.RoleCourier, code, s.clientAddr(r))
	if err != nil {
		status, msg := s.errorStatus(r, err)
		if status == http.StatusUnauthorized {
			msg = "That code does not work: it may be mistyped, expired or revoked. Ask your carrier's app for a new one."
		}
		if d := doorman.ErrorRetryAfter(err); d > 0 {
			w.Header().Set("Retry-After", retryAfter(d))
		}
		s.render(w, r, status, "courier/signin.html", courierSignInPageData{Next: next, Error: msg})
		return
	}
	setSession(w, ws.Token, ws.ExpiresAt)
	redirect(w, r, localPath(next, "/courier"), "courier-signedin")
}

// courierHomeData is the data of courier/home.html.
type courierHomeData struct {
	Doors   []app.CourierDoor
	Parcels []app.CourierParcel
}

// courierHome lists the doors of the buildings the courier has parcels
// for, and the courier's parcels.
func (s *Server) courierHome(w http.ResponseWriter, r *http.Request) {
	doors, err := s.app.Carriers.CourierDoors(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	parcels, _, err := s.app.Carriers.CourierParcels(r.Context(), "", doorman.Page{Limit: 200})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "courier/home.html", courierHomeData{Doors: doors, Parcels: parcels})
}

// courierDoorData is the data of courier/door.html.
type courierDoorData struct {
	Door *app.CourierDoor
	// Parcels are the courier's parcels out for delivery to this building,
	// offered as checkboxes.
	Parcels []app.CourierParcel
	// Checked are the tracking numbers ticked, Typed what was typed, when
	// the form comes back with an error.
	Checked map[string]bool
	Typed   string
	Error   string
	// Result is the answer to "Open the door", once asked.
	Result *courierResult
	// Delivered are the parcels asked with, to be marked delivered.
	Delivered []app.CourierParcel
	// Hours are the building's delivery hours (nil: at any hour).
	Hours []publicDayHours
	// Returns are the returns waiting for the courier's carrier here.
	Returns []*app.PendingReturn
}

// courierResult is the answer shown in big letters.
type courierResult struct {
	Open    bool
	Message string
	Detail  string
	// Offline is the offline grant to show the door's reader, when the
	// door did not answer and its building allows offline delivery.
	Offline *offlineCode
}

// offlineCode is an offline grant drawn as a QR code for the door's
// reader.
type offlineCode struct {
	QR template.URL
	// Seconds is how long it has left when the page is drawn; the page's
	// script counts it down and hides the code when it runs out.
	Seconds int
}

// courierDoor loads the door of the request and the courier's parcels for
// its building (out for delivery).
func (s *Server) courierDoor(r *http.Request) (*courierDoorData, error) {
	door, err := s.app.Carriers.CourierDoor(r.Context(), r.PathValue("door"))
	if err != nil {
		return nil, err
	}
	all, _, err := s.app.Carriers.CourierParcels(r.Context(), doorman.ParcelOutForDelivery, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	data := &courierDoorData{Door: door, Checked: map[string]bool{}, Hours: publicWeekHours(door.DeliveryHours)}
	if data.Returns, err = s.app.Returns.Pending(r.Context(), door.Building.ID); err != nil {
		return nil, err
	}
	for _, p := range all {
		if p.Building.ID == door.Building.ID {
			data.Parcels = append(data.Parcels, p)
			data.Checked[p.TrackingNumber] = true
		}
	}
	return data, nil
}

func (s *Server) courierDoorPage(w http.ResponseWriter, r *http.Request) {
	data, err := s.courierDoor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "courier/door.html", data)
}

// courierOpen asks the access service to open the door for the parcels
// ticked and typed, as the carrier's app would through the API, and shows
// the answer: OPEN, or why not in plain words.
func (s *Server) courierOpen(w http.ResponseWriter, r *http.Request) {
	data, err := s.courierDoor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	typed := r.PostForm.Get("tracking")
	tracking := append([]string{}, r.PostForm["parcel"]...)
	tracking = append(tracking, splitTracking(typed)...)
	data.Checked = map[string]bool{}
	for _, t := range r.PostForm["parcel"] {
		data.Checked[t] = true
	}
	data.Typed = typed
	if len(tracking) == 0 {
		data.Error = "Tick a parcel or type its tracking number."
		s.render(w, r, http.StatusUnprocessableEntity, "courier/door.html", data)
		return
	}
	res, err := s.app.Access.RequestAccess(r.Context(), doorman.AccessRequest{DoorID: data.Door.ID, TrackingNumbers: tracking})
	if err != nil {
		status, msg := s.errorStatus(r, err)
		data.Error = msg
		s.render(w, r, status, "courier/door.html", data)
		return
	}
	data.Result = &courierResult{Open: res.Decision.Allowed}
	if res.Decision.Allowed {
		asked := map[string]bool{}
		for _, t := range tracking {
			asked[strings.TrimSpace(t)] = true
		}
		for _, p := range data.Parcels {
			if asked[p.TrackingNumber] {
				data.Delivered = append(data.Delivered, p)
			}
		}
	} else {
		data.Result.Message = denialMessage(res.Decision.Reason, res.RetryAfter)
		data.Result.Detail = res.Decision.Detail
		if og := res.OfflineGrant; og != nil {
			qr, err := qrDataURI(og.Token)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			left := int(time.Until(og.ExpiresAt) / time.Second)
			data.Result.Offline = &offlineCode{QR: qr, Seconds: max(left, 0)}
			data.Result.Message = "The door did not answer: its link is down. It opens on its own for the code below."
		}
		if res.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfter(res.RetryAfter))
		}
	}
	s.render(w, r, http.StatusOK, "courier/door.html", data)
}

// splitTracking splits typed tracking numbers at commas, semicolons and
// white space; the access service trims and de-duplicates them.
func splitTracking(typed string) []string {
	return strings.FieldsFunc(typed, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	})
}

// courierDeliverData is the data of courier/deliver.html, shown when a
// delivery could not be marked.
type courierDeliverData struct {
	Tracking string
	Note     string
	Back     string
	Error    string
}

// courierDeliver marks one of the courier's parcels delivered, with where
// it was left and, if one was taken, a photo, and goes back to the page
// it came from.
func (s *Server) courierDeliver(w http.ResponseWriter, r *http.Request) {
	f, err := readDeliverForm(w, r)
	tracking, note, back := f.Tracking, f.Note, localPath(f.Back, "/courier")
	if err == nil {
		_, err = s.app.Carriers.DeliverParcelWithPhoto(r.Context(), tracking, note, f.Photo)
	}
	if err != nil {
		status, msg := s.errorStatus(r, err)
		if doorman.ErrorReason(err) == doorman.ReasonParcelAlreadyDelivered {
			msg = "This parcel is already marked delivered."
		}
		s.render(w, r, status, "courier/deliver.html", courierDeliverData{Tracking: tracking, Note: note, Back: back, Error: msg})
		return
	}
	redirect(w, r, back, "delivered")
}

// courierDoorPath is the path of a door's courier page: what its QR
// sticker holds.
func courierDoorPath(doorID string) string {
	return "/courier/doors/" + url.PathEscape(doorID)
}
