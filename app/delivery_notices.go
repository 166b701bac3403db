package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// DeliveryNoticeData is what a delivery notice says, and its payload. It
// names the carrier, never the courier.
type DeliveryNoticeData struct {
	Building    string `json:"building"`
	Unit        string `json:"unit"`
	Carrier     string `json:"carrier"`
	Tracking    string `json:"tracking_number"`
	DeliveredAt string `json:"delivered_at"`
	LeftAt      string `json:"left_at,omitempty"`
	// Photo says the courier took a photo of where the parcel was left,
	// which the resident page shows.
	Photo      bool   `json:"photo,omitempty"`
	SeeEntries string `json:"see_entries"`
}

// ProduceDeliveryNotices is the outbox producer of delivery notices: for a
// parcel.delivered entry it gives one email to each resident of the
// parcel's unit who wants delivery notices, saying which carrier, when
// (the building's local time), where the parcel was left and whether the
// courier took a photo of it (shown on the resident page).
func (s *Notices) ProduceDeliveryNotices(ctx context.Context, e *doorman.AuditEntry) ([]*doorman.Message, error) {
	if e.Action != doorman.ActionParcelDelivered || e.BuildingID == "" {
		return nil, nil
	}
	st := s.store
	b, err := s.store.Building(ctx, e.BuildingID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	loc, err := doorman.LoadLocation(b.Timezone)
	if err != nil {
		loc = time.UTC
	}
	notes, err := st.DeliveryNotes(ctx, b.ID, e.ParcelIDs)
	if err != nil {
		return nil, err
	}
	photos, err := st.DeliveryPhotoParcels(ctx, b.ID, e.ParcelIDs)
	if err != nil {
		return nil, err
	}
	var out []*doorman.Message
	for _, id := range e.ParcelIDs {
		p, err := st.Parcel(ctx, id)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			continue // erased since
		} else if err != nil {
			return nil, err
		}
		if p.UnitID == "" {
			continue
		}
		u, err := st.Unit(ctx, b.ID, p.UnitID)
		if doorman.ErrorCode(err) == doorman.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		c, err := s.store.Carrier(ctx, p.CarrierID)
		if err != nil {
			return nil, err
		}
		residents, err := s.store.DeliveryRecipients(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if len(residents) == 0 {
			continue
		}
		d := DeliveryNoticeData{Building: b.Name, Unit: u.Label, Carrier: c.Name, Tracking: p.TrackingNumber,
			DeliveredAt: e.At.In(loc).Format("Monday 2 January 2006, 15:04 MST"), LeftAt: notes[p.ID], Photo: photos[p.ID], SeeEntries: s.residentURL}
		text, html, err := renderDeliveryNotice(d)
		if err != nil {
			return nil, err
		}
		payload, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		for _, r := range residents {
			out = append(out, &doorman.Message{
				Channel: doorman.ChannelEmail, BuildingID: b.ID, Source: e.ID, Target: r.Email, ResidentID: r.ID,
				// A delivery entry names one parcel (sqlstore
				// SetParcelStatus), so (entry, target, kind) is unique.
				Kind:    doorman.KindDeliveryNotice,
				Subject: "Parcel delivered: " + c.Name + " at " + b.Name,
				Text:    text, HTML: html, Payload: payload,
			})
		}
	}
	return out, nil
}

func renderDeliveryNotice(d DeliveryNoticeData) (string, string, error) {
	var t strings.Builder
	fmt.Fprintf(&t, "A parcel from %s (%s) for unit %s at %s was delivered on %s.\n", d.Carrier, d.Tracking, d.Unit, d.Building, d.DeliveredAt)
	if d.LeftAt != "" {
		fmt.Fprintf(&t, "Left: %s\n", d.LeftAt)
	}
	if d.Photo {
		fmt.Fprintf(&t, "The courier took a photo of where the parcel was left: see it on %s.\n", d.SeeEntries)
	}
	fmt.Fprintf(&t, "\nSee your deliveries and the building's entries on %s.\n", d.SeeEntries)
	var h strings.Builder
	if err := deliveryHTML.Execute(&h, d); err != nil {
		return "", "", err
	}
	return t.String(), h.String(), nil
}
