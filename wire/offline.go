package wire

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"aidanwoods.dev/go-paseto"

	"github.com/doorman-dev/doorman"
)

// Offline grants. When a door does not answer and its building allows
// offline delivery, the control plane gives the courier an offline grant:
// a token signed with the command key, bound to the door, the courier and
// the parcels of one grant, valid at most MaxOfflineGrantTTL and usable
// once. The courier shows it as a QR code to the door's reader; the agent
// verifies it on its own (pinned keys, its trusted clock, its replay log)
// and opens. It is a different purpose from an unlock command (its own
// implicit assertion), so neither can be passed off as the other.
var implicitOffline = []byte("doorman:offline-grant:v1")

// MaxOfflineGrantTTL is the longest validity of an offline grant; a token
// claiming more is refused as malformed.
const MaxOfflineGrantTTL = 60 * time.Second

// DefaultOfflineSkew is how far either end of an offline grant's window
// is stretched for the device's clock error. Unlike an unlock command, an
// offline grant is judged by a clock that may not have synced for days
// (its drift grows with time since the last sync), and a courier who was
// refused at the door will simply ask again; see the agent's docs.
const DefaultOfflineSkew = 30 * time.Second

// MaxOfflineSkew bounds the skew an agent may be configured with.
const MaxOfflineSkew = 2 * time.Minute

// PrefixOfflineGrant prefixes the token IDs of offline grants.
const PrefixOfflineGrant = "ogt"

// OfflineGrantRequest is what the control plane signs into an offline grant.
type OfflineGrantRequest struct {
	DoorID    string
	GrantID   string
	CourierID string
	// ParcelIDs are the grant's parcels (and returns); the token carries
	// their digest (ParcelsDigest).
	ParcelIDs []string
	// ExpiresAt is when the grant ends; at most MaxOfflineGrantTTL after
	// signing. The zero time means MaxOfflineGrantTTL after signing.
	ExpiresAt time.Time
	// Pulse is how long the strike is released; 0 means
	// doorman.DefaultPulseMillis.
	Pulse time.Duration
}

// OfflineGrant is a verified (or freshly signed) offline grant.
type OfflineGrant struct {
	DoorID        string
	GrantID       string
	CourierID     string
	ParcelsDigest string
	JTI           string
	KeyID         string
	IssuedAt      time.Time
	NotBefore     time.Time
	ExpiresAt     time.Time
	Pulse         time.Duration
}

// ParcelsDigest returns the digest an offline grant carries for its
// parcels: unpadded base64url of SHA-256 over the sorted, de-duplicated
// IDs joined by newlines. The control plane recomputes it from the grant
// when the device reports the grant used.
func ParcelsDigest(ids []string) string {
	s := slices.Clone(ids)
	slices.Sort(s)
	s = slices.Compact(s)
	sum := sha256.Sum256([]byte(strings.Join(s, "\n")))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// SignOfflineGrant returns a signed offline grant with a fresh token ID.
// Returns EINVALID for a bad door, grant or courier ID, no parcels, a bad
// pulse, or an expiry not within MaxOfflineGrantTTL of now.
func (s *Signer) SignOfflineGrant(r OfflineGrantRequest) (token string, g *OfflineGrant, err error) {
	if s == nil {
		return "", nil, errNoSigner
	}
	if r.Pulse == 0 {
		r.Pulse = doorman.DefaultPulseMillis * time.Millisecond
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = now.Add(MaxOfflineGrantTTL)
	}
	exp := r.ExpiresAt.UTC().Truncate(time.Millisecond)
	switch {
	case !ValidDoorID(r.DoorID):
		return "", nil, doorman.Errorf(doorman.EINVALID, "An offline grant needs a valid door ID.")
	case r.GrantID == "" || len(r.GrantID) > 64:
		return "", nil, doorman.Errorf(doorman.EINVALID, "An offline grant needs a grant ID of at most 64 characters.")
	case r.CourierID == "" || len(r.CourierID) > 64:
		return "", nil, doorman.Errorf(doorman.EINVALID, "An offline grant needs a courier ID of at most 64 characters.")
	case len(r.ParcelIDs) == 0:
		return "", nil, doorman.Errorf(doorman.EINVALID, "An offline grant needs its parcels.")
	case r.Pulse < doorman.MinPulseMillis*time.Millisecond || r.Pulse > doorman.MaxPulseMillis*time.Millisecond:
		return "", nil, doorman.Errorf(doorman.EINVALID, "Unlock pulse must be between %d and %d ms.", doorman.MinPulseMillis, doorman.MaxPulseMillis)
	case !exp.After(now) || exp.Sub(now) > MaxOfflineGrantTTL:
		return "", nil, doorman.Errorf(doorman.EINVALID, "An offline grant must expire within %s of signing.", MaxOfflineGrantTTL)
	}
	g = &OfflineGrant{
		DoorID: r.DoorID, GrantID: r.GrantID, CourierID: r.CourierID, ParcelsDigest: ParcelsDigest(r.ParcelIDs),
		JTI: doorman.NewID(PrefixOfflineGrant), KeyID: s.kid,
		IssuedAt: now, NotBefore: now, ExpiresAt: exp, Pulse: r.Pulse.Truncate(time.Millisecond),
	}
	t := paseto.NewToken()
	t.SetIssuer(Issuer)
	t.SetAudience(g.DoorID)
	t.SetSubject(g.CourierID)
	t.SetJti(g.JTI)
	t.SetString("iat", g.IssuedAt.Format(timeFormat))
	t.SetString("nbf", g.NotBefore.Format(timeFormat))
	t.SetString("exp", g.ExpiresAt.Format(timeFormat))
	t.SetString(claimGrant, g.GrantID)
	t.SetString(claimParcels, g.ParcelsDigest)
	if err := t.Set(claimPulse, g.Pulse.Milliseconds()); err != nil {
		return "", nil, doorman.Errorf(doorman.EINTERNAL, "Could not sign the offline grant.")
	}
	t.SetFooter(s.footer)
	return t.V4Sign(s.key, implicitOffline), g, nil
}

// claimParcels is the offline grant's parcels digest.
const claimParcels = "pcl"

// offlineClaims are the claims of an offline grant as sent.
type offlineClaims struct {
	Issuer    string `json:"iss"`
	Audience  string `json:"aud"`
	Subject   string `json:"sub"`
	JTI       string `json:"jti"`
	IssuedAt  string `json:"iat"`
	NotBefore string `json:"nbf"`
	Expires   string `json:"exp"`
	GrantID   string `json:"gid"`
	Parcels   string `json:"pcl"`
	PulseMS   int64  `json:"pulse_ms"`
}

// OfflineCheck is how a device judges an offline grant's time: Now is its
// trusted clock (see the agent), Skew how far either end of the grant's
// window stretches for that clock's error (0 means DefaultOfflineSkew).
type OfflineCheck struct {
	Now  time.Time
	Skew time.Duration
}

// VerifyOfflineGrant checks an offline grant as read by the door's reader
// and, if every check passes, records its token ID as used (durably) and
// returns it. Otherwise it returns a *Rejection and records nothing. Like
// Verify, the replay record is written only for an authentic, timely
// grant for this door.
func (v *Verifier) VerifyOfflineGrant(token []byte, check OfflineCheck) (*OfflineGrant, error) {
	skew := check.Skew
	if skew == 0 {
		skew = DefaultOfflineSkew
	}
	if skew < 0 || skew > MaxOfflineSkew || check.Now.IsZero() {
		return nil, reject(RejectClockUnsynced, "no trusted time to judge an offline grant by")
	}
	footer, pk, rej := v.open(token, MaxTokenSize, check.Now, false)
	if rej != nil {
		return nil, rej
	}
	t, err := paseto.NewParserWithoutExpiryCheck().ParseV4Public(pk, string(token), implicitOffline)
	if err != nil {
		return nil, reject(RejectBadSignature, "signature does not verify with key %s as an offline grant", footer.KeyID)
	}
	var c offlineClaims
	if err := decodeStrict(t.ClaimsJSON(), &c); err != nil {
		return nil, reject(RejectMalformed, "claims: %v", err)
	}
	g, rej := c.grant(footer.KeyID)
	if rej != nil {
		return nil, rej
	}
	if g.DoorID != v.doorID {
		return nil, reject(RejectWrongDoor, "offline grant is for %s", g.DoorID)
	}
	now := check.Now
	if now.After(g.ExpiresAt.Add(skew)) {
		return nil, reject(RejectExpired, "expired at %s, now %s", g.ExpiresAt.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	} else if now.Before(g.NotBefore.Add(-skew)) {
		return nil, reject(RejectNotYetValid, "valid from %s, now %s", g.NotBefore.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	// The replay log forgets by the synced clock, which may be behind the
	// trusted clock here by up to the skew: remember the ID past the last
	// instant any clock this device judges by could accept it.
	fresh, err := v.replay.Use(g.JTI, g.ExpiresAt.Add(2*skew+time.Second))
	if err != nil {
		return nil, reject(RejectInternal, "replay store: %v", err)
	} else if !fresh {
		return nil, reject(RejectReplayed, "offline grant %s was used before", g.JTI)
	}
	return g, nil
}

// grant checks the claims and turns them into an OfflineGrant.
func (c *offlineClaims) grant(kid string) (*OfflineGrant, *Rejection) {
	iat, err1 := time.Parse(time.RFC3339, c.IssuedAt)
	nbf, err2 := time.Parse(time.RFC3339, c.NotBefore)
	exp, err3 := time.Parse(time.RFC3339, c.Expires)
	switch {
	case c.Issuer != Issuer:
		return nil, reject(RejectMalformed, "issuer %q", c.Issuer)
	case !doorman.HasPrefix(c.JTI, PrefixOfflineGrant) || len(c.JTI) > 64:
		return nil, reject(RejectMalformed, "token ID missing, too long or not an offline grant's")
	case c.GrantID == "" || len(c.GrantID) > 64 || c.Subject == "" || len(c.Subject) > 64:
		return nil, reject(RejectMalformed, "grant or courier ID missing or too long")
	case len(c.Parcels) != 43:
		return nil, reject(RejectMalformed, "parcels digest missing or malformed")
	case err1 != nil || err2 != nil || err3 != nil:
		return nil, reject(RejectMalformed, "iat, nbf and exp must be RFC 3339 times")
	case !exp.After(nbf) || exp.Sub(nbf) > MaxOfflineGrantTTL || exp.Sub(iat) > MaxOfflineGrantTTL:
		return nil, reject(RejectMalformed, "validity %s is empty or longer than %s", exp.Sub(nbf), MaxOfflineGrantTTL)
	case c.PulseMS < doorman.MinPulseMillis || c.PulseMS > doorman.MaxPulseMillis:
		return nil, reject(RejectMalformed, "pulse %d ms out of range", c.PulseMS)
	}
	return &OfflineGrant{
		DoorID: c.Audience, GrantID: c.GrantID, CourierID: c.Subject, ParcelsDigest: c.Parcels,
		JTI: c.JTI, KeyID: kid, IssuedAt: iat.UTC(), NotBefore: nbf.UTC(), ExpiresAt: exp.UTC(),
		Pulse: time.Duration(c.PulseMS) * time.Millisecond,
	}, nil
}
