package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// KeyRing is the control plane's command key ring; keyring.Ring
// implements it.
type KeyRing interface {
	// KeySet is the key set as last read from the store; Now the ring's
	// clock, by which statuses are judged.
	KeySet() *doorman.CommandKeySet
	Now() time.Time
	// Holds reports whether this node holds the private key of kid.
	Holds(kid string) bool
	// Rotate creates a key that activates after overlap; the active key
	// retires grace after that. Returns ECONFLICT when a key waits already.
	Rotate(ctx context.Context, overlap, grace time.Duration) (*doorman.CommandKey, error)
	// Activate makes the next key kid active now. Returns ENOTFOUND or
	// ECONFLICT.
	Activate(ctx context.Context, kid string, grace time.Duration) error
	// Revoke revokes kid now. Returns ENOTFOUND.
	Revoke(ctx context.Context, kid string) error
	// SignKeyUpdate returns the key update for a door's device.
	SignKeyUpdate(doorID string) (*wire.KeyUpdate, error)
}

// KeyBus sends key updates to doors; natsbus.Bus implements it.
type KeyBus interface {
	// SendKeyUpdate sends u to the device of door doorID. Returns EINVALID
	// or EUNAVAILABLE.
	SendKeyUpdate(doorID string, u *wire.KeyUpdate) error
}

// KeyDoors lists the doors to announce key changes to.
type KeyDoors interface {
	ListBuildings(ctx context.Context, ids []string, p doorman.Page) ([]*doorman.Building, string, error)
	ListDevices(ctx context.Context, buildingID string, p doorman.Page) ([]*doorman.Device, string, error)
}

// DefaultKeyOverlap is how long a rotated-in key is announced to devices
// before the ring signs with it; DefaultKeyGrace how long devices still
// accept the key it replaces after that, for tokens signed just before
// the switch (commands live at most a minute, offline grants a minute
// plus their clock allowance).
const (
	DefaultKeyOverlap = 24 * time.Hour
	DefaultKeyGrace   = 5 * time.Minute
)

// CommandKeys rotates and revokes the command signing keys and tells the
// doors. Every method but CatchUp is for operators.
type CommandKeys struct {
	ring   KeyRing
	doors  KeyDoors
	bus    KeyBus // nil: devices learn changes from no one (CLI on the store)
	logger *slog.Logger
}

// NewCommandKeys returns the service. bus may be nil (the CLI works on the
// store alone; running nodes announce the change when they see it).
func NewCommandKeys(ring KeyRing, doors KeyDoors, bus KeyBus, logger *slog.Logger) *CommandKeys {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &CommandKeys{ring: ring, doors: doors, bus: bus, logger: logger}
}

// CommandKeyInfo is a key as operators see it.
type CommandKeyInfo struct {
	doorman.CommandKey
	Status string
	// Held says whether this node holds the key's private key file.
	Held bool
}

// List returns the key set's sequence and its keys, oldest first, with
// their statuses now. Returns EUNAUTHORIZED or EFORBIDDEN.
func (s *CommandKeys) List(ctx context.Context) (int64, []CommandKeyInfo, error) {
	if _, err := require(ctx, operators); err != nil {
		return 0, nil, err
	}
	set := s.ring.KeySet()
	return set.Seq, s.infos(set), nil
}

func (s *CommandKeys) infos(set *doorman.CommandKeySet) []CommandKeyInfo {
	now := s.ring.Now()
	out := make([]CommandKeyInfo, 0, len(set.Keys))
	for _, k := range set.Keys {
		out = append(out, CommandKeyInfo{CommandKey: *k, Status: set.Status(k, now), Held: s.ring.Holds(k.KeyID)})
	}
	return out
}

// Rotate creates a new key, announces it to the doors at once, and makes
// it the signing key after overlap (0: now); the key it replaces retires
// grace after that. Returns EUNAUTHORIZED, EFORBIDDEN, EINVALID (a
// negative duration) or ECONFLICT (a key waits to activate already).
func (s *CommandKeys) Rotate(ctx context.Context, overlap, grace time.Duration) (*CommandKeyInfo, error) {
	if _, err := require(ctx, operators); err != nil {
		return nil, err
	}
	k, err := s.ring.Rotate(ctx, overlap, grace)
	if err != nil {
		return nil, err
	}
	s.logger.Info("command key rotated in", "kid", k.KeyID, "activates_at", k.ActivatesAt)
	s.Announce(ctx)
	return s.info(k.KeyID), nil
}

// Activate makes the next key kid the signing key now, ending its overlap
// early; the key it replaces retires grace from now. Returns
// EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND or ECONFLICT (not a next key).
func (s *CommandKeys) Activate(ctx context.Context, kid string, grace time.Duration) (*CommandKeyInfo, error) {
	if _, err := require(ctx, operators); err != nil {
		return nil, err
	}
	if err := s.ring.Activate(ctx, kid, grace); err != nil {
		return nil, err
	}
	s.logger.Info("command key activated", "kid", kid)
	s.Announce(ctx)
	return s.info(kid), nil
}

// Revoke refuses the key kid from now on: devices refuse whatever it
// signed as soon as the key update reaches them. Revoking the active key
// activates the next key at once when one waits; when none does, it is
// refused (rotate with no overlap first), since the deployment would have
// no key left to sign with. Returns EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND
// or ECONFLICT.
func (s *CommandKeys) Revoke(ctx context.Context, kid string) (*CommandKeyInfo, error) {
	if _, err := require(ctx, operators); err != nil {
		return nil, err
	}
	set, now := s.ring.KeySet(), s.ring.Now()
	k := set.Key(kid)
	if k == nil {
		return nil, doorman.Errorf(doorman.ENOTFOUND, "Command key not found.")
	}
	if a := set.Active(now); a != nil && a.KeyID == kid {
		var next *doorman.CommandKey
		for _, o := range set.Keys {
			if set.Status(o, now) == doorman.KeyNext {
				next = o
			}
		}
		if next == nil {
			return nil, doorman.Errorf(doorman.ECONFLICT, "Command key %s is the one the deployment signs with: rotate with no overlap first, then revoke it.", kid)
		}
		if err := s.ring.Activate(ctx, next.KeyID, 0); err != nil {
			return nil, err
		}
	}
	if err := s.ring.Revoke(ctx, kid); err != nil {
		return nil, err
	}
	s.logger.Warn("command key revoked", "kid", kid)
	s.Announce(ctx)
	return s.info(kid), nil
}

func (s *CommandKeys) info(kid string) *CommandKeyInfo {
	set := s.ring.KeySet()
	for _, i := range s.infos(set) {
		if i.KeyID == kid {
			return &i
		}
	}
	return nil
}

// Announce sends the current key set to every door with an active
// device. Failures are logged: devices that miss it catch up at their
// next heartbeat (CatchUp).
func (s *CommandKeys) Announce(ctx context.Context) {
	if s.bus == nil || s.doors == nil {
		return
	}
	sent := 0
	after := ""
	for {
		bs, next, err := s.doors.ListBuildings(ctx, nil, doorman.Page{After: after, Limit: doorman.MaxPageLimit})
		if err != nil {
			s.logger.Warn("app: announcing command keys", "err", err)
			return
		}
		for _, b := range bs {
			sent += s.announceBuilding(ctx, b.ID)
		}
		if next == "" {
			break
		}
		after = next
	}
	s.logger.Info("command key set announced", "doors", sent)
}

func (s *CommandKeys) announceBuilding(ctx context.Context, buildingID string) int {
	sent, after := 0, ""
	for {
		ds, next, err := s.doors.ListDevices(ctx, buildingID, doorman.Page{After: after, Limit: doorman.MaxPageLimit})
		if err != nil {
			s.logger.Warn("app: announcing command keys", "building", buildingID, "err", err)
			return sent
		}
		for _, d := range ds {
			if d.RevokedAt == nil && s.send(d.DoorID) {
				sent++
			}
		}
		if next == "" {
			return sent
		}
		after = next
	}
}

// CatchUp sends the door's device the current key set when the sequence
// its heartbeat reported is behind. Devices.RecordEvent calls it.
func (s *CommandKeys) CatchUp(doorID string, held int64) {
	if s == nil || s.bus == nil || held >= s.ring.KeySet().Seq {
		return
	}
	s.send(doorID)
}

func (s *CommandKeys) send(doorID string) bool {
	u, err := s.ring.SignKeyUpdate(doorID)
	if err == nil {
		err = s.bus.SendKeyUpdate(doorID, u)
	}
	if err != nil {
		s.logger.Warn("app: sending a key update", "door", doorID, "err", err)
		return false
	}
	return true
}
