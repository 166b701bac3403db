package app

import (
	"context"
	"slices"

	"github.com/doorman-dev/doorman"
)

// caller returns the principal in ctx, or an anonymous one (no role).
func caller(ctx context.Context) *doorman.Principal {
	if p := doorman.PrincipalFromContext(ctx); p != nil {
		return p
	}
	return &doorman.Principal{}
}

// Role sets the services admit.
var (
	operators      = []string{doorman.RoleSystem, doorman.RoleOperator}
	managers       = []string{doorman.RoleSystem, doorman.RoleOperator, doorman.RoleManager}
	carriersOnly   = []string{doorman.RoleCarrier}
	carrierOwners  = []string{doorman.RoleSystem, doorman.RoleOperator, doorman.RoleCarrier}
	couriersOnly   = []string{doorman.RoleCourier}
	buildingReader = []string{doorman.RoleSystem, doorman.RoleOperator, doorman.RoleManager, doorman.RoleCarrier}
	everyone       = []string{doorman.RoleSystem, doorman.RoleOperator, doorman.RoleManager, doorman.RoleCarrier, doorman.RoleCourier}
	sessionHolders = []string{doorman.RoleManager, doorman.RoleCourier, doorman.RoleResident}
	devicesOnly    = []string{doorman.RoleDevice}
)

// require returns the caller if its role is one of roles: EUNAUTHORIZED
// for an anonymous caller, EFORBIDDEN for another role.
func require(ctx context.Context, roles []string) (*doorman.Principal, error) {
	p := caller(ctx)
	if p.Role == "" {
		return nil, doorman.Errorf(doorman.EUNAUTHORIZED, "A bearer token is required (Authorization: Bearer <token>).")
	}
	if !slices.Contains(roles, p.Role) {
		return nil, doorman.Errorf(doorman.EFORBIDDEN, "This operation is not available to the %s role.", p.Role)
	}
	return p, nil
}

// isPlatform reports whether p may see and do everything.
func isPlatform(p *doorman.Principal) bool {
	return p.Role == doorman.RoleOperator || p.Role == doorman.RoleSystem
}

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

// buildingAccess says what the caller wants to do with a building.
type buildingAccess int

const (
	// readBuilding admits operators, the building's managers and carriers
	// the building allows.
	readBuilding buildingAccess = iota
	// manageBuilding admits operators and the building's managers.
	manageBuilding
)

// scopeStore is what authorisation reads.
type scopeStore interface {
	ManagerBuildingIDs(ctx context.Context, managerID string) ([]string, error)
	CarrierAllowed(ctx context.Context, buildingID, carrierID string) (bool, error)
	Building(ctx context.Context, id string) (*doorman.Building, error)
	Carrier(ctx context.Context, id string) (*doorman.Carrier, error)
	CourierByExternalID(ctx context.Context, carrierID, externalID string) (*doorman.Courier, error)
	Door(ctx context.Context, id string) (*doorman.Door, error)
}

// scope resolves objects named by the caller, refusing those outside its
// scope exactly like missing ones. Every service embeds one.
type scope struct {
	store scopeStore
}

// managedBuildingIDs returns the buildings the calling manager manages
// (nil for other roles).
func (s scope) managedBuildingIDs(ctx context.Context) ([]string, error) {
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
func (s scope) building(ctx context.Context, id string, access buildingAccess) (*doorman.Building, error) {
	if !doorman.HasPrefix(id, doorman.PrefixBuilding) {
		return nil, notFound("Building")
	}
	p := caller(ctx)
	switch {
	case isPlatform(p):
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
func (s scope) carrier(ctx context.Context, id string) (*doorman.Carrier, error) {
	if !doorman.HasPrefix(id, doorman.PrefixCarrier) {
		return nil, notFound("Carrier")
	}
	p := caller(ctx)
	switch {
	case isPlatform(p), p.Role == doorman.RoleManager:
	case p.Role == doorman.RoleCarrier:
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
func (s scope) ownCarrier(ctx context.Context, id string) (*doorman.Carrier, error) {
	if p := caller(ctx); !isPlatform(p) && p.Role != doorman.RoleCarrier {
		return nil, notFound("Carrier")
	}
	return s.carrier(ctx, id)
}

// courier returns the carrier's courier with the external ID, after
// checking the carrier is in scope.
func (s scope) courier(ctx context.Context, carrierID, externalID string) (*doorman.Courier, error) {
	if _, err := s.ownCarrier(ctx, carrierID); err != nil {
		return nil, err
	}
	c, err := s.store.CourierByExternalID(ctx, carrierID, externalID)
	return c, scoped(err, "Courier")
}

// door returns a door of a building the caller may access as asked.
func (s scope) door(ctx context.Context, buildingID, doorID string, access buildingAccess) (*doorman.Door, error) {
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
