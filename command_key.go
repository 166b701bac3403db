package doorman

import "time"

// Command key statuses. A key's status is not stored: it follows from its
// times (CommandKey.Status), so that every control-plane node reads the
// same ring from the same rows at the same instant, and no job has to flip
// states when an overlap window ends.
const (
	// KeyNext: announced to devices, which accept it already; the ring
	// does not sign with it before its ActivatesAt.
	KeyNext = "next"
	// KeyActive: the key the ring signs with.
	KeyActive = "active"
	// KeyRetiring: superseded by a newer active key; devices still accept
	// it until its RetiresAt, so that tokens signed just before the switch
	// stay good for their short life.
	KeyRetiring = "retiring"
	// KeyRetired: past its RetiresAt; devices refuse it (key_retired).
	KeyRetired = "retired"
	// KeyRevoked: refused at once (key_revoked), for a key that may be
	// compromised.
	KeyRevoked = "revoked"
)

// CommandKey is one command signing key of the deployment, by PASERK key
// ID. Its private half lives in a file of each control-plane node's data
// dir, never in the database.
type CommandKey struct {
	KeyID string
	// PublicKey is the key's PASERK k4.public; empty for a key registered
	// before rotation existed until a node holding its file records it.
	PublicKey    string
	RegisteredAt time.Time
	// ActivatesAt is when the ring starts signing with the key.
	ActivatesAt time.Time
	// RetiresAt is when devices stop accepting the key: set when a newer
	// key is to take over (its ActivatesAt plus a grace period).
	RetiresAt time.Time
	// RevokedAt is when the key was revoked; zero if it was not.
	RevokedAt time.Time
}

// CommandKeySet is the deployment's command keys, oldest first, and the
// set's sequence number, which every change moves on by one.
type CommandKeySet struct {
	Seq  int64
	Keys []*CommandKey
}

// Status returns the key's status in set at now (see the Key* constants).
func (s *CommandKeySet) Status(k *CommandKey, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return KeyRevoked
	case !k.RetiresAt.IsZero() && !now.Before(k.RetiresAt):
		return KeyRetired
	case now.Before(k.ActivatesAt):
		return KeyNext
	}
	if a := s.Active(now); a != nil && a.KeyID != k.KeyID {
		return KeyRetiring
	}
	return KeyActive
}

// Active returns the key the ring signs with at now: of the keys neither
// revoked nor retired whose ActivatesAt has come, the one that activated
// last. Nil when there is none.
func (s *CommandKeySet) Active(now time.Time) *CommandKey {
	var active *CommandKey
	for _, k := range s.Keys {
		if !k.RevokedAt.IsZero() || (!k.RetiresAt.IsZero() && !now.Before(k.RetiresAt)) || now.Before(k.ActivatesAt) {
			continue
		}
		if active == nil || !k.ActivatesAt.Before(active.ActivatesAt) {
			active = k
		}
	}
	return active
}

// Key returns the key with ID kid, or nil.
func (s *CommandKeySet) Key(kid string) *CommandKey {
	for _, k := range s.Keys {
		if k.KeyID == kid {
			return k
		}
	}
	return nil
}
