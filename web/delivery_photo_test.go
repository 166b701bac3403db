package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
)

// tinyPNG is a 1×1 PNG.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// photoSite is the resident site with a carrier allowed at Maple, one of
// its couriers with a parcel out for delivery to Maple 2B, a second
// carrier's courier, a resident of another Maple unit and Birch's
// manager.
type photoSite struct {
	*residentSite
	courier, otherCourier string // session tokens
	parcelID              string
	birchManager          string
}

func newPhotoSite(t *testing.T) *photoSite {
	t.Helper()
	s := &photoSite{residentSite: newResidentSite(t, "")}
	ctx := context.Background()
	must(t, s.app.Notices.SetNoticePeriod(s.sys, s.maple.ID, 0))
	checked := time.Now().AddDate(1, 0, 0)
	for i, name := range []string{"Parcelo", "Boxline"} {
		c := &doorman.Carrier{Name: name}
		must(t, s.app.Carriers.CreateCarrier(s.sys, c))
		must(t, s.app.Buildings.AllowCarrier(s.sys, s.maple.ID, c.ID))
		as := doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleCarrier, SubjectID: c.ID, CarrierID: c.ID})
		_, err := s.app.Carriers.PutCourier(as, &doorman.Courier{CarrierID: c.ID, ExternalID: "c1", Name: "Courier",
			BackgroundCheckVerifiedUntil: &checked})
		must(t, err)
		tracking := name + "-1"
		_, err = s.app.Carriers.UploadManifest(as, c.ID, []doorman.ParcelInput{{TrackingNumber: tracking,
			BuildingID: s.maple.ID, UnitLabel: "2B", CourierExternalID: "c1", Status: doorman.ParcelOutForDelivery}})
		must(t, err)
		token, _, err := s.app.Credentials.CreateCourierSession(as, c.ID, "c1", time.Hour)
		must(t, err)
		if i == 0 {
			s.courier = token
			p, err := s.store.ParcelByTracking(s.sys, c.ID, tracking)
			must(t, err)
			s.parcelID = p.ID
		} else {
			s.otherCourier = token
		}
	}
	// A resident of another unit of Maple.
	u := &doorman.Unit{BuildingID: s.maple.ID, Label: "3C"}
	must(t, s.app.Buildings.CreateUnit(s.sys, u))
	must(t, s.app.Buildings.CreateResident(s.sys, &doorman.Resident{BuildingID: s.maple.ID, UnitID: u.ID, Name: "Neighbour", Email: "nb@example.org"}))
	inv, err := s.app.Accounts.CreateInvite(s.sys, s.birch.ID, "bm@example.org")
	must(t, err)
	_, err = s.app.Accounts.AcceptInvite(ctx, inv.Token, "B", "a long password here")
	must(t, err)
	signed, err := s.app.Accounts.SignIn(ctx, "bm@example.org", "a long password here", "192.0.2.1")
	must(t, err)
	s.birchManager = signed.Token
	return s
}

// deliver posts the courier's Mark delivered form with a photo under the
// file name.
func (s *photoSite) deliver(session, tracking, note, filename string, photo []byte) *httptest.ResponseRecorder {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	must(s.t, mw.WriteField("tracking", tracking))
	must(s.t, mw.WriteField("note", note))
	must(s.t, mw.WriteField("back", "/courier"))
	if photo != nil {
		fw, err := mw.CreateFormFile("photo", filename)
		must(s.t, err)
		fw.Write(photo)
	}
	must(s.t, mw.Close())
	req := httptest.NewRequest("POST", "/courier/deliver", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: "__Host-doorman-session", Value: session})
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, req)
	return w
}

func (s *photoSite) status(t *testing.T) string {
	t.Helper()
	p, err := s.store.Parcel(s.sys, s.parcelID)
	must(t, err)
	return p.Status
}

// TestDeliveryPhotoRefused: a photo too large, or one that is not an
// image by its bytes (an HTML file named .jpg), is refused with the typed
// note kept and the parcel not delivered; a courier of another carrier
// cannot attach a photo to the parcel.
func TestDeliveryPhotoRefused(t *testing.T) {
	s := newPhotoSite(t)
	big := append(bytes.Clone(tinyPNG), make([]byte, doorman.MaxDeliveryPhotoBytes)...)
	for name, c := range map[string]struct {
		file  string
		photo []byte
		want  string
	}{
		"too big":          {"big.png", big, "at most 5 MiB"},
		"html named .jpg":  {"door.jpg", []byte("<!doctype html><html><script>alert(1)</script></html>"), "JPEG, PNG or WebP"},
		"svg":              {"door.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "JPEG, PNG or WebP"},
		"gif is not taken": {"door.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "JPEG, PNG or WebP"},
	} {
		w := s.deliver(s.courier, "Parcelo-1", "By the blue door", c.file, c.photo)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), c.want) ||
			!strings.Contains(w.Body.String(), "By the blue door") {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
		if st := s.status(t); st != doorman.ParcelOutForDelivery {
			t.Fatalf("%s: the refused photo delivered the parcel: %s", name, st)
		}
		if _, err := s.store.DeliveryPhoto(s.sys, s.parcelID); doorman.ErrorCode(err) != doorman.ENOTFOUND {
			t.Fatalf("%s: a refused photo was stored: %v", name, err)
		}
	}
	// Another carrier's courier: the parcel is not theirs.
	w := s.deliver(s.otherCourier, "Parcelo-1", "", "door.png", tinyPNG)
	if w.Code != http.StatusNotFound {
		t.Fatalf("another carrier's courier: %d", w.Code)
	}
	if _, err := s.store.DeliveryPhoto(s.sys, s.parcelID); doorman.ErrorCode(err) != doorman.ENOTFOUND {
		t.Fatalf("another carrier's courier attached a photo: %v", err)
	}
}

// TestDeliveryPhotoSeenOnlyByUnitAndManagers: a PNG named .jpg is taken
// (the bytes decide) and served as a PNG, inline and nosniff, to the
// unit's resident and the building's manager; another unit's resident,
// another building's resident and another building's manager get 404.
func TestDeliveryPhotoSeenOnlyByUnitAndManagers(t *testing.T) {
	s := newPhotoSite(t)
	w := s.deliver(s.courier, "Parcelo-1", "By the blue door", "door.jpg", tinyPNG)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("delivering with a photo: %d %s", w.Code, w.Body)
	}
	if st := s.status(t); st != doorman.ParcelDelivered {
		t.Fatalf("status %s", st)
	}
	residentPath := "/resident/deliveries/" + s.parcelID + "/photo"
	managerPath := "/console/buildings/" + s.maple.ID + "/parcels/" + s.parcelID + "/photo"
	check := func(who string, w *httptest.ResponseRecorder) {
		t.Helper()
		h := w.Header()
		if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), tinyPNG) || h.Get("Content-Type") != "image/png" ||
			h.Get("Content-Disposition") != "inline" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %v", who, w.Code, h)
		}
	}
	ana := s.signIn("ana@example.org")
	check("the unit's resident", s.do("GET", residentPath, ana, nil))
	check("the building's manager", s.do("GET", managerPath, s.manager, nil))
	if home := s.do("GET", "/resident", ana, nil); !strings.Contains(home.Body.String(), residentPath) {
		t.Errorf("the resident page does not link the photo")
	}
	for who, w := range map[string]*httptest.ResponseRecorder{
		"another unit's resident":     s.do("GET", residentPath, s.signIn("nb@example.org"), nil),
		"another building's resident": s.do("GET", residentPath, s.signIn("olga@example.org"), nil),
		"another building's manager":  s.do("GET", managerPath, s.birchManager, nil),
		"the manager through another building": s.do("GET",
			"/console/buildings/"+s.birch.ID+"/parcels/"+s.parcelID+"/photo", s.birchManager, nil),
		"no session": s.do("GET", residentPath, "", nil),
	} {
		if w.Code == http.StatusOK || bytes.Equal(w.Body.Bytes(), tinyPNG) {
			t.Errorf("%s: %d", who, w.Code)
		} else if who != "no session" && w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", who, w.Code)
		}
	}
	// A delivery without a photo has none to show.
	if w := s.do("GET", "/resident/deliveries/"+doorman.NewID(doorman.PrefixParcel)+"/photo", ana, nil); w.Code != http.StatusNotFound {
		t.Errorf("no photo: %d", w.Code)
	}
}
