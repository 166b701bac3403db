package app

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
)

// Door positions as the door's device last reported them.
const (
	DoorOpen    = "open"
	DoorClosed  = "closed"
	DoorUnknown = "unknown"
)

// DoorState is a door with its status and whether it is open, as its
// device's latest door event in the building's audit log says.
type DoorState struct {
	*Door
	// Position is DoorOpen, DoorClosed or DoorUnknown (no door event
	// among the door's latest entries).
	Position string
	// PositionAt is when the device reported the position.
	PositionAt time.Time
}

// doorStateLookback is how many of a door's latest audit entries are read
// for its latest door event.
const doorStateLookback = 50

// DoorStates lists the doors of a building the caller manages with their
// status and position: what the console's live door list shows.
func (s *Buildings) DoorStates(ctx context.Context, buildingID string) ([]*DoorState, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, buildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	var out []*DoorState
	page := doorman.Page{Limit: doorman.MaxPageLimit}
	for {
		doors, next, err := s.store.ListDoors(ctx, b.ID, page)
		if err != nil {
			return nil, err
		}
		for _, d := range doors {
			st := &DoorState{Door: s.doorView(d), Position: DoorUnknown}
			entries, _, err := s.store.ListAudit(ctx, doorman.AuditFilter{BuildingIDs: []string{b.ID}, DoorID: d.ID},
				doorman.Page{Limit: doorStateLookback})
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				switch e.Action {
				case doorman.DeviceEventAction(doorman.EventDoorOpened), doorman.DeviceEventAction(doorman.EventDoorHeldOpen),
					doorman.DeviceEventAction(doorman.EventDoorForced):
					st.Position = DoorOpen
				case doorman.DeviceEventAction(doorman.EventDoorClosed):
					st.Position = DoorClosed
				default:
					continue
				}
				st.PositionAt = e.At
				break
			}
			out = append(out, st)
		}
		if next == "" {
			return out, nil
		}
		page.After = next
	}
}
