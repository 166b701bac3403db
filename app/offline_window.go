package app

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
)

// OfflineWindowStore is what OfflineWindows uses of the store.
type OfflineWindowStore interface {
	Door(ctx context.Context, id string) (*doorman.Door, error)
	Building(ctx context.Context, id string) (*doorman.Building, error)
}

// OfflineWindows tells the bus's time service each door's offline window
// (doorman.Building.OfflineWindow), which it signs into the door's time
// replies. It needs only the store, so the bus can be given it before the
// rest of the application exists.
type OfflineWindows struct {
	store OfflineWindowStore
}

// NewOfflineWindows returns the OfflineWindows service over store.
func NewOfflineWindows(store OfflineWindowStore) *OfflineWindows {
	return &OfflineWindows{store: store}
}

// Window returns how long after a time sync the door may accept offline
// grants: its building's offline delivery days, 0 when off. Only Doorman
// itself asks (the time service, for a door whose device asked the time).
// Returns EFORBIDDEN or ENOTFOUND.
func (s *OfflineWindows) Window(ctx context.Context, doorID string) (time.Duration, error) {
	if _, err := require(ctx, []string{doorman.RoleSystem}); err != nil {
		return 0, err
	}
	d, err := s.store.Door(ctx, doorID)
	if err != nil {
		return 0, err
	}
	b, err := s.store.Building(ctx, d.BuildingID)
	if err != nil {
		return 0, err
	}
	return b.OfflineWindow(), nil
}
