package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// consoleInsightRoutes registers the manager's activity, audit log and charts.
func (s *Server) consoleInsightRoutes() {
	managers := []string{doorman.RoleManager, doorman.RoleOperator}
	s.mux.HandleFunc("GET /console/buildings/{id}/activity", s.need(s.activityPage, managers...))
	s.mux.HandleFunc("GET /console/buildings/{id}/activity/events", s.need(s.activityEvents, managers...))
	s.mux.HandleFunc("GET /console/buildings/{id}/audit", s.need(s.auditPage, managers...))
	s.mux.HandleFunc("GET /console/buildings/{id}/audit.csv", s.need(s.auditCSV, managers...))
	s.mux.HandleFunc("GET /console/buildings/{id}/checkpoint", s.need(s.auditCheckpoint, managers...))
	s.mux.HandleFunc("GET /console/buildings/{id}/audit/{entry}/proof", s.need(s.auditProof, managers...))
	s.mux.HandleFunc("GET /console/buildings/{id}/charts", s.need(s.chartsPage, managers...))
}

// auditRow is one audit entry as the activity and audit tables show it.
type auditRow struct {
	E *doorman.AuditEntry
	// Label says what happened in words, Class the badge's colour.
	Label, Class string
	// Door and Carrier are names (the ID when the name is unknown).
	Door, Carrier string
	// Day and Time are the entry's time to the second, in the
	// building's time zone.
	Day, Time string
	// Proof is the URL of the entry's inclusion proof, "" when no signed
	// checkpoint covers it yet.
	Proof string
}

// actionLabels name the actions people see most.
var actionLabels = map[string]string{
	doorman.ActionAccessGranted:        "Access granted",
	doorman.ActionAccessDenied:         "Access denied",
	doorman.ActionUnlockFailed:         "Door stayed shut",
	doorman.ActionGrantUsed:            "Door opened",
	doorman.ActionParcelDelivered:      "Parcel delivered",
	doorman.ActionDoorLockdown:         "Lockdown on",
	doorman.ActionDoorLockdownLift:     "Lockdown lifted",
	doorman.ActionDoorCreated:          "Door added",
	doorman.ActionDoorUpdated:          "Door changed",
	doorman.ActionCarrierAllowed:       "Carrier allowed",
	doorman.ActionCarrierRemoved:       "Carrier removed",
	doorman.ActionBuildingCreated:      "Building created",
	doorman.ActionBuildingUpdated:      "Building changed",
	doorman.ActionBuildingHoursWidened: "Delivery hours widened",
	doorman.ActionManagerInvited:       "Manager invited",
	doorman.ActionManagerJoined:        "Manager joined",
	doorman.ActionUnitsImported:        "Units imported",
	doorman.ActionResidentAdded:        "Resident added",
	doorman.ActionResidentRemoved:      "Resident removed",

	doorman.ActionDeviceEnrollmentCreated: "Enrollment code made",
	doorman.ActionDeviceEnrolled:          "Device enrolled",
	doorman.ActionDeviceRevoked:           "Device revoked",
}

// actionLabel says action in words: a known label, or the action itself
// made readable ("device.door_forced" → "Device: door forced").
func actionLabel(action string) string {
	if l, ok := actionLabels[action]; ok {
		return l
	}
	if rest, ok := strings.CutPrefix(action, doorman.ActionDeviceEventPrefix); ok {
		return "Device: " + strings.ReplaceAll(rest, "_", " ")
	}
	return action
}

// actionClass is the badge colour of an action: green for a door that
// let someone in, red for a refusal or a forced door, amber for a
// lockdown, grey for the rest.
func actionClass(action string) string {
	switch action {
	case doorman.ActionAccessGranted, doorman.ActionGrantUsed, doorman.ActionParcelDelivered:
		return "ok"
	case doorman.ActionAccessDenied, doorman.ActionUnlockFailed, "device.door_forced", "device.door_held_open":
		return "bad"
	case doorman.ActionDoorLockdown, doorman.ActionDoorLockdownLift:
		return "warn"
	}
	return "muted"
}

// rows turns a view of the service into table rows of building b;
// proofUpTo is the size of the latest checkpoint (entries up to it get a
// proof link).
func rows(b *doorman.Building, v *app.AuditView, proofUpTo int64) []auditRow {
	loc := buildingLocation(b)
	buildingID := b.ID
	out := make([]auditRow, 0, len(v.Entries))
	for _, e := range v.Entries {
		at := e.At.In(loc)
		r := auditRow{E: e, Label: actionLabel(e.Action), Class: actionClass(e.Action), Day: at.Format(time.DateOnly), Time: at.Format(time.TimeOnly),
			Door: nameOr(v.Names, e.DoorID), Carrier: nameOr(v.Names, e.CarrierID)}
		if e.Seq > 0 && e.Seq <= proofUpTo {
			r.Proof = "/console/buildings/" + url.PathEscape(buildingID) + "/audit/" + url.PathEscape(e.ID) + "/proof"
		}
		out = append(out, r)
	}
	return out
}

func nameOr(names map[string]string, id string) string {
	if n := names[id]; n != "" {
		return n
	}
	return id
}

// auditCheckpoint serves the chain's latest signed checkpoint as the
// signed note it is, for the manager to keep and check proofs against.
func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	cp, err := s.app.Audit.Checkpoint(r.Context(), id)
	if err != nil {
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			// The chain of another building and a chain without a
			// checkpoint yet are told alike.
			err = doorman.Errorf(doorman.ENOTFOUND, "No signed checkpoint of this building's log yet.")
		}
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="checkpoint-`+safeFileName(id)+`.txt"`)
	w.Write([]byte(cp.Note))
}

// auditProof serves an entry's inclusion proof in the tree of the latest
// checkpoint, as JSON. An entry of another building, or of a building the
// caller does not manage, is not found.
func (s *Server) auditProof(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.app.Buildings.Building(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.app.Audit.InclusionProof(r.Context(), r.PathValue("entry"), 0)
	if err == nil && p.Chain != id {
		err = doorman.Errorf(doorman.ENOTFOUND, "Audit entry not found.")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `inline; filename="proof-`+safeFileName(p.EntryID)+`.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(p)
}

// safeFileName keeps the characters of an ID that may go in a header.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
}

// buildingLocation is b's time zone (UTC if it does not load).
func buildingLocation(b *doorman.Building) *time.Location {
	loc, err := doorman.LoadLocation(b.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
