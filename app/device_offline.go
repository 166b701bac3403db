package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// maxOfflineDetail bounds the detail of an offline event's audit entry (the
// store takes up to 1024 bytes).
const maxOfflineDetail = 1000

// offlineUsed takes a door's report that its reader opened for an offline
// grant (an unlock_executed event with Offline set, recorded for the first
// time) and checks it against the grant the control plane issued: the
// grant must exist, be of the reporting door, and the token's courier and
// parcels digest must be the grant's. A match marks the grant used at the
// device's time (grant.used); a grant already used (online then offline,
// or offline twice) is written down as grant.used_twice, and any mismatch
// as grant.offline_mismatch, in the reporting door's building's chain,
// each alerting its managers (doorman.AlertOfflineGrantMisuse). The event
// itself is in the chain already, so nothing the device said is lost.
func (s *Devices) offlineUsed(ctx context.Context, doorID string, ev *wire.Event) error {
	door, err := s.store.Door(ctx, doorID)
	if err != nil {
		return err
	}
	misuse := func(action, why string) error {
		e := &doorman.AuditEntry{Action: action, BuildingID: door.BuildingID, DoorID: doorID,
			CourierID: ev.CourierID, Detail: fmt.Sprintf("%s (event %s, offline grant %s)", why, ev.ID, ev.JTI), At: s.now()}
		if strings.HasPrefix(ev.GrantID, doorman.PrefixGrant+"_") && len(ev.GrantID) <= 64 {
			e.GrantID = ev.GrantID
		}
		if len(e.CourierID) > 64 {
			e.CourierID = ""
		}
		s.logger.Warn("app: offline grant misused", "door", doorID, "grant", ev.GrantID, "action", action, "why", why)
		return s.store.AppendAudit(ctx, e)
	}
	if !doorman.HasPrefix(ev.JTI, wire.PrefixOfflineGrant) {
		return misuse(doorman.ActionGrantOfflineMismatch, "The door reported an offline use without an offline grant token ID.")
	}
	g, err := s.store.Grant(ctx, ev.GrantID)
	switch {
	case doorman.ErrorCode(err) == doorman.ENOTFOUND || ev.GrantID == "":
		return misuse(doorman.ActionGrantOfflineMismatch, "The door reported an offline grant for a grant Doorman never issued.")
	case err != nil:
		return err
	case g.BuildingID != door.BuildingID:
		return misuse(doorman.ActionGrantOfflineMismatch, "The door reported an offline grant of another building's door.")
	case g.DoorID != doorID:
		return misuse(doorman.ActionGrantOfflineMismatch, "The door reported an offline grant issued for another door.")
	case ev.CourierID != g.CourierID:
		return misuse(doorman.ActionGrantOfflineMismatch, "The offline grant the door accepted names another courier than the grant.")
	case ev.Parcels != wire.ParcelsDigest(g.ParcelIDs):
		return misuse(doorman.ActionGrantOfflineMismatch, "The offline grant the door accepted names other parcels than the grant.")
	case g.UsedAt != nil:
		return misuse(doorman.ActionGrantUsedTwice, "The door reported an offline use of a grant used already at "+g.UsedAt.UTC().Format(time.RFC3339)+".")
	}
	// The device judged the token within its validity by its own clock,
	// which may be off by the offline skew: within the grant's life, its
	// time is taken as it is, else as the grant's last moment.
	at := ev.At
	if !at.Before(g.ExpiresAt) {
		at = g.ExpiresAt.Add(-time.Millisecond)
	}
	err = s.store.MarkGrantUsed(ctx, g.ID, at)
	if doorman.ErrorCode(err) == doorman.ECONFLICT {
		// Used meanwhile (the race of two reports), or revoked before.
		return misuse(doorman.ActionGrantUsedTwice, "The door reported an offline use of a grant that was used or revoked already.")
	}
	return err
}
