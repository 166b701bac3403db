package doorman

import (
	"context"
	"time"
)

// DefaultNoticePeriod is how long a new building's residents are given
// between being told about a carrier and that carrier's couriers being let
// in. A building may set any period from zero up (see NoticeStore).
const DefaultNoticePeriod = 7 * 24 * time.Hour

// MaxNoticePeriod bounds the notice period a building may set.
const MaxNoticePeriod = 365 * 24 * time.Hour

// Kinds of the notices residents get before access changes.
const (
	KindCarrierNotice = "carrier.notice"
	KindDoorNotice    = "door.notice"
	KindHoursNotice   = "hours.notice"
)

// SettingNoticePeriod is the building setting a notice period is stored
// under (seconds on the console's form).
const SettingNoticePeriod = "notice_period"

// CarrierAllowance is a building's allowance of one carrier, with what the
// notice-before-access rule needs: when it was made, the audit entry that
// recorded it (the source of the residents' notices), how many notices the
// outbox holds for it, and how many residents were owed one.
type CarrierAllowance struct {
	BuildingID string    `json:"building_id"`
	CarrierID  string    `json:"carrier_id"`
	AllowedAt  time.Time `json:"allowed_at"`
	// NoticeSource is the ID of the carrier.allowed audit entry, or "" for
	// an allowance made before residents were given notice (active as it
	// always was).
	NoticeSource string `json:"notice_source,omitempty"`
	// NoticePeriod is the building's notice period.
	NoticePeriod time.Duration `json:"notice_period"`
	// NoticesQueued counts the carrier.notice messages produced from
	// NoticeSource.
	NoticesQueued int `json:"notices_queued"`
	// ResidentsOwed counts the building's residents who were there when
	// the carrier was allowed: they must be told before access starts.
	ResidentsOwed int `json:"residents_owed"`
}

// ActiveFrom is the earliest time the allowance can be active: the
// allowance plus the building's notice period.
func (a *CarrierAllowance) ActiveFrom() time.Time {
	return a.AllowedAt.Add(a.NoticePeriod)
}

// NoticesDone reports whether the residents owed a notice have one queued.
func (a *CarrierAllowance) NoticesDone() bool {
	return a.NoticeSource == "" || a.ResidentsOwed == 0 || a.NoticesQueued > 0
}

// Active is the one notice-before-access rule: the carrier's couriers may
// be let in at now only once the notices are queued and the notice period
// since the allowance has passed.
func (a *CarrierAllowance) Active(now time.Time) bool {
	if a.NoticeSource == "" {
		return true
	}
	// A zero period waits for the notices only: comparing the allowance's
	// time with another node's clock would refuse on clock skew alone.
	return a.NoticesDone() && (a.NoticePeriod <= 0 || !now.Before(a.ActiveFrom()))
}

// NoticeStore keeps the notice-before-access facts.
type NoticeStore interface {
	// CarrierAllowance returns the building's allowance of the carrier.
	// Returns ENOTFOUND if the building does not allow the carrier.
	CarrierAllowance(ctx context.Context, buildingID, carrierID string) (*CarrierAllowance, error)
	// NoticePeriod returns the building's notice period. Returns ENOTFOUND.
	NoticePeriod(ctx context.Context, buildingID string) (time.Duration, error)
	// SetNoticePeriod sets the building's notice period, recorded in the
	// audit log. Returns EINVALID (negative, or above MaxNoticePeriod) or
	// ENOTFOUND.
	SetNoticePeriod(ctx context.Context, buildingID string, d time.Duration) error
	// MessagesBySource lists the outbox messages produced from one audit
	// entry, oldest first.
	MessagesBySource(ctx context.Context, buildingID, source string) ([]*Message, error)
	NoticeContactStore
	DeliveryNoticeStore
}

// NoticeContactStore names whom residents may ask about their building.
type NoticeContactStore interface {
}
