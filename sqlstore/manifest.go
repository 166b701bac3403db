package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/doorman-dev/doorman"
)

// Results of one manifest item.
const (
	resultCreated   = "created"
	resultUpdated   = "updated"
	resultUnchanged = "unchanged"
	resultError     = "error"
)

// manifest is one UpsertParcels call being checked and then applied.
type manifest struct {
	s         *Store
	tx        *wtx
	carrierID string

	buildings map[string]bool      // building ID → whether it allows the carrier
	units     map[[2]string]string // building, label → unit ID
	couriers  map[string]string    // external ID → courier ID
}

// UpsertParcels applies a carrier's manifest batch all-or-nothing. Every
// item is checked first: tracking number, building, unit label, courier,
// status and transition, and that no tracking number repeats. A building
// that does not allow the carrier is refused exactly as one that does not
// exist, by the same query, before its units are looked at, so a carrier
// learns nothing about buildings that have not allowed it. If any item
// fails, nothing is written, the error is EINVALID and the results say
// which items failed and why (the others read "unchanged"). Otherwise every
// item is written in one transaction and its result is created, updated or
// unchanged. Returns ETOOLARGE above doorman.MaxManifestBatch items and
// ENOTFOUND for an unknown carrier.
func (s *Store) UpsertParcels(ctx context.Context, carrierID string, items []doorman.ParcelInput) ([]doorman.ParcelResult, error) {
	if len(items) == 0 {
		return nil, doorman.Errorf(doorman.EINVALID, "The manifest has no parcels.")
	} else if len(items) > doorman.MaxManifestBatch {
		return nil, doorman.Errorf(doorman.ETOOLARGE, "At most %d parcels per manifest.", doorman.MaxManifestBatch)
	}
	ids := make([]string, len(items))
	for i := range ids {
		ids[i] = s.ids.Next(doorman.PrefixParcel)
	}
	actor := doorman.ActorFromContext(ctx)
	var results []doorman.ParcelResult
	err := s.write(ctx, "upsert parcels", carrierID, func(tx *wtx) error {
		m := &manifest{s: s, tx: tx, carrierID: carrierID,
			buildings: map[string]bool{}, units: map[[2]string]string{}, couriers: map[string]string{}}
		if err := s.exists(tx, `SELECT 1 FROM carriers WHERE id = $1`, carrierID); err != nil {
			return notFoundIf(err, "Carrier")
		}
		results = make([]doorman.ParcelResult, len(items))
		plans := make([]*doorman.Parcel, len(items))
		olds := make([]string, len(items))
		failed := 0
		first := map[string]int{}
		for i, in := range items {
			results[i] = doorman.ParcelResult{Index: i, TrackingNumber: in.TrackingNumber, Result: resultUnchanged}
			p, old, result, err := m.plan(in, ids[i])
			if j, dup := first[in.TrackingNumber]; dup && err == nil {
				err = doorman.Errorf(doorman.EINVALID, "Tracking number %q is also item %d of this manifest.", in.TrackingNumber, j)
			}
			if _, dup := first[in.TrackingNumber]; !dup {
				first[in.TrackingNumber] = i
			}
			var de *doorman.Error
			if errors.As(err, &de) {
				results[i].Result, results[i].ErrorCode, results[i].Error = resultError, de.Code, de.Message
				failed++
				continue
			} else if err != nil {
				return err
			}
			plans[i], olds[i] = p, old
			results[i].Result = result
		}
		if failed > 0 {
			return doorman.Errorf(doorman.EINVALID, "%d of %d parcels are invalid; nothing was written.", failed, len(items))
		}

		now := s.clock()
		for i, p := range plans {
			if results[i].Result != resultUnchanged {
				if err := m.apply(p, olds[i], results[i].Result, now, actor); err != nil {
					return err
				}
			}
			results[i].Parcel = p
		}
		return nil
	})
	if err != nil && doorman.ErrorCode(err) == doorman.EINVALID && results != nil {
		return results, err
	} else if err != nil {
		return nil, err
	}
	return results, nil
}

// plan checks one item against the store and returns the parcel as it
// should be, its stored status ("" if new) and the item's result.
func (m *manifest) plan(in doorman.ParcelInput, newID string) (*doorman.Parcel, string, string, error) {
	if !doorman.ValidTrackingNumber(in.TrackingNumber) {
		return nil, "", "", doorman.Errorf(doorman.EINVALID, "A tracking number is 1 to 64 printable characters without spaces.")
	}
	if in.Status != "" && !doorman.ValidParcelStatus(in.Status) {
		return nil, "", "", doorman.Errorf(doorman.EINVALID, "Unknown parcel status %q.", in.Status)
	}
	if err := m.building(in.BuildingID); err != nil {
		return nil, "", "", err
	}
	unitID, err := m.unit(in.BuildingID, in.UnitLabel)
	if err != nil {
		return nil, "", "", err
	}
	courierID := ""
	if in.CourierExternalID != "" {
		if courierID, err = m.courier(in.CourierExternalID); err != nil {
			return nil, "", "", err
		}
	}

	p, err := m.s.parcelByTracking(context.Background(), m.tx, m.carrierID, in.TrackingNumber)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		status := in.Status
		if status == "" {
			status = doorman.ParcelManifested
		}
		return &doorman.Parcel{ID: newID, CarrierID: m.carrierID, TrackingNumber: in.TrackingNumber,
			BuildingID: in.BuildingID, UnitID: unitID, CourierID: courierID, Status: status}, "", resultCreated, nil
	} else if err != nil {
		return nil, "", "", err
	}

	old := p.Status
	status := in.Status
	if status == "" {
		status = old
	}
	if err := doorman.CanTransition(old, status); err != nil {
		return nil, "", "", err
	}
	if courierID == "" {
		courierID = p.CourierID
	}
	if p.BuildingID == in.BuildingID && p.UnitID == unitID && p.CourierID == courierID && old == status {
		return p, old, resultUnchanged, nil
	}
	p.BuildingID, p.UnitID, p.CourierID, p.Status = in.BuildingID, unitID, courierID, status
	return p, old, resultUpdated, nil
}

// apply writes a planned parcel and, when it became delivered, appends
// the delivery to its building's audit chain.
func (m *manifest) apply(p *doorman.Parcel, old, result string, now time.Time, actor string) error {
	delivered := p.Status == doorman.ParcelDelivered && old != doorman.ParcelDelivered
	if delivered {
		p.DeliveredAt = &now
	}
	p.UpdatedAt = now
	if result == resultCreated {
		p.CreatedAt = now
		if _, err := m.tx.Exec(`INSERT INTO parcels (`+parcelColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			p.ID, p.CarrierID, p.TrackingNumber, p.BuildingID, p.UnitID, nullString(p.CourierID), p.Status,
			nullMicros(p.DeliveredAt), micros(now)); err != nil {
			if m.s.dialect.classify(err) == ErrUnique {
				return doorman.Errorf(doorman.ECONFLICT, "Parcel %s was manifested meanwhile; try again.", p.TrackingNumber)
			}
			return err
		}
	} else if err := updateParcel(m.tx, p, old); err != nil {
		return err
	}
	if !delivered {
		return nil
	}
	return m.s.appendAudit(m.tx, &doorman.AuditEntry{Chain: chainOf(p.BuildingID), At: now,
		Action: doorman.ActionParcelDelivered, Actor: actor, BuildingID: p.BuildingID,
		CarrierID: p.CarrierID, CourierID: p.CourierID, ParcelIDs: []string{p.ID}})
}

// building returns nil if the building exists and allows the carrier, and
// otherwise the one answer for both a building that does not exist and one
// that does not allow the carrier: the carrier must not tell them apart.
func (m *manifest) building(id string) error {
	if ok, seen := m.buildings[id]; seen {
		if !ok {
			return doorman.Errorf(doorman.ENOTFOUND, "No building with this ID allows this carrier.")
		}
		return nil
	}
	err := m.s.exists(m.tx, `SELECT 1 FROM building_carriers WHERE building_id = $1 AND carrier_id = $2`, id, m.carrierID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	m.buildings[id] = err == nil
	return m.building(id)
}

func (m *manifest) unit(buildingID, label string) (string, error) {
	k := [2]string{buildingID, label}
	if id, seen := m.units[k]; seen {
		if id == "" {
			return "", doorman.Errorf(doorman.ENOTFOUND, "Unit %q not found in the building.", label)
		}
		return id, nil
	}
	var id string
	err := m.tx.QueryRow(`SELECT id FROM units WHERE building_id = $1 AND label = $2`, buildingID, label).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	m.units[k] = id
	return m.unit(buildingID, label)
}

func (m *manifest) courier(externalID string) (string, error) {
	if id, seen := m.couriers[externalID]; seen {
		if id == "" {
			return "", doorman.Errorf(doorman.ENOTFOUND, "Courier %q not found.", externalID)
		}
		return id, nil
	}
	var id string
	err := m.tx.QueryRow(`SELECT id FROM couriers WHERE carrier_id = $1 AND external_id = $2`, m.carrierID, externalID).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	m.couriers[externalID] = id
	return m.courier(externalID)
}
