package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// NoticeStore is what the Notices service uses of the store.
type NoticeStore interface {
	scopeStore
	doorman.NoticeStore
	AllowedCarriers(ctx context.Context, buildingID string) ([]*doorman.Carrier, error)
	ListResidents(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Resident, string, error)
	ListDoors(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Door, string, error)
	Parcel(ctx context.Context, id string) (*doorman.Parcel, error)
	Unit(ctx context.Context, buildingID, id string) (*doorman.Unit, error)
	DeliveryNotes(ctx context.Context, buildingID string, parcelIDs []string) (map[string]string, error)
	DeliveryPhotoParcels(ctx context.Context, buildingID string, parcelIDs []string) (map[string]bool, error)
	BuildingManagerEmails(ctx context.Context, buildingID string) ([]string, error)
}

// Notices tells residents, before it happens, that a carrier's couriers,
// a new door or wider hours will let people into their building, and
// shows managers who was told and when access starts.
type Notices struct {
	scope
	store NoticeStore
	// residentURL is where residents see their building's entries.
	residentURL string
}

// NewNotices returns the Notices service over store; baseURL is the
// public address of the pages (for the resident page's link; may be "").
func NewNotices(store NoticeStore, baseURL string) *Notices {
	u := "your resident page (open the link in any Doorman email)"
	if baseURL != "" {
		u = strings.TrimRight(baseURL, "/") + "/resident"
	}
	return &Notices{scope: scope{store}, store: store, residentURL: u}
}

// NoticeData is what a notice says; the email's text and HTML are
// rendered from it, and it is the message's payload.
type NoticeData struct {
	Building    string   `json:"building"`
	Address     string   `json:"address"`
	Change      string   `json:"change"`
	Carriers    []string `json:"carriers"`
	Doors       []string `json:"doors"`
	Hours       []string `json:"hours"`
	ActiveFrom  string   `json:"active_from,omitempty"`
	SeeEntries  string   `json:"see_entries"`
	Contacts    []string `json:"contacts"`
	PrivacyText []string `json:"privacy"`
}

// privacyPlain is the privacy policy in plain words, the same for every
// building.
var privacyPlain = []string{
	"A courier is let in only while holding a parcel addressed to this building, and only during the delivery hours.",
	"Every entry is recorded: which door, which carrier, when. You can see the entries of your building on your resident page.",
	"Couriers see unit numbers, never your name or email. You see the carrier and the time, not the courier's identity.",
	"Your name and email are used only to tell you about deliveries and access. You can change what you are told, or delete your data, on your resident page.",
}

// ProduceNotices is the outbox producer of notices before access: for a
// carrier.allowed or door.created entry it gives one email to every
// resident of the building; for a building.hours_widened entry, one
// telling the new hours (access is not held back for it). It runs as the system principal; it reads
// only, and queues nothing itself.
func (s *Notices) ProduceNotices(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
	var kind, change string
	switch e.Action {
	case doorman.ActionCarrierAllowed:
		kind = doorman.KindCarrierNotice
	case doorman.ActionDoorCreated:
		kind = doorman.KindDoorNotice
	case doorman.ActionBuildingHoursWidened:
		kind = doorman.KindHoursNotice
	default:
		return nil, nil
	}
	if e.BuildingID == "" {
		return nil, nil
	}
	b, err := s.store.Building(ctx, e.BuildingID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	d := NoticeData{Building: b.Name, Address: b.Address, SeeEntries: s.residentURL, PrivacyText: privacyPlain, Hours: hoursLines(b.DeliveryHours)}
	if d.Doors, err = s.doorNames(ctx, b.ID); err != nil {
		return nil, err
	}
	if d.Contacts, err = s.store.BuildingManagerEmails(ctx, b.ID); err != nil {
		return nil, err
	}
	switch kind {
	case doorman.KindCarrierNotice:
		c, err := s.store.Carrier(ctx, e.CarrierID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		d.Carriers = []string{c.Name}
		period, err := s.store.NoticePeriod(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		d.ActiveFrom = e.At.Add(period).UTC().Format("Monday 2 January 2006, 15:04 UTC")
		change = "Couriers of " + c.Name + " may now be let into " + b.Name + " to deliver parcels."
	case doorman.KindDoorNotice:
		door, err := s.store.Door(ctx, e.DoorID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		cs, err := s.store.AllowedCarriers(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			d.Carriers = append(d.Carriers, c.Name)
		}
		change = "A new door, " + door.Name + ", at " + b.Name + " may now be opened for couriers."
	case doorman.KindHoursNotice:
		// The hours the entry recorded, not whatever they are by now.
		var hours struct {
			New *doorman.WeeklyHours `json:"new"`
		}
		if err := json.Unmarshal([]byte(e.Detail), &hours); err != nil {
			return nil, fmt.Errorf("hours notice: the entry's detail: %w", err)
		}
		d.Hours = hoursLines(hours.New)
		cs, err := s.store.AllowedCarriers(ctx, b.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			d.Carriers = append(d.Carriers, c.Name)
		}
		change = "Couriers may now be let into " + b.Name + " at more times: the delivery hours were widened."
	}
	d.Change = change
	subject := "Before it starts: " + change
	if kind == doorman.KindHoursNotice {
		// Access is not held back for wider hours: this tells, it does not
		// forewarn.
		subject = "Delivery hours widened at " + b.Name
	}
	residents, err := s.allResidents(ctx, b.ID)
	if err != nil || len(residents) == 0 {
		return nil, err
	}
	text, html, err := renderNotice(d)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	out := make([]*doorman.Message, 0, len(residents))
	for _, r := range residents {
		out = append(out, &doorman.Message{
			Channel:    doorman.ChannelEmail,
			BuildingID: b.ID,
			Source:     e.ID,
			Target:     r.Email,
			ResidentID: r.ID,
			Kind:       kind,
			Subject:    subject,
			Text:       text,
			HTML:       html,
			Payload:    payload,
		})
	}
	return out, nil
}

func (s *Notices) doorNames(ctx context.Context, buildingID string) ([]string, error) {
	var names []string
	page := doorman.Page{}
	for {
		doors, next, err := s.store.ListDoors(ctx, buildingID, page)
		if err != nil {
			return nil, err
		}
		for _, d := range doors {
			names = append(names, d.Name)
		}
		if next == "" {
			return names, nil
		}
		page.After = next
	}
}

func (s *Notices) allResidents(ctx context.Context, buildingID string) ([]*doorman.Resident, error) {
	var all []*doorman.Resident
	page := doorman.Page{}
	for {
		rs, next, err := s.store.ListResidents(ctx, buildingID, page)
		if err != nil {
			return nil, err
		}
		all = append(all, rs...)
		if next == "" {
			return all, nil
		}
		page.After = next
	}
}

// hoursLines says the delivery hours in words, a line per weekday.
func hoursLines(h *doorman.WeeklyHours) []string {
	if h == nil {
		return []string{"Any hour of any day."}
	}
	var out []string
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		ws := h.Day(wd)
		if len(ws) == 0 {
			out = append(out, wd.String()+": no deliveries")
			continue
		}
		parts := make([]string, len(ws))
		for i, w := range ws {
			parts[i] = w.Start + "–" + w.End
		}
		out = append(out, wd.String()+": "+strings.Join(parts, ", "))
	}
	return out
}

var deliveryHTML = template.Must(template.New("delivery").Parse(`<!doctype html>
<html><body>
<p>A parcel from {{.Carrier}} ({{.Tracking}}) for unit {{.Unit}} at {{.Building}} was delivered on {{.DeliveredAt}}.</p>
{{if .LeftAt}}<p>Left: {{.LeftAt}}</p>{{end}}
{{if .Photo}}<p>The courier took a photo of where the parcel was left: see it on {{.SeeEntries}}.</p>{{end}}
<p>See your deliveries and the building's entries on {{.SeeEntries}}.</p>
</body></html>`))

var noticeHTML = template.Must(template.New("notice").Parse(`<!doctype html>
<html><body>
<p>{{.Change}}</p>
<h2>Carriers</h2><ul>{{range .Carriers}}<li>{{.}}</li>{{end}}</ul>
<h2>Doors</h2><ul>{{range .Doors}}<li>{{.}}</li>{{end}}</ul>
<h2>Delivery hours</h2><ul>{{range .Hours}}<li>{{.}}</li>{{end}}</ul>
{{if .ActiveFrom}}<p>Access starts no earlier than {{.ActiveFrom}}.</p>{{end}}
<p>See every entry: {{.SeeEntries}}</p>
<p>Questions: {{range $i, $c := .Contacts}}{{if $i}}, {{end}}{{$c}}{{else}}the building manager{{end}}</p>
<h2>Your privacy, in plain words</h2><ul>{{range .PrivacyText}}<li>{{.}}</li>{{end}}</ul>
</body></html>`))

// renderNotice renders a notice's text and HTML (escaped) from its data.
func renderNotice(d NoticeData) (string, string, error) {
	var t strings.Builder
	fmt.Fprintf(&t, "%s\n\nBuilding: %s, %s\n", d.Change, d.Building, d.Address)
	fmt.Fprintf(&t, "Carriers: %s\n", strings.Join(d.Carriers, ", "))
	fmt.Fprintf(&t, "Doors: %s\n", strings.Join(d.Doors, ", "))
	t.WriteString("Delivery hours:\n")
	for _, h := range d.Hours {
		t.WriteString("  " + h + "\n")
	}
	if d.ActiveFrom != "" {
		fmt.Fprintf(&t, "Access starts no earlier than %s.\n", d.ActiveFrom)
	}
	fmt.Fprintf(&t, "\nSee every entry on %s.\n", d.SeeEntries)
	contacts := "the building manager"
	if len(d.Contacts) > 0 {
		contacts = strings.Join(d.Contacts, ", ")
	}
	fmt.Fprintf(&t, "Questions: %s\n\nYour privacy, in plain words:\n", contacts)
	for _, p := range d.PrivacyText {
		t.WriteString("- " + p + "\n")
	}
	var h bytes.Buffer
	if err := noticeHTML.Execute(&h, d); err != nil {
		return "", "", err
	}
	return t.String(), h.String(), nil
}

// CarrierNotice is one allowed carrier as the console shows it: pending or
// active, from when, and the notices its residents were sent.
type CarrierNotice struct {
	Carrier   *doorman.Carrier
	Allowance *doorman.CarrierAllowance
	Active    bool
	Notices   []*doorman.Message
}

// CarrierNotices lists the carriers a building the caller manages allows,
// with their notice state. Returns ENOTFOUND.
func (s *Notices) CarrierNotices(ctx context.Context, buildingID string, now time.Time) ([]*CarrierNotice, time.Duration, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, 0, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, 0, err
	}
	period, err := s.store.NoticePeriod(ctx, b.ID)
	if err != nil {
		return nil, 0, err
	}
	cs, err := s.store.AllowedCarriers(ctx, b.ID)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*CarrierNotice, 0, len(cs))
	for _, c := range cs {
		a, err := s.store.CarrierAllowance(ctx, b.ID, c.ID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			continue // disallowed meanwhile
		} else if err != nil {
			return nil, 0, err
		}
		n := &CarrierNotice{Carrier: c, Allowance: a, Active: a.Active(now)}
		if a.NoticeSource != "" {
			if n.Notices, err = s.store.MessagesBySource(ctx, b.ID, a.NoticeSource); err != nil {
				return nil, 0, err
			}
		}
		out = append(out, n)
	}
	return out, period, nil
}

// SetNoticePeriod sets how long residents are given between a carrier's
// notice and its access, for a building the caller manages. It applies to
// allowances already pending too. Returns ENOTFOUND or EINVALID.
func (s *Notices) SetNoticePeriod(ctx context.Context, buildingID string, d time.Duration) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return err
	}
	return scoped(s.store.SetNoticePeriod(ctx, b.ID, d), "Building")
}
