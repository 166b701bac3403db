package app

import (
	"context"
	"time"

	"github.com/doorman-dev/doorman"
)

// Door is a door with its status now: what is stored, and whether its
// device is online, computed from last_seen_at when it is read.
type Door struct {
	doorman.Door
	Online bool `json:"online" doc:"Whether the door's device reported within the last 150 seconds (devices send a heartbeat every minute); see last_seen_at."`
	// OfflineSince is, for a door whose device is not online, when it was
	// last heard of; nil when online or never seen.
	OfflineSince *time.Time `json:"offline_since,omitempty" doc:"For a door whose device is not online: when it last reported, the start of the outage as far as the control plane can tell. Absent when online or never seen."`
	// ClockSyncAgeSeconds is how long ago, now, the device's last signed
	// time sync was (by its latest heartbeat); nil when it reported none.
	ClockSyncAgeSeconds *int64 `json:"clock_sync_age_seconds,omitempty" doc:"How long ago, in whole seconds, the door's device last synced its clock with the control plane, by its latest heartbeat (see clock_synced_at). Absent when it reported no sync."`
	// AcceptsOfflineGrants says whether, by its latest heartbeat, the
	// door's device accepts offline grants now (offline_grants_until is
	// ahead).
	AcceptsOfflineGrants bool `json:"accepts_offline_grants" doc:"Whether, by its latest heartbeat, the door's device accepts offline grants now: its last time sync allowed them and offline_grants_until has not passed."`
}

func (s *Buildings) doorView(d *doorman.Door) *Door {
	now := s.now()
	v := &Door{Door: *d, Online: d.Online(now)}
	if !v.Online && d.LastSeenAt != nil {
		v.OfflineSince = d.LastSeenAt
	}
	if d.ClockSyncedAt != nil {
		age := max(int64(now.Sub(*d.ClockSyncedAt)/time.Second), 0)
		v.ClockSyncAgeSeconds = &age
	}
	v.AcceptsOfflineGrants = d.OfflineGrantsUntil != nil && now.Before(*d.OfflineGrantsUntil)
	return v
}

// CreateDoor adds a door to a building the caller manages; PulseMillis 0
// takes the default. Returns ENOTFOUND or EINVALID.
func (s *Buildings) CreateDoor(ctx context.Context, d *doorman.Door) (*Door, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	b, err := s.building(ctx, d.BuildingID, manageBuilding)
	if err != nil {
		return nil, err
	}
	d.BuildingID = b.ID
	if d.PulseMillis == 0 {
		d.PulseMillis = doorman.DefaultPulseMillis
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateDoor(ctx, d); err != nil {
		return nil, scoped(err, "Building")
	}
	return s.doorView(d), nil
}

// ListDoors lists a building's doors with their status. Carriers the
// building allows may list them.
func (s *Buildings) ListDoors(ctx context.Context, buildingID string, page doorman.Page) ([]*Door, string, error) {
	if _, err := require(ctx, buildingReader); err != nil {
		return nil, "", err
	}
	b, err := s.building(ctx, buildingID, readBuilding)
	if err != nil {
		return nil, "", err
	}
	items, next, err := s.store.ListDoors(ctx, b.ID, page.Normalize())
	if err != nil {
		return nil, "", err
	}
	views := make([]*Door, len(items))
	for i, d := range items {
		views[i] = s.doorView(d)
	}
	return views, next, nil
}

// Door returns a door with its status. Returns ENOTFOUND.
func (s *Buildings) Door(ctx context.Context, buildingID, doorID string) (*Door, error) {
	if _, err := require(ctx, buildingReader); err != nil {
		return nil, err
	}
	d, err := s.door(ctx, buildingID, doorID, readBuilding)
	if err != nil {
		return nil, err
	}
	return s.doorView(d), nil
}

// UpdateDoor changes a door of a building the caller manages, after
// checking the door as it would become. Lockdown is set with SetLockdown.
// Returns ENOTFOUND or EINVALID.
func (s *Buildings) UpdateDoor(ctx context.Context, buildingID, doorID string, upd doorman.DoorUpdate) (*Door, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	d, err := s.door(ctx, buildingID, doorID, manageBuilding)
	if err != nil {
		return nil, err
	}
	upd.LockedDown = nil
	next := *d
	if upd.Name != nil {
		next.Name = *upd.Name
	}
	if upd.PulseMillis != nil {
		next.PulseMillis = *upd.PulseMillis
	}
	if upd.Latitude != nil {
		next.Latitude = *upd.Latitude
	}
	if upd.Longitude != nil {
		next.Longitude = *upd.Longitude
	}
	if err := next.Validate(); err != nil {
		return nil, err
	}
	return s.updateDoor(ctx, d.ID, upd)
}

// SetLockdown locks a door down (every delivery access refused at once,
// also grants not yet used) or lifts the lockdown. Returns ENOTFOUND.
func (s *Buildings) SetLockdown(ctx context.Context, buildingID, doorID string, on bool) (*Door, error) {
	if _, err := require(ctx, managers); err != nil {
		return nil, err
	}
	d, err := s.door(ctx, buildingID, doorID, manageBuilding)
	if err != nil {
		return nil, err
	}
	return s.updateDoor(ctx, d.ID, doorman.DoorUpdate{LockedDown: &on})
}

func (s *Buildings) updateDoor(ctx context.Context, id string, upd doorman.DoorUpdate) (*Door, error) {
	d, err := s.store.UpdateDoor(ctx, id, upd)
	if err != nil {
		return nil, scoped(err, "Door")
	}
	return s.doorView(d), nil
}
