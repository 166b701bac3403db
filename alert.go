package doorman

import (
	"context"
	"slices"
	"time"
)

// Audit actions of the alert sweeps and the retention job.
const (
	// ActionDoorOffline records that a door's device has not reported for
	// longer than the building's AlertSettings.OfflineMinutes: one entry
	// per outage, written by the sweep that notices it.
	ActionDoorOffline = "door.offline"
	// ActionDoorOnline records that a door reported as offline has reported
	// again: one entry per outage, after its door.offline.
	ActionDoorOnline = "door.online"
	// ActionAuditChainBroken records that the building's audit chain no
	// longer verified when the sweep checked it: once, when it first
	// breaks; the detail says where.
	ActionAuditChainBroken = "audit.chain_broken"
	// ActionRetentionEnforced records what the daily retention job removed
	// from a building (counts only, in the detail).
	ActionRetentionEnforced = "retention.enforced"
)

// Alert kinds a building's managers are told of by email. Each may be
// turned off per building (AlertSettings.Disabled).
const (
	AlertDoorHeldOpen     = "door_held_open"
	AlertDoorForced       = "door_forced"
	AlertDoorOffline      = "door_offline"
	AlertRepeatedDenials  = "repeated_denials"
	AlertAuditChainBroken = "audit_chain_broken"
	// AlertOfflineGrantMisuse: a door reported an offline grant used that
	// does not match what was issued, or a grant used twice.
	AlertOfflineGrantMisuse = "offline_grant_misuse"
)

// AlertKinds lists every alert kind, in the order the console shows them.
var AlertKinds = []string{AlertDoorHeldOpen, AlertDoorForced, AlertDoorOffline, AlertRepeatedDenials, AlertAuditChainBroken, AlertOfflineGrantMisuse}

// Defaults and bounds of a building's alert and retention settings.
const (
	DefaultOfflineMinutes = 10
	MaxOfflineMinutes     = 24 * 60
	DefaultRetentionDays  = 90
	MinRetentionDays      = 1
	MaxRetentionDays      = 3650
)

// RetentionMinGap is the least time between two runs of the retention job
// for one building: a daily job on several nodes runs once a day.
const RetentionMinGap = 20 * time.Hour

// Repeated denials: DenialAlertThreshold access denials of one courier, or
// at one door, within one DenialAlertWindow (fixed windows counted from
// the Unix epoch) alert the managers once per window.
const (
	DenialAlertThreshold = 5
	DenialAlertWindow    = 10 * time.Minute
)

// AlertSettings are a building's alert preferences and its retention
// period for personal data.
type AlertSettings struct {
	// Disabled lists the alert kinds the managers turned off.
	Disabled []string `json:"disabled,omitempty"`
	// OfflineMinutes is how long a door's device may be silent before the
	// door counts as offline and the managers are told.
	OfflineMinutes int `json:"offline_minutes"`
	// RetentionDays is how long personal data (delivery notes and photos,
	// message bodies) is kept.
	RetentionDays int `json:"retention_days"`
}

// DefaultAlertSettings are a building's settings until its managers
// change them: every alert on, 10 minutes, 90 days.
func DefaultAlertSettings() *AlertSettings {
	return &AlertSettings{OfflineMinutes: DefaultOfflineMinutes, RetentionDays: DefaultRetentionDays}
}

// Enabled reports whether alerts of kind are on.
func (s *AlertSettings) Enabled(kind string) bool { return !slices.Contains(s.Disabled, kind) }

// Validate returns EINVALID, naming the field, for an unknown alert kind
// or a number out of bounds, and sorts Disabled without duplicates.
func (s *AlertSettings) Validate() error {
	for _, k := range s.Disabled {
		if !slices.Contains(AlertKinds, k) {
			return InvalidField("disabled", "Unknown alert kind %q.", k)
		}
	}
	slices.Sort(s.Disabled)
	s.Disabled = slices.Compact(s.Disabled)
	if s.OfflineMinutes < 1 || s.OfflineMinutes > MaxOfflineMinutes {
		return InvalidField("offline_minutes", "Offline minutes must be between 1 and %d.", MaxOfflineMinutes)
	}
	if s.RetentionDays < MinRetentionDays || s.RetentionDays > MaxRetentionDays {
		return InvalidField("retention_days", "Retention days must be between %d and %d.", MinRetentionDays, MaxRetentionDays)
	}
	return nil
}

// DenialCount selects the access denials an alert counts: those of one
// chain up to and including the entry at UpToSeq, at or after Since, of
// the courier or at the door (exactly one of them set).
type DenialCount struct {
	Chain     string
	CourierID string
	DoorID    string
	Since     time.Time
	UpToSeq   int64
}

// RetentionCounts are what one run of the retention job removed from one
// building.
type RetentionCounts map[string]int

// AlertStore keeps the alert and retention settings of buildings and the
// state of the sweeps that produce alert entries.
type AlertStore interface {
	// AlertSettings returns the building's settings (DefaultAlertSettings
	// until set). Returns ENOTFOUND.
	AlertSettings(ctx context.Context, buildingID string) (*AlertSettings, error)
	// SetAlertSettings validates and stores the building's settings and
	// appends building.updated to its chain when they change. Returns
	// EINVALID or ENOTFOUND.
	SetAlertSettings(ctx context.Context, buildingID string, s *AlertSettings) error
	// BuildingManagerEmails lists the email addresses of the building's
	// managers, sorted.
	BuildingManagerEmails(ctx context.Context, buildingID string) ([]string, error)
	// SweepDoorStatus marks offline every door with an active device whose
	// last report is older than its building's OfflineMinutes before now
	// and not yet marked, appending ActionDoorOffline; and marks online
	// again every door marked offline that has reported since, appending
	// ActionDoorOnline: one of each per outage, however often it runs.
	// Returns how many doors went offline and came back.
	SweepDoorStatus(ctx context.Context, now time.Time) (offline, online int, err error)
	// MarkChainBroken appends ActionAuditChainBroken with detail to the
	// building's chain unless it is marked broken already, and marks it;
	// reports whether it appended. MarkChainVerified clears the mark.
	// Both return ENOTFOUND.
	MarkChainBroken(ctx context.Context, buildingID, detail string) (bool, error)
	MarkChainVerified(ctx context.Context, buildingID string) error
	// CountDenials counts the access.denied entries c selects.
	CountDenials(ctx context.Context, c DenialCount) (int, error)
	// ClaimRetentionRun records that the retention job runs for the
	// building at now, unless it ran after since; reports whether it may
	// run. Several nodes running the daily job thus run it once. Returns
	// ENOTFOUND.
	ClaimRetentionRun(ctx context.Context, buildingID string, now, since time.Time) (bool, error)
	// ClearDeliveryNotesBefore clears the delivery notes of the building's
	// parcels delivered before before. Returns how many it cleared.
	ClearDeliveryNotesBefore(ctx context.Context, buildingID string, before time.Time) (int, error)
}
