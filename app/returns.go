package app

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// ReturnStore is what the Returns service reads and writes.
type ReturnStore interface {
	scopeStore
	doorman.ReturnStore
	Resident(ctx context.Context, id string) (*doorman.Resident, error)
	Unit(ctx context.Context, buildingID, id string) (*doorman.Unit, error)
	AllowedCarriers(ctx context.Context, buildingID string) ([]*doorman.Carrier, error)
	CarrierAllowance(ctx context.Context, buildingID, carrierID string) (*doorman.CarrierAllowance, error)
	BuildingManagerEmails(ctx context.Context, buildingID string) ([]string, error)
}

// Returns runs the use cases of returns: a resident registers a parcel
// for a carrier's courier to pick up; the courier, let in by the return's
// tracking number (access/load.go), marks it collected; the resident is
// told it was collected, and the resident and managers are told once if
// it waits too long.
type Returns struct {
	scope
	store       ReturnStore
	now         func() time.Time
	logger      *slog.Logger
	residentURL string
}

// NewReturns returns the Returns service over store; baseURL is the
// public address of the pages (may be "").
func NewReturns(store ReturnStore, baseURL string, now func() time.Time, logger *slog.Logger) *Returns {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u := "your resident page (open the link in any Doorman email)"
	if baseURL != "" {
		u = strings.TrimRight(baseURL, "/") + "/resident"
	}
	return &Returns{scope: scope{store}, store: store, now: now, logger: logger, residentURL: u}
}

// ReturnInput is what a resident says of a return.
type ReturnInput struct {
	CarrierID      string
	TrackingNumber string
	Place          string
}

// me returns the calling resident (EUNAUTHORIZED once their data is gone).
func (s *Returns) me(ctx context.Context) (*doorman.Resident, error) {
	p, err := require(ctx, residentsOnly)
	if err != nil {
		return nil, err
	}
	r, err := s.store.Resident(ctx, p.SubjectID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "Your session has ended. Ask for a new sign-in link.")
	}
	return r, err
}

// ReturnCarriers lists the carriers the calling resident may register a
// return for: those their building allows whose allowance is active.
func (s *Returns) ReturnCarriers(ctx context.Context) ([]*doorman.Carrier, error) {
	me, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.store.AllowedCarriers(ctx, me.BuildingID)
	if err != nil {
		return nil, err
	}
	out := []*doorman.Carrier{}
	for _, c := range all {
		if ok, err := s.carrierActive(ctx, me.BuildingID, c.ID); err != nil {
			return nil, err
		} else if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// carrierActive is whether the building allows the carrier and the
// allowance is active (the one notice-before-access rule).
func (s *Returns) carrierActive(ctx context.Context, buildingID, carrierID string) (bool, error) {
	a, err := s.store.CarrierAllowance(ctx, buildingID, carrierID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return a.Active(s.now()), nil
}

// Register registers a return for the calling resident's own unit, at
// their own building: the unit and building come from the resident, never
// from the input. The carrier must be one the building allows, and active.
func (s *Returns) Register(ctx context.Context, in ReturnInput) (*doorman.Return, error) {
	me, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	r := &doorman.Return{BuildingID: me.BuildingID, UnitID: me.UnitID, ResidentID: me.ID,
		CarrierID: in.CarrierID, TrackingNumber: in.TrackingNumber, Place: in.Place}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if ok, err := s.carrierActive(ctx, me.BuildingID, r.CarrierID); err != nil {
		return nil, err
	} else if !ok {
		return nil, doorman.InvalidField("carrier_id", "Choose a carrier your building allows.")
	}
	if err := s.store.RegisterReturn(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// MyReturns lists the calling resident's returns, newest first.
func (s *Returns) MyReturns(ctx context.Context) ([]*doorman.Return, error) {
	me, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.ResidentReturns(ctx, me.ID)
}

// PendingReturn is a return as its carrier's couriers see it: where to
// pick it up, without the resident.
type PendingReturn struct {
	TrackingNumber string    `json:"tracking_number"`
	BuildingID     string    `json:"building_id"`
	Building       string    `json:"building"`
	Address        string    `json:"address"`
	Unit           string    `json:"unit"`
	Place          string    `json:"place"`
	RegisteredAt   time.Time `json:"registered_at"`
}

// Pending lists the returns waiting for the calling courier's carrier at
// buildings that allow it. BuildingID, when not "", keeps only that
// building's.
func (s *Returns) Pending(ctx context.Context, buildingID string) ([]*PendingReturn, error) {
	p, err := require(ctx, couriersOnly)
	if err != nil {
		return nil, err
	}
	list, err := s.store.PendingReturns(ctx, p.CarrierID)
	if err != nil {
		return nil, err
	}
	out := []*PendingReturn{}
	buildings := map[string]*doorman.Building{}
	for _, r := range list {
		if buildingID != "" && r.BuildingID != buildingID {
			continue
		}
		b := buildings[r.BuildingID]
		if b == nil {
			if b, err = s.store.Building(ctx, r.BuildingID); err != nil {
				return nil, err
			}
			buildings[b.ID] = b
		}
		unit := ""
		if u, err := s.store.Unit(ctx, r.BuildingID, r.UnitID); err == nil {
			unit = u.Label
		}
		out = append(out, &PendingReturn{TrackingNumber: r.TrackingNumber, BuildingID: b.ID, Building: b.Name,
			Address: b.Address, Unit: unit, Place: r.Place, RegisteredAt: r.CreatedAt})
	}
	return out, nil
}

// Collect marks a return of the calling courier's carrier collected by
// them. ENOTFOUND for another carrier's return (or one at a building that
// no longer allows the carrier); ECONFLICT if it was collected already.
func (s *Returns) Collect(ctx context.Context, tracking string) (*PendingReturn, error) {
	p, err := require(ctx, couriersOnly)
	if err != nil {
		return nil, err
	}
	tracking = strings.TrimSpace(tracking)
	if !doorman.ValidTrackingNumber(tracking) {
		return nil, notFound("Return")
	}
	r, err := s.store.CollectReturn(ctx, p.CarrierID, tracking, p.SubjectID)
	if err != nil {
		return nil, scoped(err, "Return")
	}
	b, err := s.store.Building(ctx, r.BuildingID)
	if err != nil {
		return nil, err
	}
	return &PendingReturn{TrackingNumber: r.TrackingNumber, BuildingID: b.ID, Building: b.Name, Address: b.Address,
		Place: r.Place, RegisteredAt: r.CreatedAt}, nil
}

// SweepOverdue marks the returns waiting longer than their building's
// days, each once (a return.overdue entry the producer turns into email).
// Run as the system.
func (s *Returns) SweepOverdue(ctx context.Context) (int, error) {
	if _, err := require(ctx, operators); err != nil {
		return 0, err
	}
	return s.store.MarkOverdueReturns(ctx)
}

// ReturnMailData is what an email about a return says, and its payload.
type ReturnMailData struct {
	Building   string `json:"building"`
	Unit       string `json:"unit"`
	Carrier    string `json:"carrier"`
	Tracking   string `json:"tracking_number"`
	Place      string `json:"place"`
	At         string `json:"at"`
	SeeEntries string `json:"see_entries"`
}

// returnMail reads what an entry about a return needs: nil when the
// return or its building is gone (erased since).
func (s *Returns) returnMail(ctx context.Context, e *doorman.AuditEntry) (*doorman.Return, *ReturnMailData, error) {
	if e.BuildingID == "" || len(e.ParcelIDs) != 1 || !doorman.HasPrefix(e.ParcelIDs[0], doorman.PrefixReturn) {
		return nil, nil, nil
	}
	r, err := s.store.Return(ctx, e.ParcelIDs[0])
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	b, err := s.store.Building(ctx, r.BuildingID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	u, err := s.store.Unit(ctx, b.ID, r.UnitID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	c, err := s.store.Carrier(ctx, r.CarrierID)
	if err != nil {
		return nil, nil, err
	}
	loc, err := doorman.LoadLocation(b.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return r, &ReturnMailData{Building: b.Name, Unit: u.Label, Carrier: c.Name, Tracking: r.TrackingNumber,
		Place: r.Place, At: e.At.In(loc).Format("Monday 2 January 2006, 15:04 MST"), SeeEntries: s.residentURL}, nil
}

// ProduceCollected is the outbox producer of "collected" emails: for a
// pickup.collected entry, one email to the resident who registered the
// return.
func (s *Returns) ProduceCollected(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
	if e.Action != doorman.ActionPickupCollected {
		return nil, nil
	}
	r, d, err := s.returnMail(ctx, e)
	if err != nil || r == nil {
		return nil, err
	}
	res, err := s.store.Resident(ctx, r.ResidentID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("Your return to %s (%s), left in the %s of %s, was collected by the courier on %s.\n\nSee your returns on %s.\n",
		d.Carrier, d.Tracking, d.Place, d.Building, d.At, d.SeeEntries)
	m, err := returnMessage(e, res.Email, res.ID, doorman.KindReturnCollected, "Return collected: "+d.Carrier+" "+d.Tracking, text, collectedHTML, d)
	if err != nil {
		return nil, err
	}
	return []*doorman.Message{m}, nil
}

// ProduceOverdue is the outbox producer of overdue emails: for a
// return.overdue entry, one email to the resident and one to each of the
// building's managers.
func (s *Returns) ProduceOverdue(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
	if e.Action != doorman.ActionReturnOverdue {
		return nil, nil
	}
	r, d, err := s.returnMail(ctx, e)
	if err != nil || r == nil {
		return nil, err
	}
	subject := "Return not collected: " + d.Carrier + " " + d.Tracking
	text := fmt.Sprintf("The return to %s (%s) for unit %s, left in the %s of %s, has not been collected by the carrier's courier.\n\nSee the returns on %s.\n",
		d.Carrier, d.Tracking, d.Unit, d.Place, d.Building, d.SeeEntries)
	var out []*doorman.Message
	seen := map[string]bool{}
	res, err := s.store.Resident(ctx, r.ResidentID)
	if err != nil && doorman.ErrorCode(err) != doorman.ENOTFOUND {
		return nil, err
	}
	if res != nil {
		m, err := returnMessage(e, res.Email, res.ID, doorman.KindReturnOverdue, subject, text, overdueHTML, d)
		if err != nil {
			return nil, err
		}
		out, seen[strings.ToLower(res.Email)] = append(out, m), true
	}
	managers, err := s.store.BuildingManagerEmails(ctx, r.BuildingID)
	if err != nil {
		return nil, err
	}
	for _, addr := range managers {
		if seen[strings.ToLower(addr)] {
			continue
		}
		seen[strings.ToLower(addr)] = true
		m, err := returnMessage(e, addr, "", doorman.KindReturnOverdue, subject, text, overdueHTML, d)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func returnMessage(e *doorman.AuditEntry, target, residentID, kind, subject, text string, html *template.Template, d *ReturnMailData) (*doorman.Message, error) {
	var h strings.Builder
	if err := html.Execute(&h, d); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return &doorman.Message{Channel: doorman.ChannelEmail, BuildingID: e.BuildingID, Source: e.ID, Target: target,
		ResidentID: residentID, Kind: kind, Subject: subject, Text: text, HTML: h.String(), Payload: payload}, nil
}

var collectedHTML = template.Must(template.New("collected").Parse(`<!doctype html>
<html><body>
<p>Your return to {{.Carrier}} ({{.Tracking}}), left in the {{.Place}} of {{.Building}}, was collected by the courier on {{.At}}.</p>
<p>See your returns on {{.SeeEntries}}.</p>
</body></html>`))

var overdueHTML = template.Must(template.New("overdue").Parse(`<!doctype html>
<html><body>
<p>The return to {{.Carrier}} ({{.Tracking}}) for unit {{.Unit}}, left in the {{.Place}} of {{.Building}}, has not been collected by the carrier's courier.</p>
<p>See the returns on {{.SeeEntries}}.</p>
</body></html>`))
