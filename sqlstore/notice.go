package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/doorman-dev/doorman"
)

var _ doorman.NoticeStore = (*Store)(nil)

// CarrierAllowance returns the building's allowance of the carrier with the
// counts the notice-before-access rule needs. Returns ENOTFOUND.
func (s *Store) CarrierAllowance(ctx context.Context, buildingID, carrierID string) (*doorman.CarrierAllowance, error) {
	a := doorman.CarrierAllowance{BuildingID: buildingID, CarrierID: carrierID}
	var allowed, period int64
	err := s.rdb.QueryRowContext(ctx, `SELECT bc.created_at, bc.notice_source, b.notice_period,
		(SELECT COUNT(*) FROM outbox o WHERE bc.notice_source <> '' AND o.source = bc.notice_source AND o.kind = $3),
		(SELECT COUNT(*) FROM residents r WHERE r.building_id = bc.building_id AND r.created_at <= bc.created_at)
		FROM building_carriers bc JOIN buildings b ON b.id = bc.building_id
		WHERE bc.building_id = $1 AND bc.carrier_id = $2`, buildingID, carrierID, doorman.KindCarrierNotice).
		Scan(&allowed, &a.NoticeSource, &period, &a.NoticesQueued, &a.ResidentsOwed)
	if err != nil {
		return nil, s.translate("carrier allowance", notFoundIf(err, "Carrier allowance"))
	}
	a.AllowedAt = fromMicros(allowed)
	a.NoticePeriod = time.Duration(period) * time.Microsecond
	return &a, nil
}

// NoticePeriod returns the building's notice period. Returns ENOTFOUND.
func (s *Store) NoticePeriod(ctx context.Context, buildingID string) (time.Duration, error) {
	var period int64
	err := s.rdb.QueryRowContext(ctx, `SELECT notice_period FROM buildings WHERE id = $1`, buildingID).Scan(&period)
	if err != nil {
		return 0, s.translate("notice period", notFoundIf(err, "Building"))
	}
	return time.Duration(period) * time.Microsecond, nil
}

// SetNoticePeriod sets the building's notice period and records it in the
// building's audit log. Returns EINVALID or ENOTFOUND.
func (s *Store) SetNoticePeriod(ctx context.Context, buildingID string, d time.Duration) error {
	if d < 0 || d > doorman.MaxNoticePeriod {
		return doorman.InvalidField(doorman.SettingNoticePeriod, "The notice period is from 0 to %d days.", int(doorman.MaxNoticePeriod/(24*time.Hour)))
	}
	e := s.entry(ctx, doorman.ActionBuildingUpdated, buildingID)
	e.Detail = fmt.Sprintf("%s=%s", doorman.SettingNoticePeriod, d.Truncate(time.Second))
	return s.write(ctx, "set notice period", e.Chain, func(tx *wtx) error {
		res, err := tx.Exec(`UPDATE buildings SET notice_period = $1 WHERE id = $2`, d.Microseconds(), buildingID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound("Building")
		}
		return s.appendAudit(tx, e)
	})
}

// MessagesBySource lists the building's outbox messages produced from one
// audit entry, oldest first.
func (s *Store) MessagesBySource(ctx context.Context, buildingID, source string) ([]*doorman.Message, error) {
	list, err := collect(ctx, s.rdb, `SELECT `+messageColumns+`
		FROM outbox WHERE building_id = $1 AND source = $2 ORDER BY created_at, id`,
		[]any{buildingID, source}, scanMessage)
	if err != nil {
		return nil, s.translate("messages by source", err)
	}
	return list, nil
}

// DeliverParcel marks the parcel delivered with its note in one write.
func (s *Store) DeliverParcel(ctx context.Context, carrierID, tracking, note string) (*doorman.Parcel, error) {
	note, err := doorman.CleanDeliveryNote(note)
	if err != nil {
		return nil, err
	}
	return s.setParcelStatus(ctx, carrierID, tracking, doorman.ParcelDelivered, "", &note)
}

// DeliveryRecipients lists the unit's residents who want delivery notices.
func (s *Store) DeliveryRecipients(ctx context.Context, unitID string) ([]*doorman.Resident, error) {
	list, err := collect(ctx, s.rdb, `SELECT `+residentColumns+` FROM residents WHERE unit_id = $1 AND notify_delivery = $2 ORDER BY id`,
		[]any{unitID, true}, scanResident)
	if err != nil {
		return nil, s.translate("delivery recipients", err)
	}
	return list, nil
}
