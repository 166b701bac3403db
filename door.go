package doorman

import (
	"context"
	"time"
)

// Door is an entry door whose strike relay a device drives.
type Door struct {
	ID         string `json:"id"`
	BuildingID string `json:"building_id"`
	Name       string `json:"name"`

	// Position of the door, used with Building.MaxDistanceMeters.
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`

	// PulseMillis is how long the strike relay is released per unlock.
	PulseMillis int `json:"pulse_millis"`

	// LockedDown refuses every delivery access at once.
	LockedDown bool `json:"locked_down"`

	// LastSeenAt is when the door's device last reported; nil if never.
	LastSeenAt *time.Time `json:"last_seen_at,omitempty"`

	// ClockSynced is what the door's device said in its last heartbeat:
	// whether a signed time sync has succeeded since it started. Until
	// one has, the device refuses every command (clock_unsynced). False
	// before any heartbeat, and for agents too old to report it.
	ClockSynced bool `json:"clock_synced" doc:"Whether the door's device, by its latest heartbeat, has synced its clock with the control plane since it started; until it has, it refuses every command (clock_unsynced). False before any heartbeat."`

	// StorageFault is what the door's device said in its last heartbeat:
	// whether its last write to its replay log or event queue failed
	// (typically a full disk). It refuses every command it cannot record
	// (storage_fault), so the door stays shut until that is fixed.
	StorageFault bool `json:"storage_fault" doc:"Whether the door's device, by its latest heartbeat, could not write its records (typically a full disk); it refuses every command it cannot record (storage_fault)."`

	// ClockSyncedAt and OfflineGrantsUntil are what the door's device said
	// in its latest heartbeat about its time: the control plane's time at
	// its last signed time sync (kept by the device across restarts), and
	// until when that sync lets it accept offline grants, by the
	// building's offline window. Nil before any report, and when the
	// device has never synced or its building allows no offline delivery.
	ClockSyncedAt      *time.Time `json:"clock_synced_at,omitempty" doc:"The control plane's time at the door's device's last signed time sync, as its latest heartbeat said (kept by the device across restarts). Absent until the device reports one."`
	OfflineGrantsUntil *time.Time `json:"offline_grants_until,omitempty" doc:"Until when the door's device accepts offline grants from its reader, by its latest heartbeat: its last time sync plus the building's offline window. Absent when it accepts none (never synced, or offline delivery off when it last synced)."`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Door pulse limits, in milliseconds.
const (
	DefaultPulseMillis = 3000
	MinPulseMillis     = 200
	MaxPulseMillis     = 15000
)

// Validate returns EINVALID if the door breaks a rule.
func (d *Door) Validate() error {
	if d.BuildingID == "" {
		return Errorf(EINVALID, "Door building required.")
	} else if d.Name == "" {
		return Errorf(EINVALID, "Door name required.")
	} else if !PlainText(d.Name) {
		return Errorf(EINVALID, "Door name must be plain text, without control characters.")
	} else if d.PulseMillis < MinPulseMillis || d.PulseMillis > MaxPulseMillis {
		return Errorf(EINVALID, "pulse_millis must be between %d and %d.", MinPulseMillis, MaxPulseMillis)
	} else if (d.Latitude == nil) != (d.Longitude == nil) {
		return Errorf(EINVALID, "Give both latitude and longitude, or neither.")
	} else if d.Latitude != nil && !ValidPosition(*d.Latitude, *d.Longitude) {
		return Errorf(EINVALID, "Door position is out of range.")
	}
	return nil
}

// HasPosition reports whether the door's position is known.
func (d *Door) HasPosition() bool { return d.Latitude != nil && d.Longitude != nil }

// DoorLink delivers unlock commands to door devices. It is implemented by
// natsbus; without one, grants are committed but no door is driven.
type DoorLink interface {
	// Unlock sends the door a signed, single-use, expiring command for the
	// grant and waits for the device's acknowledgement, which says when the
	// device pulsed its relay. Returns EUNAVAILABLE (reason door_offline)
	// if the door does not answer within the command timeout, and
	// EFORBIDDEN (reason door_rejected) if the device refused the command.
	Unlock(ctx context.Context, door *Door, grant *Grant) (*UnlockAck, error)
}

// UnlockAck is a door device's acknowledgement of an executed unlock.
type UnlockAck struct {
	// ExecutedAt is when the device pulsed the relay, by its clock.
	ExecutedAt time.Time
}
