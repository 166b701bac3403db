package http

import (
	"context"
	"slices"

	"github.com/doorman-dev/doorman"
)

// Object-level authorisation. Every handler that names an object in its
// path goes through one of these before touching it. An object outside the
// caller's scope is answered exactly like one that does not exist (404),
// so that IDs of other buildings or carriers cannot be probed.

// buildingAccess says what the caller wants to do with a building.
type buildingAccess int

const (
	// readBuilding admits operators, the building's managers and carriers
	// the building allows.
	readBuilding buildingAccess = iota
	// manageBuilding admits operators and the building's managers.
	manageBuilding
)

// notFound is the one answer for missing and out-of-scope objects.
func notFound(what string) error {
	return doorman.Errorf(doorman.ENOTFOUND, "%s not found.", what)
}

// scoped replaces a store's ENOTFOUND by the uniform notFound answer.
func scoped(err error, what string) error {
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return notFound(what)
	}
	return err
}

// managedBuildingIDs returns the buildings the calling manager manages.
func (s *Server) managedBuildingIDs(ctx context.Context) ([]string, error) {
	p := caller(ctx)
	if p.Role != doorman.RoleManager {
		return nil, nil
	}
	ids, err := s.store.ManagerBuildingIDs(ctx, p.SubjectID)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// building returns the building if the caller may access it as asked.
func (s *Server) building(ctx context.Context, id string, access buildingAccess) (*doorman.Building, error) {
	if !doorman.HasPrefix(id, doorman.PrefixBuilding) {
		return nil, notFound("Building")
	}
	p := caller(ctx)
	switch {
	case p.Role == doorman.RoleOperator:
	case p.Role == doorman.RoleManager:
		ids, err := s.managedBuildingIDs(ctx)
		if err != nil {
			return nil, err
		} else if !slices.Contains(ids, id) {
			return nil, notFound("Building")
		}
	case p.Role == doorman.RoleCarrier && access == readBuilding:
		ok, err := s.store.CarrierAllowed(ctx, id, p.CarrierID)
		if err != nil {
			return nil, scoped(err, "Building")
		} else if !ok {
			return nil, notFound("Building")
		}
	default:
		return nil, notFound("Building")
	}
	b, err := s.store.Building(ctx, id)
	return b, scoped(err, "Building")
}

// carrier returns the carrier if the caller may see it: operators and
// managers see every carrier, a carrier only itself.
func (s *Server) carrier(ctx context.Context, id string) (*doorman.Carrier, error) {
	if !doorman.HasPrefix(id, doorman.PrefixCarrier) {
		return nil, notFound("Carrier")
	}
	p := caller(ctx)
	switch p.Role {
	case doorman.RoleOperator, doorman.RoleManager:
	case doorman.RoleCarrier:
		if id != p.CarrierID {
			return nil, notFound("Carrier")
		}
	default:
		return nil, notFound("Carrier")
	}
	c, err := s.store.Carrier(ctx, id)
	return c, scoped(err, "Carrier")
}

// ownCarrier is carrier for operations on a carrier's own data (couriers,
// parcels, keys): managers are not admitted there.
func (s *Server) ownCarrier(ctx context.Context, id string) (*doorman.Carrier, error) {
	if p := caller(ctx); p.Role != doorman.RoleOperator && p.Role != doorman.RoleCarrier {
		return nil, notFound("Carrier")
	}
	return s.carrier(ctx, id)
}

// courier returns the carrier's courier with the external ID, after
// checking the carrier is in scope.
func (s *Server) courier(ctx context.Context, carrierID, externalID string) (*doorman.Courier, error) {
	if _, err := s.ownCarrier(ctx, carrierID); err != nil {
		return nil, err
	}
	c, err := s.store.CourierByExternalID(ctx, carrierID, externalID)
	return c, scoped(err, "Courier")
}

// door returns a door of a building the caller may access as asked.
func (s *Server) door(ctx context.Context, buildingID, doorID string, access buildingAccess) (*doorman.Door, error) {
	b, err := s.building(ctx, buildingID, access)
	if err != nil {
		return nil, err
	}
	if !doorman.HasPrefix(doorID, doorman.PrefixDoor) {
		return nil, notFound("Door")
	}
	d, err := s.store.Door(ctx, doorID)
	if err != nil {
		return nil, scoped(err, "Door")
	} else if d.BuildingID != b.ID {
		return nil, notFound("Door")
	}
	return d, nil
}
