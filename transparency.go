package doorman

import "context"

// TransparencyStore keeps whether a building publishes its transparency
// page: which carriers may enter, which doors, when, and the latest signed
// checkpoint of its audit chain, readable by anyone without an account.
// It is off until the building's manager turns it on.
type TransparencyStore interface {
	// SetBuildingTransparent turns the building's transparency page on or
	// off, and appends a building.updated entry to the building's chain
	// when that changes it. Returns ENOTFOUND.
	SetBuildingTransparent(ctx context.Context, buildingID string, on bool) error
	// BuildingTransparent reports whether the building's transparency page
	// is on. Returns ENOTFOUND.
	BuildingTransparent(ctx context.Context, buildingID string) (bool, error)
}
