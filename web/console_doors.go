package web

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"

	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	qrcode "github.com/skip2/go-qrcode"
)

// doorsPage is the data of console/doors.html.
type doorsPage struct {
	Building *doorman.Building
	Doors    []*app.DoorState
	// Offline is each door's latest offline activity, by door ID.
	Offline  map[string][]*app.OfflineEvent
	Devices  []deviceRow
	DoorName string
	Error    *formError
	Now      time.Time
}

// offlineActivityShown is how many of a door's latest offline events its
// card shows.
const offlineActivityShown = 10

// deviceRow is a device with the name of its door.
type deviceRow struct {
	*doorman.Device
	Door string
}

func (s *Server) doorsPage(w http.ResponseWriter, r *http.Request) {
	s.renderDoors(w, r, http.StatusOK, &doorsPage{})
}

func (s *Server) renderDoors(w http.ResponseWriter, r *http.Request, status int, p *doorsPage) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Building, p.Now = b, s.now()
	if p.Doors, err = s.app.Buildings.DoorStates(ctx, b.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[string]string{}
	p.Offline = map[string][]*app.OfflineEvent{}
	for _, d := range p.Doors {
		names[d.ID] = d.Name
		if p.Offline[d.ID], _, err = s.app.Buildings.OfflineActivity(ctx, b.ID, d.ID, doorman.Page{Limit: offlineActivityShown}); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	devices, _, err := s.app.Devices.ListDevices(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, d := range devices {
		p.Devices = append(p.Devices, deviceRow{Device: d, Door: names[d.DoorID]})
	}
	s.render(w, r, status, "console/doors.html", p)
}

func (s *Server) doorCreate(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	_, err := s.app.Buildings.CreateDoor(r.Context(), &doorman.Door{BuildingID: r.PathValue("id"), Name: name})
	if status, ferr, ok := s.refusal(r, err); ok {
		s.renderDoors(w, r, status, &doorsPage{DoorName: name, Error: ferr})
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "doors"), "cb-door")
}

// doorLockdown turns a door's lockdown on (on=1) or off (on=0); it takes
// effect at once: the next access request is refused, and grants not yet
// used are revoked.
func (s *Server) doorLockdown(w http.ResponseWriter, r *http.Request) {
	on := r.PostFormValue("on") == "1"
	if _, err := s.app.Buildings.SetLockdown(r.Context(), r.PathValue("id"), r.PathValue("door"), on); err != nil {
		s.fail(w, r, err)
		return
	}
	notice := "cb-lockdown-off"
	if on {
		notice = "cb-lockdown-on"
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "doors"), notice)
}

// enrollmentPage is the data of console/enrollment.html.
type enrollmentPage struct {
	Building   *doorman.Building
	Door       *app.Door
	Enrollment *app.NewEnrollment
	QR         template.URL
	Server     string
	ValidFor   string
}

// enrollmentCreate makes a one-time enrollment code for a door and shows
// it, once, with a QR code of it. The answer is never cached.
func (s *Server) enrollmentCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.app.Buildings.Door(ctx, b.ID, r.PathValue("door"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.app.Devices.CreateEnrollment(ctx, b.ID, d.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	qr, err := qrDataURI(e.Code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "console/enrollment.html", enrollmentPage{Building: b, Door: d, Enrollment: e, QR: qr,
		Server: s.baseURL(r), ValidFor: humanDuration(e.ExpiresAt.Sub(s.now()))})
}

func (s *Server) deviceRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Devices.RevokeDevice(r.Context(), r.PathValue("id"), r.PathValue("device")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "doors"), "cb-revoked")
}

// qrDataURI is a QR code of content as a PNG data: URI, which the
// Content-Security-Policy allows for images.
func qrDataURI(content string) (template.URL, error) {
	png, err := qrcode.Encode(content, qrcode.Medium, 256)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}

// humanDuration says d in whole minutes (rounded up).
func humanDuration(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 1 {
		m = 1
	}
	return plural(m, "minute")
}

// Live door status over Server-Sent Events.
const (
	// doorPoll is how often the stream reads the doors' status.
	doorPoll = 2 * time.Second
	// doorKeepAlive is how often an idle stream sends a comment, so that
	// proxies keep it open.
	doorKeepAlive = 15 * time.Second
)

// doorEvents streams the doors' status table as "doors" events whenever
// it changes, rendered on the server (the page swaps the HTML in; see
// app.js). It reads the status as the signed-in principal every
// doorPoll, checks the session is still valid each time (a session
// revoked or expired ends the stream), and stops when the client goes.
func (s *Server) doorEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	doors, err := s.app.Buildings.DoorStates(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cookie, _ := r.Cookie(sessionCookie)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	ticker := time.NewTicker(doorPoll)
	defer ticker.Stop()
	var last string
	var lastWrite time.Time
	for {
		html, err := s.fragment("console/doors.html", "doorRows", doorsPage{Doors: doors, Now: s.now()})
		if err != nil {
			s.logger.Error("web: door status fragment", "err", err)
			return
		}
		// The server's WriteTimeout would end the stream: each write
		// gets its own deadline.
		rc.SetWriteDeadline(time.Now().Add(doorKeepAlive + 10*time.Second))
		switch {
		case html != last:
			if _, err := fmt.Fprint(w, sseEvent("doors", "", html)); err != nil {
				return
			}
			last, lastWrite = html, time.Now()
		case time.Since(lastWrite) >= doorKeepAlive:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			lastWrite = time.Now()
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if cookie == nil {
			return
		}
		if _, err := s.app.Credentials.Authenticate(ctx, cookie.Value); err != nil {
			return
		}
		if doors, err = s.app.Buildings.DoorStates(ctx, id); err != nil {
			return
		}
	}
}
