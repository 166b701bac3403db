package wire

import (
	"fmt"
	"time"

	"aidanwoods.dev/go-paseto"

	"github.com/doorman-dev/doorman"
)

// Key updates. When the control plane's command keys change (a key is
// rotated in, activated, or revoked), every door's device is sent the whole
// key set, with each key's status and the set's sequence number, on the
// door's KeysSubject. The set is signed for the door (its audience) as a
// token of its own purpose (implicit assertion "doorman:keys:v1"), once by
// each key the control plane holds (revoked ones too), so that a device
// that missed rotations still finds a key it trusts among the signers. The
// device takes the set only if one of those signatures verifies with a
// key it pins that it does not hold as revoked, the set is for its door,
// and its sequence is above the one it holds; it keeps the set on disk and
// from then on refuses commands, offline grants and time replies signed
// with keys the set calls retired or revoked.
//
// A device reports the sequence it holds in each heartbeat
// (Event.KeySeq); the control plane sends the current set to a device
// that is behind, so a door that was offline across a rotation catches up
// at its first heartbeat after it returns.
var implicitKeys = []byte("doorman:keys:v1")

// Limits of key updates.
const (
	// MaxKeyUpdateSize bounds a key update message (all its tokens).
	MaxKeyUpdateSize = 32 << 10
	// MaxKeyUpdateTokens bounds the signatures (tokens) of one update.
	MaxKeyUpdateTokens = 8
	// MaxKeySetKeys bounds the keys of a set; the control plane sends the
	// newest ones.
	MaxKeySetKeys = 16
	// maxKeySetToken bounds one token of a key update.
	maxKeySetToken = 6 << 10
)

// KeysSubject is the subject a door's device receives key updates on. It
// lies under the door's inbox prefix, like AuditSubject: devices
// subscribe there already and may not publish there.
func KeysSubject(doorID string) string { return InboxPrefix(doorID) + ".keys" }

// SetKey is one key of a key set: the key, its status (doorman.KeyNext,
// KeyActive, KeyRetiring, KeyRetired or KeyRevoked) when the set was
// signed, and when it retires (zero: not yet scheduled).
type SetKey struct {
	VerifyKey
	Status    string    `json:"status,omitempty"`
	RetiresAt time.Time `json:"retires_at,omitzero"`
}

// refused returns why a device refuses a token signed with k at now
// (RejectKeyRevoked or RejectKeyRetired), or "" if it accepts it. A key
// pinned at enrollment has no status and is accepted. now is the device's
// trusted clock; the zero time (not synced) retires nothing by time.
func (k SetKey) refused(now time.Time) string {
	switch {
	case k.Status == doorman.KeyRevoked:
		return RejectKeyRevoked
	case k.Status == doorman.KeyRetired:
		return RejectKeyRetired
	case !k.RetiresAt.IsZero() && !now.IsZero() && !now.Before(k.RetiresAt):
		return RejectKeyRetired
	}
	return ""
}

// KeySet is the command keys a device pins, as a key update carries them.
type KeySet struct {
	// Seq is the set's sequence number; it grows with every change.
	Seq  int64    `json:"seq"`
	Keys []SetKey `json:"keys"`
}

// Validate returns EINVALID unless the set has a positive sequence, 1 to
// MaxKeySetKeys distinct well-formed keys with known statuses, and at
// least one key that is neither retired nor revoked (a set that refuses
// every key would leave the device unable to trust anything again).
func (s *KeySet) Validate() error {
	if s.Seq <= 0 {
		return doorman.Errorf(doorman.EINVALID, "A key set needs a positive sequence number.")
	} else if len(s.Keys) == 0 || len(s.Keys) > MaxKeySetKeys {
		return doorman.Errorf(doorman.EINVALID, "A key set holds 1 to %d keys.", MaxKeySetKeys)
	}
	seen := make(map[string]bool, len(s.Keys))
	usable := false
	for _, k := range s.Keys {
		if _, err := k.Parse(); err != nil {
			return err
		}
		if seen[k.KeyID] {
			return doorman.Errorf(doorman.EINVALID, "A key set names key %s twice.", k.KeyID)
		}
		seen[k.KeyID] = true
		switch k.Status {
		case doorman.KeyNext, doorman.KeyActive, doorman.KeyRetiring:
			usable = true
		case doorman.KeyRetired, doorman.KeyRevoked:
		default:
			return doorman.Errorf(doorman.EINVALID, "Unknown key status %q.", k.Status)
		}
	}
	if !usable {
		return doorman.Errorf(doorman.EINVALID, "A key set needs a key that is neither retired nor revoked.")
	}
	return nil
}

// KeyUpdate is the message that carries a key set to a door: the same set
// signed for the door by several keys, one token each.
type KeyUpdate struct {
	Tokens []string `json:"tokens"`
}

// Validate returns EINVALID for no tokens, too many or oversized ones.
func (u *KeyUpdate) Validate() error {
	if len(u.Tokens) == 0 || len(u.Tokens) > MaxKeyUpdateTokens {
		return doorman.Errorf(doorman.EINVALID, "A key update carries 1 to %d tokens.", MaxKeyUpdateTokens)
	}
	for _, t := range u.Tokens {
		if len(t) == 0 || len(t) > maxKeySetToken {
			return doorman.Errorf(doorman.EINVALID, "A key update token is 1 to %d bytes.", maxKeySetToken)
		}
	}
	return nil
}

// claimSeq and claimKeys are the claims of a key set token.
const (
	claimSeq  = "seq"
	claimKeys = "keys"
)

// keySetClaims are the claims of a key set token as sent.
type keySetClaims struct {
	Issuer   string   `json:"iss"`
	Audience string   `json:"aud"`
	IssuedAt string   `json:"iat"`
	Seq      int64    `json:"seq"`
	Keys     []SetKey `json:"keys"`
}

// SignKeyUpdate signs set for door doorID with every signer (at most
// MaxKeyUpdateTokens, the first ones). Returns EINVALID for a bad door ID,
// an invalid set or no signer.
func SignKeyUpdate(signers []*Signer, doorID string, set *KeySet) (*KeyUpdate, error) {
	if !ValidDoorID(doorID) {
		return nil, doorman.Errorf(doorman.EINVALID, "A key update needs a valid door ID.")
	} else if err := set.Validate(); err != nil {
		return nil, err
	} else if len(signers) == 0 {
		return nil, doorman.Errorf(doorman.EINVALID, "A key update needs a signer.")
	}
	u := &KeyUpdate{}
	for _, s := range signers[:min(len(signers), MaxKeyUpdateTokens)] {
		t := paseto.NewToken()
		t.SetIssuer(Issuer)
		t.SetAudience(doorID)
		t.SetIssuedAt(s.now().UTC())
		if err := t.Set(claimSeq, set.Seq); err != nil {
			return nil, doorman.Errorf(doorman.EINTERNAL, "Could not sign the key update.")
		}
		if err := t.Set(claimKeys, set.Keys); err != nil {
			return nil, doorman.Errorf(doorman.EINTERNAL, "Could not sign the key update.")
		}
		t.SetFooter(s.footer)
		u.Tokens = append(u.Tokens, t.V4Sign(s.key, implicitKeys))
	}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	return u, nil
}

// VerifyKeyUpdate checks a key update message for a device that holds the
// key set of sequence held, and returns the set it carries. The set is
// taken from the first token whose signature verifies with a pinned key
// not held as revoked (a retired key may still vouch for its successors,
// so that a door that missed rotations catches up); it must be for this
// door and newer than held. Otherwise it returns a *Rejection: malformed,
// unknown_key, key_revoked or bad_signature (no token verifies: the
// reason of the first), wrong_door, or replayed (not newer). It changes
// nothing: the caller keeps the set and then calls SetKeys.
func (v *Verifier) VerifyKeyUpdate(data []byte, held int64) (*KeySet, error) {
	set, rej := v.verifyKeyUpdate(data, held)
	if rej != nil {
		return nil, rej
	}
	return set, nil
}

func (v *Verifier) verifyKeyUpdate(data []byte, held int64) (*KeySet, *Rejection) {
	var u KeyUpdate
	if err := Decode(data, MaxKeyUpdateSize, &u); err != nil {
		return nil, reject(RejectMalformed, "key update: %s", doorman.ErrorMessage(err))
	}
	var first *Rejection
	for _, token := range u.Tokens {
		footer, pk, rej := v.open([]byte(token), maxKeySetToken, time.Time{}, true)
		if rej == nil {
			t, err := paseto.NewParserWithoutExpiryCheck().ParseV4Public(pk, token, implicitKeys)
			if err == nil {
				return v.keySet(t.ClaimsJSON(), held)
			}
			rej = reject(RejectBadSignature, "signature does not verify with key %s as a key update", footer.KeyID)
		}
		if first == nil {
			first = rej
		}
	}
	return nil, first
}

// keySet checks the claims of an authentic key set token.
func (v *Verifier) keySet(claims []byte, held int64) (*KeySet, *Rejection) {
	var c keySetClaims
	if err := decodeStrict(claims, &c); err != nil {
		return nil, reject(RejectMalformed, "key set claims: %v", err)
	}
	set := &KeySet{Seq: c.Seq, Keys: c.Keys}
	switch {
	case c.Issuer != Issuer:
		return nil, reject(RejectMalformed, "issuer %q", c.Issuer)
	case c.Audience != v.doorID:
		return nil, reject(RejectWrongDoor, "key update is for %s", c.Audience)
	case c.Seq <= held:
		return nil, reject(RejectReplayed, "key set %d is not newer than the set %d held", c.Seq, held)
	}
	if err := set.Validate(); err != nil {
		return nil, reject(RejectMalformed, "key set: %s", doorman.ErrorMessage(err))
	}
	return set, nil
}

// SetKeys makes set the pinned keys, replacing all others. Returns
// EINVALID for an invalid set.
func (v *Verifier) SetKeys(set *KeySet) error {
	if err := set.Validate(); err != nil {
		return err
	}
	keys := make(map[string]pinned, len(set.Keys))
	for _, k := range set.Keys {
		p, err := pin(k)
		if err != nil {
			return err
		}
		keys[k.KeyID] = p
	}
	v.keysMu.Lock()
	v.keys, v.set = keys, set
	v.keysMu.Unlock()
	return nil
}

// KeySeq returns the sequence of the key set last given to SetKeys (0:
// the verifier holds the keys pinned at enrollment).
func (v *Verifier) KeySeq() int64 {
	v.keysMu.RLock()
	defer v.keysMu.RUnlock()
	if v.set == nil {
		return 0
	}
	return v.set.Seq
}

// pin parses a key for the verifier.
func pin(k SetKey) (pinned, error) {
	pub, err := k.Parse()
	if err != nil {
		return pinned{}, err
	}
	pk, err := paseto.NewV4AsymmetricPublicKeyFromEd25519(pub)
	if err != nil {
		return pinned{}, doorman.Errorf(doorman.EINVALID, "Command key is malformed.")
	}
	return pinned{pk: pk, key: k}, nil
}

// String describes the set for logs.
func (s *KeySet) String() string {
	out := fmt.Sprintf("seq %d:", s.Seq)
	for _, k := range s.Keys {
		out += " " + k.KeyID + "=" + k.Status
	}
	return out
}
