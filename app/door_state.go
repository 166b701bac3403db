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

// OfflineEvent is something a door's device did while its link was down,
// reported once the link returned.
type OfflineEvent struct {
	ID         string    `json:"id" doc:"The device's event ID (evt_…)."`
	DeviceID   string    `json:"device_id"`
	Kind       string    `json:"kind" doc:"What happened: unlock_executed (the door opened for a grant; by the door's reader, for an offline grant), command_rejected (the device refused one; reason says why), door_opened, door_closed, door_held_open, door_forced, tamper."`
	At         time.Time `json:"at" doc:"When it happened, by the device's clock."`
	RecordedAt time.Time `json:"recorded_at" doc:"When the control plane received it, once the link returned."`
	GrantID    string    `json:"grant_id,omitempty" doc:"The grant the door opened (or refused to open) for."`
	Reason     string    `json:"reason,omitempty" doc:"Why the device refused, for command_rejected (e.g. replayed, expired, wrong_door, sync_too_old)."`
	Detail     string    `json:"detail,omitempty" doc:"The device's words, for people."`
}

// OfflineActivity lists what a door of a building the caller manages did
// while its link was down, newest first: the events its device queued and
// delivered once the link returned (doorman.DeviceStore.OfflineActivity),
// openings by offline grant among them. Returns ENOTFOUND or EINVALID (a
// cursor).
func (s *Buildings) OfflineActivity(ctx context.Context, buildingID, doorID string, page doorman.Page) ([]*OfflineEvent, string, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, "", err
	}
	d, err := s.door(ctx, buildingID, doorID, manageBuilding)
	if err != nil {
		return nil, "", err
	}
	events, next, err := s.store.OfflineActivity(ctx, d.ID, page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*OfflineEvent, len(events))
	for i, e := range events {
		out[i] = &OfflineEvent{ID: e.ID, DeviceID: e.DeviceID, Kind: e.Kind, At: e.At, RecordedAt: e.RecordedAt,
			GrantID: e.GrantID, Reason: e.Reason, Detail: e.Detail}
	}
	return out, next, nil
}
