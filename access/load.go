package access

import (
	"context"
	"fmt"
	"strings"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/policy"
)

// validate checks the shape of a request and returns its tracking numbers,
// trimmed (scanners add line ends) and without repeats: a parcel scanned
// twice is still one parcel. It is the one place requests are checked;
// adapters only map fields.
func validate(req doorman.AccessRequest) ([]string, error) {
	switch {
	case !doorman.HasPrefix(req.DoorID, doorman.PrefixDoor):
		return nil, unknownDoor()
	case len(req.TrackingNumbers) == 0:
		return nil, doorman.InvalidField("body.tracking_numbers", "Scan at least one tracking number.")
	case len(req.TrackingNumbers) > doorman.MaxScannedParcels:
		return nil, doorman.InvalidField("body.tracking_numbers", "At most %d tracking numbers per request.", doorman.MaxScannedParcels)
	case req.Position != nil && !doorman.ValidPosition(req.Position.Latitude, req.Position.Longitude):
		return nil, doorman.InvalidField("body.position", "Latitude must be within ±90 and longitude within ±180.")
	}
	seen := make(map[string]bool, len(req.TrackingNumbers))
	out := make([]string, 0, len(req.TrackingNumbers))
	for i, tn := range req.TrackingNumbers {
		tn = strings.TrimSpace(tn)
		if !doorman.ValidTrackingNumber(tn) {
			return nil, doorman.InvalidField(fmt.Sprintf("body.tracking_numbers[%d]", i), "Tracking numbers are 1 to 64 printable characters without spaces.")
		}
		if !seen[tn] {
			seen[tn] = true
			out = append(out, tn)
		}
	}
	return out, nil
}

// unknownDoor is the one answer for a door that does not exist and a door
// of a building that does not allow the courier's carrier: couriers cannot
// tell the two apart, so door IDs of other buildings cannot be probed, and
// nothing is written to a building that never let the carrier in.
func unknownDoor() error {
	return doorman.InvalidField("body.door_id", "Unknown door_id.")
}

// load reads everything the decision needs. The rate limits and the
// lockdown are resolved by the store when the decision is recorded.
func (s *Service) load(ctx context.Context, courierID string, req doorman.AccessRequest, tracking []string) (*policy.Input, error) {
	in := &policy.Input{Now: s.now(), Position: req.Position}
	var err error
	if in.Courier, err = s.store.Courier(ctx, courierID); err != nil {
		return nil, err
	}
	if in.Door, err = s.store.Door(ctx, req.DoorID); doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, unknownDoor()
	} else if err != nil {
		return nil, err
	}
	if in.Allowance, err = s.store.CarrierAllowance(ctx, in.Door.BuildingID, in.Courier.CarrierID); doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return nil, unknownDoor()
	} else if err != nil {
		return nil, err
	}
	in.CarrierAllowed = true
	if in.Building, err = s.store.Building(ctx, in.Door.BuildingID); err != nil {
		return nil, err
	}
	parcels, err := s.store.ParcelsByTracking(ctx, tracking)
	if err != nil {
		return nil, err
	}
	returns, err := s.store.ReturnsByTracking(ctx, tracking)
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
		for _, r := range returns {
			if r.TrackingNumber != tn {
				continue
			} else if r.CarrierID == in.Courier.CarrierID {
				// Several buildings may hold one: the door's is the one.
				if sc.Return == nil || r.BuildingID == in.Door.BuildingID {
					sc.Return = r
				}
			} else {
				sc.OtherCarrier = true
			}
		}
		in.Scans = append(in.Scans, sc)
	}
	return in, nil
}
