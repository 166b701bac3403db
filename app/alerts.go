package app

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// AlertsStore is what the Alerts service uses of the store.
type AlertsStore interface {
	scopeStore
	doorman.AlertStore
	ListBuildings(ctx context.Context, ids []string, p doorman.Page) ([]*doorman.Building, string, error)
}

// Alerts tells a building's managers by email when something needs them:
// a door held or forced open, a door offline too long, repeated denials of
// one courier or at one door, an audit chain that no longer verifies. Its
// Produce is an outbox producer; its sweeps write the audit entries the
// device does not (door.offline, door.online, audit.chain_broken), so every
// alert comes from an entry of the building's chain. Managers turn kinds of
// alert off per building (AlertSettings).
type Alerts struct {
	scope
	store  AlertsStore
	audit  *Audit
	now    func() time.Time
	logger *slog.Logger
}

// NewAlerts returns the Alerts service over store; audit verifies the
// chains for CheckChains.
func NewAlerts(store AlertsStore, audit *Audit, now func() time.Time, logger *slog.Logger) *Alerts {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Alerts{scope: scope{store}, store: store, audit: audit, now: now, logger: logger}
}

// Settings returns the building's alert and retention settings
// (operators; managers of the building). Returns ENOTFOUND.
func (s *Alerts) Settings(ctx context.Context, buildingID string) (*doorman.AlertSettings, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	st, err := s.store.AlertSettings(ctx, b.ID)
	return st, scoped(err, "Building")
}

// SetSettings replaces the building's alert and retention settings
// (operators; managers of the building). Returns EINVALID or ENOTFOUND.
func (s *Alerts) SetSettings(ctx context.Context, buildingID string, st *doorman.AlertSettings) error {
	if _, err := require(ctx, managers); err != nil {
		return err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return err
	}
	if err := st.Validate(); err != nil {
		return err
	}
	return scoped(s.store.SetAlertSettings(ctx, b.ID, st), "Building")
}

// SweepDoors writes door.offline for each door silent longer than its
// building allows and door.online for each that came back, once per
// outage (system only). Run it every minute or so.
func (s *Alerts) SweepDoors(ctx context.Context) (offline, online int, err error) {
	if _, err := require(ctx, []string{doorman.RoleSystem}); err != nil {
		return 0, 0, err
	}
	return s.store.SweepDoorStatus(ctx, s.now())
}

// CheckChains verifies every chain (Audit.Verify) and writes
// audit.chain_broken to each building's chain that newly fails, once per
// break; a chain that verifies again is marked so, and a later break
// alerts again (system only). Returns how many chains newly broke.
func (s *Alerts) CheckChains(ctx context.Context) (int, error) {
	if _, err := require(ctx, []string{doorman.RoleSystem}); err != nil {
		return 0, err
	}
	breaks, err := s.audit.Verify(ctx)
	if err != nil {
		return 0, err
	}
	broken := map[string]doorman.ChainBreak{}
	for _, b := range breaks {
		broken[b.Chain] = b
	}
	n := 0
	for page := (doorman.Page{Limit: doorman.MaxPageLimit}); ; {
		buildings, next, err := s.store.ListBuildings(ctx, nil, page)
		if err != nil {
			return n, err
		}
		for _, b := range buildings {
			br, ok := broken[b.ID]
			if !ok {
				if err := s.store.MarkChainVerified(ctx, b.ID); err != nil {
					return n, err
				}
				continue
			}
			marked, err := s.store.MarkChainBroken(ctx, b.ID, fmt.Sprintf("The audit chain does not verify at entry %d: %s", br.Seq, br.Problem))
			if err != nil {
				return n, err
			}
			if marked {
				n++
				s.logger.Error("audit chain broken", "building", b.ID, "seq", br.Seq, "problem", br.Problem)
			}
		}
		if next == "" {
			return n, nil
		}
		page.After = next
	}
}

// alert is what one alert email says.
type alert struct {
	kind    string // doorman.Alert*: the preference that turns it off
	subkind string // the message kind, "alert." + …
	title   string
	what    string
	todo    string
}

// alertActions are the audit actions that may call for an alert.
var alertActions = map[string]bool{
	doorman.DeviceEventAction(doorman.EventDoorHeldOpen): true,
	doorman.DeviceEventAction(doorman.EventDoorForced):   true,
	doorman.ActionDoorOffline:                            true,
	doorman.ActionDoorOnline:                             true,
	doorman.ActionAuditChainBroken:                       true,
	doorman.ActionAccessDenied:                           true,
	doorman.ActionGrantOfflineMismatch:                   true,
	doorman.ActionGrantUsedTwice:                         true,
}

// Produce is the outbox producer of manager alerts: for an entry that
// calls for one, and whose kind of alert the building has on, one email to
// each of the building's managers. A counted flood of events is one entry,
// so one alert. The outbox runs it as the system principal; anyone else is
// refused (it reads managers' addresses).
func (s *Alerts) Produce(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
	if _, err := require(ctx, []string{doorman.RoleSystem}); err != nil {
		return nil, err
	}
	if e.BuildingID == "" || !alertActions[e.Action] {
		return nil, nil
	}
	st, err := s.store.AlertSettings(ctx, e.BuildingID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var alerts []alert
	times := ""
	if e.Count > 0 {
		times = fmt.Sprintf(" %d more times within a minute (counted together, after the first ones, which were told one by one)", e.Count)
	}
	switch e.Action {
	case doorman.DeviceEventAction(doorman.EventDoorHeldOpen):
		alerts = append(alerts, alert{kind: doorman.AlertDoorHeldOpen, subkind: "door_held_open",
			title: "Door held open", what: "The door was held open" + times + ".",
			todo: "Check that the door is closed and nothing is blocking it; if it will not close, have it repaired."})
	case doorman.DeviceEventAction(doorman.EventDoorForced):
		alerts = append(alerts, alert{kind: doorman.AlertDoorForced, subkind: "door_forced",
			title: "Door forced open", what: "The door was opened" + times + " without Doorman unlocking it.",
			todo: "Check the door and the camera footage if you have any; if someone broke in, call the police. Consider locking the door down from the console."})
	case doorman.ActionDoorOffline:
		alerts = append(alerts, alert{kind: doorman.AlertDoorOffline, subkind: "door_offline",
			title: "Door offline", what: e.Detail + " Couriers cannot be let in through this door.",
			todo: "Check the device's power and network connection at the door."})
	case doorman.ActionDoorOnline:
		alerts = append(alerts, alert{kind: doorman.AlertDoorOffline, subkind: "door_online",
			title: "Door back online", what: e.Detail, todo: "Nothing: couriers can be let in again."})
	case doorman.ActionAuditChainBroken:
		alerts = append(alerts, alert{kind: doorman.AlertAuditChainBroken, subkind: "audit_chain_broken",
			title: "Audit log no longer verifies", what: e.Detail + " Someone may have changed or deleted entries of the building's audit log.",
			todo: "Tell your Doorman operator at once; keep the checkpoint files and database backups as they are."})
	case doorman.ActionGrantOfflineMismatch:
		alerts = append(alerts, alert{kind: doorman.AlertOfflineGrantMisuse, subkind: "offline_grant_mismatch",
			title: "Door opened for an offline code that does not match", what: e.Detail + " The door opened while it was offline for a code that does not match what Doorman issued.",
			todo: "Check who entered at that time; if the door's device may be tampered with, revoke it and enroll a new one."})
	case doorman.ActionGrantUsedTwice:
		alerts = append(alerts, alert{kind: doorman.AlertOfflineGrantMisuse, subkind: "grant_used_twice",
			title: "Delivery code used twice", what: e.Detail + " A delivery grant opened a door more than once; it is meant for one use.",
			todo: "Check who entered at those times, and ask the carrier about the courier named in the audit log."})
	case doorman.ActionAccessDenied:
		if !st.Enabled(doorman.AlertRepeatedDenials) {
			return nil, nil
		}
		if alerts, err = s.denialAlerts(ctx, e); err != nil {
			return nil, err
		}
	}
	if len(alerts) == 0 {
		return nil, nil
	}
	b, err := s.store.Building(ctx, e.BuildingID)
	if err != nil {
		return nil, err
	}
	emails, err := s.store.BuildingManagerEmails(ctx, e.BuildingID)
	if err != nil {
		return nil, err
	}
	door := ""
	if e.DoorID != "" {
		if d, err := s.store.Door(ctx, e.DoorID); err == nil {
			door = d.Name
		} else if doorman.ErrorCode(err) != doorman.ENOTFOUND {
			return nil, err
		}
	}
	loc, err := doorman.LoadLocation(b.Timezone)
	if err != nil {
		loc = time.UTC
	}
	var out []*doorman.Message
	for _, a := range alerts {
		if !st.Enabled(a.kind) {
			continue
		}
		data := alertData{Building: b.Name, Address: b.Address, Door: door,
			Time: e.At.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), Title: a.title, What: a.what, Todo: a.todo,
			Entry: e.ID, Seq: e.Seq}
		text, html, err := renderAlert(data)
		if err != nil {
			return nil, err
		}
		subject := fmt.Sprintf("[%s] %s", b.Name, a.title)
		if door != "" {
			subject += ": " + door
		}
		for _, to := range emails {
			out = append(out, &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: b.ID, Source: e.ID,
				Target: to, Kind: "alert." + a.subkind, Subject: subject, Text: text, HTML: html,
				Status: doorman.MessageQueued, CreatedAt: s.now(), NextAttemptAt: s.now()})
		}
	}
	return out, nil
}

// denialAlerts returns the repeated-denial alerts an access.denied entry
// completes: the DenialAlertThreshold-th denial of its courier, or at its
// door, within its fixed DenialAlertWindow, counted in chain order up to
// the entry, so exactly one entry of a window alerts.
func (s *Alerts) denialAlerts(ctx context.Context, e *doorman.AuditEntry) ([]alert, error) {
	since := e.At.Truncate(doorman.DenialAlertWindow)
	minutes := int(doorman.DenialAlertWindow / time.Minute)
	var out []alert
	for _, c := range []doorman.DenialCount{{CourierID: e.CourierID}, {DoorID: e.DoorID}} {
		if c.CourierID == "" && c.DoorID == "" {
			continue
		}
		c.Chain, c.Since, c.UpToSeq = e.Chain, since, e.Seq
		n, err := s.store.CountDenials(ctx, c)
		if err != nil {
			return nil, err
		}
		if n != doorman.DenialAlertThreshold {
			continue
		}
		if c.CourierID != "" {
			out = append(out, alert{kind: doorman.AlertRepeatedDenials, subkind: "repeated_denials.courier",
				title: "Repeated denials of one courier",
				what: fmt.Sprintf("Courier %s (carrier %s) was refused entry %d times within %d minutes; the last reason was %s.",
					e.CourierID, e.CarrierID, n, minutes, e.Reason),
				todo: "Look at the building's audit log in the console; if this looks like abuse, remove the carrier or lock the door down, and tell the carrier."})
		} else {
			out = append(out, alert{kind: doorman.AlertRepeatedDenials, subkind: "repeated_denials.door",
				title: "Repeated denials at one door",
				what:  fmt.Sprintf("Entry through this door was refused %d times within %d minutes; the last reason was %s.", n, minutes, e.Reason),
				todo:  "Look at the building's audit log in the console; if someone is trying their luck, lock the door down."})
		}
	}
	return out, nil
}

// alertData is what an alert email is rendered from.
type alertData struct {
	Building, Address, Door, Time, Title, What, Todo, Entry string
	Seq                                                     int64
}

var alertHTML = template.Must(template.New("alert").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
<p><strong>{{.Building}}</strong>, {{.Address}}</p>
<dl>
{{if .Door}}<dt>Door</dt><dd>{{.Door}}</dd>{{end}}
<dt>When</dt><dd>{{.Time}}</dd>
<dt>What happened</dt><dd>{{.What}}</dd>
<dt>What to do</dt><dd>{{.Todo}}</dd>
</dl>
<p>Audit entry {{.Entry}} (#{{.Seq}} of the building's log). You can turn this kind of alert off on the building's Alerts page in the console.</p>
</body></html>
`))

// renderAlert returns an alert email's text and HTML; the HTML escapes
// everything it is given.
func renderAlert(d alertData) (text, html string, err error) {
	var t strings.Builder
	fmt.Fprintf(&t, "%s\n\n%s, %s\n", d.Title, d.Building, d.Address)
	if d.Door != "" {
		fmt.Fprintf(&t, "Door: %s\n", d.Door)
	}
	fmt.Fprintf(&t, "When: %s\n\nWhat happened: %s\n\nWhat to do: %s\n\n", d.Time, d.What, d.Todo)
	fmt.Fprintf(&t, "Audit entry %s (#%d of the building's log). You can turn this kind of alert off on the building's Alerts page in the console.\n", d.Entry, d.Seq)
	var h bytes.Buffer
	if err := alertHTML.Execute(&h, d); err != nil {
		return "", "", err
	}
	return t.String(), h.String(), nil
}
