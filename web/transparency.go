package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/skip2/go-qrcode"
)

// transparencyRoutes registers the public transparency page of a
// building, the console page where its manager turns it on or off and
// prints the doors' QR stickers, and a door's sticker.
func (s *Server) transparencyRoutes() {
	s.mux.HandleFunc("GET /buildings/{id}/transparency", s.transparencyPage)
	s.mux.HandleFunc("GET /console/buildings/{id}/transparency", s.need(s.consoleTransparency, doorman.RoleManager, doorman.RoleOperator))
	s.mux.HandleFunc("POST /console/buildings/{id}/transparency", s.need(s.consoleSetTransparency, doorman.RoleManager, doorman.RoleOperator))
	s.mux.HandleFunc("GET /console/buildings/{id}/doors/{door}/sticker", s.need(s.doorSticker, doorman.RoleManager, doorman.RoleOperator))
	addNotices(map[string]string{
		"transparency-on":  "The transparency page is on: anyone with its address can read it.",
		"transparency-off": "The transparency page is off.",
	})
}

// publicDayHours is one weekday's delivery windows, for display.
type publicDayHours struct {
	Day     string
	Windows []doorman.Window
}

// publicWeekHours lists the delivery windows Monday first; nil for "at any
// hour".
func publicWeekHours(h *doorman.WeeklyHours) []publicDayHours {
	if h == nil {
		return nil
	}
	out := make([]publicDayHours, 0, 7)
	for i := range 7 {
		d := time.Weekday((i + 1) % 7)
		out = append(out, publicDayHours{Day: d.String(), Windows: h.Day(d)})
	}
	return out
}

// transparencyData is the data of transparency/page.html.
type transparencyData struct {
	B     *app.PublicBuilding
	Hours []publicDayHours
	// VerifyURL is the page's own address, for the resident to keep.
	URL string
}

// transparencyPage is the building's public page: anyone may read it
// while its manager has it on; otherwise it is a missing page.
func (s *Server) transparencyPage(w http.ResponseWriter, r *http.Request) {
	b, err := s.app.Transparency.PublicBuilding(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "transparency/page.html", transparencyData{
		B: b, Hours: publicWeekHours(b.DeliveryHours), URL: s.baseURL(r) + "/buildings/" + b.ID + "/transparency"})
}

// sticker is a door's QR sticker: the URL of the door's courier page.
type sticker struct {
	Door *app.Door
	URL  string
	QR   template.URL
}

// consoleTransparencyData is the data of transparency/console.html.
type consoleTransparencyData struct {
	Building  *doorman.Building
	On        bool
	PublicURL string
	Stickers  []sticker
}

// consoleTransparency shows whether the building's transparency page is
// on, the switch, and the doors' stickers.
func (s *Server) consoleTransparency(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	b, err := s.app.Buildings.Building(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	on, err := s.app.Transparency.Transparent(ctx, b.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	doors, _, err := s.app.Buildings.ListDoors(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := consoleTransparencyData{Building: b, On: on, PublicURL: s.baseURL(r) + "/buildings/" + b.ID + "/transparency"}
	for _, d := range doors {
		st, err := s.sticker(r, d)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data.Stickers = append(data.Stickers, st)
	}
	s.render(w, r, http.StatusOK, "transparency/console.html", data)
}

// sticker makes the QR sticker of a door.
func (s *Server) sticker(r *http.Request, d *app.Door) (sticker, error) {
	u := s.baseURL(r) + courierDoorPath(d.ID)
	png, err := qrcode.Encode(u, qrcode.Medium, 256)
	if err != nil {
		return sticker{}, err
	}
	return sticker{Door: d, URL: u, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}, nil
}

// consoleSetTransparency turns the page on or off.
func (s *Server) consoleSetTransparency(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	on := r.PostFormValue("on") == "true"
	if err := s.app.Transparency.SetTransparent(r.Context(), id, on); err != nil {
		s.fail(w, r, err)
		return
	}
	notice := "transparency-off"
	if on {
		notice = "transparency-on"
	}
	redirect(w, r, "/console/buildings/"+id+"/transparency", notice)
}

// doorStickerData is the data of transparency/sticker.html.
type doorStickerData struct {
	Building *doorman.Building
	Sticker  sticker
}

// doorSticker is one door's sticker alone, to print.
func (s *Server) doorSticker(w http.ResponseWriter, r *http.Request) {
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
	st, err := s.sticker(r, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "transparency/sticker.html", doorStickerData{Building: b, Sticker: st})
}
