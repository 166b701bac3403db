package web

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// maxUnitsCSV bounds an uploaded units file (10,000 short rows fit well).
const maxUnitsCSV = 1 << 20

// unitsPage is the data of console/units.html.
type unitsPage struct {
	Building  *doorman.Building
	Units     []*doorman.Unit
	MoreUnits bool
	Residents []residentRow
	More      bool
	// The forms as typed, shown again with their error.
	Unit        struct{ Label, Floor string }
	UnitError   *formError
	Resident    struct{ Name, Email, UnitID string }
	ResError    *formError
	ImportError *formError
	MaxRows     int
}

// residentRow is a resident with the label of their unit.
type residentRow struct {
	*doorman.Resident
	Unit string
}

func (s *Server) unitsPage(w http.ResponseWriter, r *http.Request) {
	s.renderUnits(w, r, http.StatusOK, &unitsPage{})
}

// renderUnits renders the units page over p, which carries what was typed
// and the errors to show.
func (s *Server) renderUnits(w http.ResponseWriter, r *http.Request, status int, p *unitsPage) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Building, p.MaxRows = b, app.MaxImportRows
	units, next, err := s.app.Buildings.ListUnits(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Units, p.MoreUnits = units, next != ""
	labels := map[string]string{}
	for _, u := range units {
		labels[u.ID] = u.Label
	}
	residents, next, err := s.app.Buildings.ListResidents(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.More = next != ""
	for _, res := range residents {
		p.Residents = append(p.Residents, residentRow{Resident: res, Unit: labels[res.UnitID]})
	}
	s.render(w, r, status, "console/units.html", p)
}

func (s *Server) unitCreate(w http.ResponseWriter, r *http.Request) {
	p := &unitsPage{}
	p.Unit.Label, p.Unit.Floor = strings.TrimSpace(r.PostFormValue("label")), strings.TrimSpace(r.PostFormValue("floor"))
	err := s.app.Buildings.CreateUnit(r.Context(), &doorman.Unit{BuildingID: r.PathValue("id"), Label: p.Unit.Label, Floor: p.Unit.Floor})
	if status, ferr, ok := s.refusal(r, err); ok {
		p.UnitError = ferr
		s.renderUnits(w, r, status, p)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "units"), "cb-unit")
}

func (s *Server) unitDelete(w http.ResponseWriter, r *http.Request) {
	err := s.app.Buildings.DeleteUnit(r.Context(), r.PathValue("id"), r.PathValue("unit"))
	if status, ferr, ok := s.refusal(r, err); ok {
		s.renderUnits(w, r, status, &unitsPage{UnitError: ferr})
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "units"), "cb-unitdel")
}

func (s *Server) residentCreate(w http.ResponseWriter, r *http.Request) {
	p := &unitsPage{}
	p.Resident.Name, p.Resident.Email, p.Resident.UnitID = r.PostFormValue("name"), r.PostFormValue("email"), r.PostFormValue("unit_id")
	err := s.app.Buildings.CreateResident(r.Context(), &doorman.Resident{BuildingID: r.PathValue("id"),
		UnitID: p.Resident.UnitID, Name: p.Resident.Name, Email: p.Resident.Email})
	if status, ferr, ok := s.refusal(r, err); ok {
		p.ResError = ferr
		s.renderUnits(w, r, status, p)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "units"), "cb-resident")
}

func (s *Server) consoleResidentDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.app.Buildings.DeleteResident(r.Context(), r.PathValue("id"), r.PathValue("resident")); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "units"), "cb-residentdel")
}

// previewPage is the data of console/units_preview.html.
type previewPage struct {
	Building *doorman.Building
	Preview  *app.UnitsPreview
	// CSV is the file, base64, posted back by the confirm button.
	CSV      string
	FileName string
	Good     int
}

// unitsImportPreview reads the uploaded file and shows what the import
// would do, row by row; nothing is written.
func (s *Server) unitsImportPreview(w http.ResponseWriter, r *http.Request) {
	data, name, err := readUpload(w, r, "file")
	if err != nil {
		s.renderUnits(w, r, http.StatusUnprocessableEntity, &unitsPage{ImportError: &formError{Message: err.Error()}})
		return
	}
	s.preview(w, r, data, name)
}

// preview renders the preview of data, or the units page with the error
// about the whole file.
func (s *Server) preview(w http.ResponseWriter, r *http.Request, data []byte, name string) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.app.Buildings.PreviewUnits(ctx, b.ID, data)
	if status, ferr, ok := s.refusal(r, err); ok {
		s.renderUnits(w, r, status, &unitsPage{ImportError: ferr})
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if p.Bad > 0 {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "console/units_preview.html", previewPage{Building: b, Preview: p,
		CSV: base64.StdEncoding.EncodeToString(data), FileName: name, Good: len(p.Rows) - p.Bad})
}

// unitsImportConfirm imports the file the preview showed. The service
// checks every row again: the posted file is whatever the browser sent.
func (s *Server) unitsImportConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUnitsCSV*2)
	data, err := base64.StdEncoding.DecodeString(r.PostFormValue("csv"))
	if err != nil || len(data) == 0 || len(data) > maxUnitsCSV {
		s.renderUnits(w, r, http.StatusUnprocessableEntity, &unitsPage{ImportError: &formError{
			Message: "The file to import was lost on the way. Upload it again."}})
		return
	}
	_, err = s.app.Buildings.ImportUnits(r.Context(), r.PathValue("id"), data)
	if doorman.ErrorCode(err) == doorman.EINVALID && len(doorman.ErrorItems(err)) > 0 {
		// The building changed since the preview: show the rows again.
		s.preview(w, r, data, r.PostFormValue("name"))
		return
	} else if status, ferr, ok := s.refusal(r, err); ok {
		s.renderUnits(w, r, status, &unitsPage{ImportError: ferr})
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, buildingPath(r.PathValue("id"), "units"), "cb-imported")
}

// readUpload reads the file of a multipart form field, at most
// maxUnitsCSV bytes. Its errors are sentences for the page.
func readUpload(w http.ResponseWriter, r *http.Request, field string) ([]byte, string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUnitsCSV+64<<10)
	f, h, err := r.FormFile(field)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, "", errors.New("The file is too large: at most 1 MiB.")
	} else if err != nil {
		return nil, "", errors.New("Choose a CSV file to upload.")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUnitsCSV+1))
	if err != nil {
		return nil, "", errors.New("The file could not be read. Upload it again.")
	} else if len(data) > maxUnitsCSV {
		return nil, "", errors.New("The file is too large: at most 1 MiB.")
	}
	return data, h.Filename, nil
}
