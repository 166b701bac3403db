package doorman

import "context"

// KindDeliveryNotice is the kind of the email a unit's residents get when
// a parcel for them is marked delivered.
const KindDeliveryNotice = "delivery.notice"

// DeliveryNoticeStore keeps what delivery notices need.
type DeliveryNoticeStore interface {
	// DeliverParcel marks the carrier's parcel delivered with the note of
	// where it was left (CleanDeliveryNote; "" for none) in one write with
	// its parcel.delivered audit entry, so whoever reads the entry finds
	// the note. The note itself stays out of the hash-chained entry, so
	// that retention can delete it. Returns ENOTFOUND, or ECONFLICT
	// (reason parcel_already_delivered, or a status that cannot become
	// delivered).
	DeliverParcel(ctx context.Context, carrierID, tracking, note string) (*Parcel, error)
	// DeliveryRecipients lists the residents of a unit who want delivery
	// notices.
	DeliveryRecipients(ctx context.Context, unitID string) ([]*Resident, error)
}
