package access

import (
	"context"
	"strings"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/policy"
)

// validate checks the shape of a request and returns its tracking numbers,
// trimmed and without repeats.
func validate(req doorman.AccessRequest) ([]string, error) {
	if req.CourierID == "" {
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "A courier session is required.")
	} else if req.DoorID == "" {
		return nil, doorman.Errorf(doorman.EINVALID, "door_id is required.")
	} else if len(req.TrackingNumbers) == 0 {
		return nil, doorman.Errorf(doorman.EINVALID, "Scan at least one tracking number.")
	} else if len(req.TrackingNumbers) > doorman.MaxScannedParcels {
		return nil, doorman.Errorf(doorman.EINVALID, "At most %d tracking numbers per request.", doorman.MaxScannedParcels)
	} else if req.Position != nil && !doorman.ValidPosition(req.Position.Latitude, req.Position.Longitude) {
		return nil, doorman.Errorf(doorman.EINVALID, "Position is out of range.")
	}
	seen := make(map[string]bool, len(req.TrackingNumbers))
	var out []string
	for _, tn := range req.TrackingNumbers {
		tn = strings.TrimSpace(tn)
		if !doorman.ValidTrackingNumber(tn) {
			return nil, doorman.Errorf(doorman.EINVALID, "Tracking number %q is malformed.", tn)
		}
		if !seen[tn] {
			seen[tn] = true
			out = append(out, tn)
		}
	}
	return out, nil
}

// load reads everything the decision needs.
func (s *Service) load(ctx context.Context, req doorman.AccessRequest, tracking []string) (*policy.Input, error) {
	in := &policy.Input{Now: s.now(), Position: req.Position, Limits: s.limits}
	var err error
	if in.Courier, err = s.store.Courier(ctx, req.CourierID); err != nil {
		return nil, err
	}
	if in.Door, err = s.store.Door(ctx, req.DoorID); err != nil {
		return nil, err
	}
	if in.Building, err = s.store.Building(ctx, in.Door.BuildingID); err != nil {
		return nil, err
	}
	if in.CarrierAllowed, err = s.store.CarrierAllowed(ctx, in.Door.BuildingID, in.Courier.CarrierID); err != nil {
		return nil, err
	}
	since := in.Now.Add(-doorman.RateWindow)
	if in.CourierRequests, in.DoorRequests, err = s.store.CountAccessRequests(ctx, in.Courier.ID, in.Door.ID, since, max(in.Limits.WithDefaults().Courier, in.Limits.WithDefaults().Door)); err != nil {
		return nil, err
	}
	parcels, err := s.store.ParcelsByTracking(ctx, tracking)
	if err != nil {
		return nil, err
	}
	for _, tn := range tracking {
		sc := policy.Scan{TrackingNumber: tn}
		for _, p := range parcels {
			if p.TrackingNumber != tn {
				continue
			} else if p.CarrierID == in.Courier.CarrierID {
				sc.Parcel = p
			} else {
				sc.OtherCarrier = true
			}
		}
		in.Scans = append(in.Scans, sc)
	}
	return in, nil
}
