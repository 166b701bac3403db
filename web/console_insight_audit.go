package web

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// auditFilters are the audit log's filters as typed in the form.
type auditFilters struct {
	Action, Door, Carrier, Reason, From, To string
}

// filtersOf reads the filters from the query string.
func filtersOf(r *http.Request) auditFilters {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return auditFilters{Action: get("action"), Door: get("door"), Carrier: get("carrier"),
		Reason: get("reason"), From: get("from"), To: get("to")}
}

// Query is the filters as a query string (without "?"), for links.
func (f auditFilters) Query() string {
	v := url.Values{}
	for k, s := range map[string]string{"action": f.Action, "door": f.Door, "carrier": f.Carrier,
		"reason": f.Reason, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// Any reports whether a filter is set.
func (f auditFilters) Any() bool { return f.Query() != "" }

// search turns the filters into the service's search of building b; the
// dates are days in the building's time zone, both included. An error is
// a message for the form.
func (f auditFilters) search(b *doorman.Building) (app.AuditSearch, string) {
	q := app.AuditSearch{BuildingID: b.ID, Action: f.Action, DoorID: f.Door, CarrierID: f.Carrier, Reason: f.Reason}
	loc := buildingLocation(b)
	if f.From != "" {
		t, err := time.ParseInLocation(time.DateOnly, f.From, loc)
		if err != nil {
			return q, "The start date is not a date (YYYY-MM-DD)."
		}
		q.Since = t
	}
	if f.To != "" {
		t, err := time.ParseInLocation(time.DateOnly, f.To, loc)
		if err != nil {
			return q, "The end date is not a date (YYYY-MM-DD)."
		}
		q.Until = t.AddDate(0, 0, 1)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, "The end date is before the start date."
	}
	return q, ""
}

// option is one choice of a filter's select.
type option struct{ Value, Label string }

// auditPage is the data of console/audit.html.
type auditPage struct {
	Building *doorman.Building
	Filters  auditFilters
	Error    string
	Rows     []auditRow
	// After is the cursor this page started at ("" for the newest), Next
	// the next page's.
	After, Next string
	// Verification is the chain's check (on the first page only).
	Verification *app.ChainVerification
	Actions      []option
	Reasons      []option
	Doors        []option
	Carriers     []option
}

// filterActions are the actions the filter offers.
var filterActions = []string{
	doorman.ActionAccessGranted, doorman.ActionAccessDenied, doorman.ActionUnlockFailed, doorman.ActionGrantUsed,
	doorman.ActionParcelDelivered, doorman.ActionDoorLockdown, doorman.ActionDoorLockdownLift, doorman.ActionDeviceEventPrefix,
	doorman.ActionCarrierAllowed, doorman.ActionCarrierRemoved, doorman.ActionDoorCreated, doorman.ActionDoorUpdated,
	doorman.ActionUnitsImported, doorman.ActionResidentAdded, doorman.ActionResidentRemoved,
}

// filterReasons are the reasons the filter offers: why a courier was
// refused or the door stayed shut.
var filterReasons = []string{
	doorman.ReasonUnknownParcel, doorman.ReasonParcelWrongCarrier, doorman.ReasonParcelNotForBuilding,
	doorman.ReasonParcelNotAssignedToCourier, doorman.ReasonParcelNotOutForDelivery, doorman.ReasonParcelAlreadyDelivered,
	doorman.ReasonCourierInactive, doorman.ReasonBackgroundCheckExpired, doorman.ReasonCarrierNotAllowed,
	doorman.ReasonOutsideDeliveryHours, doorman.ReasonDoorLockedDown, doorman.ReasonTooFarFromDoor,
	doorman.ReasonDoorOffline, doorman.ReasonDoorRejected,
}

// auditPage shows a building's audit log with filters, a page at a time
// (cursor), and on its first page whether the chain verifies.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := auditPage{Building: b, Filters: filtersOf(r), After: r.URL.Query().Get("after")}
	for _, a := range filterActions {
		label := actionLabel(a)
		if a == doorman.ActionDeviceEventPrefix {
			label = "Any device event"
		}
		page.Actions = append(page.Actions, option{a, label})
	}
	for _, reason := range filterReasons {
		page.Reasons = append(page.Reasons, option{reason, reasonLabel(reason)})
	}
	doors, _, err := s.app.Buildings.ListDoors(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, d := range doors {
		page.Doors = append(page.Doors, option{d.ID, d.Name})
	}
	carriers, _, err := s.app.Buildings.AllowedCarriers(ctx, b.ID, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, c := range carriers {
		page.Carriers = append(page.Carriers, option{c.ID, c.Name})
	}

	if page.After == "" {
		if page.Verification, err = s.app.Audit.VerifyBuilding(ctx, b.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	q, msg := page.Filters.search(b)
	if msg != "" {
		page.Error = msg
		s.render(w, r, http.StatusUnprocessableEntity, "console/audit.html", page)
		return
	}
	v, err := s.app.Audit.Search(ctx, q, doorman.Page{After: page.After, Limit: 50})
	if err != nil {
		if doorman.ErrorCode(err) == doorman.EINVALID {
			page.Error = doorman.ErrorMessage(err)
			s.render(w, r, http.StatusUnprocessableEntity, "console/audit.html", page)
			return
		}
		s.fail(w, r, err)
		return
	}
	var proofUpTo int64
	if page.Verification != nil && page.Verification.Checkpoint != nil {
		proofUpTo = page.Verification.Checkpoint.Size
	} else if cp, err := s.app.Audit.Checkpoint(ctx, b.ID); err == nil {
		proofUpTo = cp.Size
	}
	page.Rows, page.Next = rows(b, v, proofUpTo), v.Next
	s.render(w, r, http.StatusOK, "console/audit.html", page)
}

// reasonLabel says a reason code in words.
func reasonLabel(reason string) string {
	if reason == "" {
		return ""
	}
	s := strings.ReplaceAll(reason, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// csvHeader is the first row of the CSV export.
var csvHeader = []string{"at", "seq", "action", "door", "door_id", "carrier", "carrier_id", "courier_id",
	"grant_id", "parcel_ids", "reason", "detail", "actor", "id", "hash"}

// auditCSV streams the entries matching the filters as CSV, newest first,
// with a header row. Every cell is made safe to open in a spreadsheet.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q, msg := filtersOf(r).search(b)
	if msg != "" {
		s.renderError(w, r, http.StatusUnprocessableEntity, msg)
		return
	}
	// The first page is read before anything is written, so that a
	// refusal is still an error page.
	v, err := s.app.Audit.Search(ctx, q, doorman.Page{Limit: doorman.MaxPageLimit})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="audit-`+safeFileName(b.ID)+`.csv"`)
	rc := http.NewResponseController(w)
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for {
		if err := rc.SetWriteDeadline(time.Now().Add(writeWithin)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return
		}
		for _, e := range v.Entries {
			cw.Write(csvSafe([]string{e.At.UTC().Format(time.RFC3339Nano), strconv.FormatInt(e.Seq, 10), e.Action,
				v.Names[e.DoorID], e.DoorID, v.Names[e.CarrierID], e.CarrierID, e.CourierID, e.GrantID,
				strings.Join(e.ParcelIDs, " "), e.Reason, e.Detail, e.Actor, e.ID, e.Hash}))
		}
		cw.Flush()
		if cw.Error() != nil || v.Next == "" {
			return
		}
		if v, err = s.app.Audit.Search(ctx, q, doorman.Page{After: v.Next, Limit: doorman.MaxPageLimit}); err != nil {
			// Too late for an error page: the file ends short, and the
			// log says why.
			s.logger.Error("web: audit export", "building", b.ID, "err", err)
			return
		}
	}
}

// csvSafe defuses cells a spreadsheet would take for a formula (CSV
// injection): a cell starting with = + - @, a tab or a carriage return
// gets a leading single quote.
func csvSafe(cells []string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}
