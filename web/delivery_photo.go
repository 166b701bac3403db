package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/doorman-dev/doorman"
)

// photoRoutes registers where delivery photos are seen: by the residents
// of the parcel's unit and by the building's managers. The app service
// decides who may see which; anyone else gets 404.
func (s *Server) photoRoutes() {
	s.mux.HandleFunc("GET /resident/deliveries/{parcel}/photo", s.need(s.residentDeliveryPhoto, doorman.RoleResident))
	s.mux.HandleFunc("GET /console/buildings/{id}/parcels/{parcel}/photo",
		s.need(s.consoleDeliveryPhoto, doorman.RoleManager, doorman.RoleOperator))
}

func (s *Server) residentDeliveryPhoto(w http.ResponseWriter, r *http.Request) {
	ph, err := s.app.Residents.DeliveryPhoto(r.Context(), r.PathValue("parcel"))
	if err != nil {
		s.residentFail(w, r, err)
		return
	}
	writePhoto(w, ph)
}

func (s *Server) consoleDeliveryPhoto(w http.ResponseWriter, r *http.Request) {
	ph, err := s.app.Carriers.DeliveryPhoto(r.Context(), r.PathValue("id"), r.PathValue("parcel"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writePhoto(w, ph)
}

// writePhoto answers with a stored photo as the image it was found to be
// (never sniffed again by the browser), shown in the page, not cached by
// anything shared.
func writePhoto(w http.ResponseWriter, ph *doorman.DeliveryPhoto) {
	h := w.Header()
	h.Set("Content-Type", ph.ContentType)
	h.Set("Content-Disposition", "inline")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(ph.Data)))
	h.Set("Last-Modified", ph.CreatedAt.UTC().Format(http.TimeFormat))
	w.Write(ph.Data)
}

// maxDeliverForm is the most a delivery form may send besides its photo.
const maxDeliverForm = 64 << 10

// deliverForm is what the "Mark delivered" form sent.
type deliverForm struct {
	Tracking, Note, Back string
	// Photo is the photo attached (nil: none); at most one byte over
	// doorman.MaxDeliveryPhotoBytes is read, so a larger one is refused
	// by the app service with its clear message.
	Photo []byte
}

// readDeliverForm reads the form, url-encoded or multipart (with a
// photo), with the body limited. The text fields come before the photo
// in the form, so they are kept even when the photo is refused.
func readDeliverForm(w http.ResponseWriter, r *http.Request) (deliverForm, error) {
	r.Body = http.MaxBytesReader(w, r.Body, doorman.MaxDeliveryPhotoBytes+maxDeliverForm)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return deliverForm{Tracking: r.PostFormValue("tracking"), Note: r.PostFormValue("note"), Back: r.PostFormValue("back")}, nil
	}
	var f deliverForm
	mr, err := r.MultipartReader()
	if err != nil {
		return f, doorman.Errorf(doorman.EINVALID, "The form could not be read.")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		} else if err != nil {
			return f, tooLarge(err)
		}
		var field *string
		switch part.FormName() {
		case "tracking":
			field = &f.Tracking
		case "note":
			field = &f.Note
		case "back":
			field = &f.Back
		case "photo":
			b, err := io.ReadAll(io.LimitReader(part, doorman.MaxDeliveryPhotoBytes+1))
			if err != nil {
				return f, tooLarge(err)
			}
			if len(b) > 0 {
				f.Photo = bytes.Clone(b)
			}
			if len(b) > doorman.MaxDeliveryPhotoBytes {
				return f, nil // the app service refuses it; the rest is not read
			}
			continue
		default:
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxDeliverForm))
		if err != nil {
			return f, tooLarge(err)
		}
		*field = string(b)
	}
}

// tooLarge turns a body over its limit into the photo's size message.
func tooLarge(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return doorman.InvalidField("photo", "The photo may be at most %d MiB.", doorman.MaxDeliveryPhotoBytes>>20)
	}
	return doorman.Errorf(doorman.EINVALID, "The form could not be read.")
}
