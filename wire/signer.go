package wire

import (
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"time"

	"aidanwoods.dev/go-paseto"

	"github.com/doorman-dev/doorman"
)

// Implicit assertions bind each token to its purpose: they are signed but
// not sent, so a token signed for one purpose fails verification as another.
var (
	implicitUnlock = []byte("doorman:unlock:v1")
	implicitTime   = []byte("doorman:time:v1")
)

// Issuer is the "iss" claim of every token the control plane signs.
const Issuer = "doorman"

// Signer signs unlock commands and time replies with the control plane's
// Ed25519 key. It is safe for concurrent use.
type Signer struct {
	key    paseto.V4AsymmetricSecretKey
	priv   ed25519.PrivateKey
	pub    ed25519.PublicKey
	kid    string
	footer []byte
	now    func() time.Time
}

// NewSigner returns a Signer for priv; its key ID is the PASERK ID of the
// public key. Returns EINVALID for a malformed key.
func NewSigner(priv ed25519.PrivateKey) (*Signer, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, doorman.Errorf(doorman.EINVALID, "Command signing key must be an Ed25519 private key.")
	}
	key, err := paseto.NewV4AsymmetricSecretKeyFromEd25519(priv)
	if err != nil {
		return nil, doorman.Errorf(doorman.EINVALID, "Command signing key is malformed.")
	}
	pub := priv.Public().(ed25519.PublicKey)
	kid := KeyID(pub)
	footer, _ := json.Marshal(tokenFooter{KeyID: kid})
	return &Signer{key: key, priv: slices.Clone(priv), pub: pub, kid: kid, footer: footer, now: time.Now}, nil
}

// PrivateKey returns the signer's Ed25519 private key, for the key ring to
// store it in its file.
func (s *Signer) PrivateKey() ed25519.PrivateKey { return slices.Clone(s.priv) }

// KeyID returns the signer's key ID.
func (s *Signer) KeyID() string { return s.kid }

// VerifyKey returns the public half of the signer's key, to give devices.
func (s *Signer) VerifyKey() VerifyKey {
	return VerifyKey{KeyID: s.kid, PublicKey: FormatPublicKey(s.pub)}
}

// Unlock is what the control plane asks a door to do.
type Unlock struct {
	DoorID  string
	GrantID string
	// Pulse is how long the strike is released; 0 means
	// doorman.DefaultPulseMillis. It must be within the door pulse limits.
	Pulse time.Duration
	// TTL is how long the command stays valid; 0 means DefaultCommandTTL.
	TTL time.Duration
}

// Command is a verified (or freshly signed) unlock command.
type Command struct {
	DoorID    string
	GrantID   string
	JTI       string
	KeyID     string
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
	Pulse     time.Duration
}

// SignUnlock returns a signed single-use unlock command with a fresh token
// ID. Returns EINVALID for a bad door ID, grant ID, pulse or TTL.
func (s *Signer) SignUnlock(u Unlock) (token string, cmd *Command, err error) {
	if s == nil {
		return "", nil, errNoSigner
	}
	if u.Pulse == 0 {
		u.Pulse = doorman.DefaultPulseMillis * time.Millisecond
	}
	if u.TTL == 0 {
		u.TTL = DefaultCommandTTL
	}
	switch {
	case !ValidDoorID(u.DoorID):
		return "", nil, doorman.Errorf(doorman.EINVALID, "Unlock needs a valid door ID.")
	case u.GrantID == "" || len(u.GrantID) > 64:
		return "", nil, doorman.Errorf(doorman.EINVALID, "Unlock needs a grant ID of at most 64 characters.")
	case u.Pulse < doorman.MinPulseMillis*time.Millisecond || u.Pulse > doorman.MaxPulseMillis*time.Millisecond:
		return "", nil, doorman.Errorf(doorman.EINVALID, "Unlock pulse must be between %d and %d ms.", doorman.MinPulseMillis, doorman.MaxPulseMillis)
	case u.TTL < time.Second || u.TTL > MaxCommandTTL:
		return "", nil, doorman.Errorf(doorman.EINVALID, "Unlock TTL must be between 1s and %s.", MaxCommandTTL)
	}
	// Milliseconds, not seconds: truncating the signing time to the second
	// would cut up to a second off a lifetime of a few seconds.
	now := s.now().UTC().Truncate(time.Millisecond)
	cmd = &Command{
		DoorID:    u.DoorID,
		GrantID:   u.GrantID,
		JTI:       doorman.NewID("cmd"),
		KeyID:     s.kid,
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: now.Add(u.TTL.Truncate(time.Millisecond)),
		Pulse:     u.Pulse.Truncate(time.Millisecond),
	}
	t := paseto.NewToken()
	t.SetIssuer(Issuer)
	t.SetAudience(cmd.DoorID)
	t.SetJti(cmd.JTI)
	t.SetString("iat", cmd.IssuedAt.Format(timeFormat))
	t.SetString("nbf", cmd.NotBefore.Format(timeFormat))
	t.SetString("exp", cmd.ExpiresAt.Format(timeFormat))
	t.SetString(claimGrant, cmd.GrantID)
	if err := t.Set(claimPulse, cmd.Pulse.Milliseconds()); err != nil {
		return "", nil, doorman.Errorf(doorman.EINTERNAL, "Could not sign the unlock command.")
	}
	t.SetFooter(s.footer)
	return t.V4Sign(s.key, implicitUnlock), cmd, nil
}

// SignTime returns a signed statement of the control plane's current time
// for one door's time request, echoing its nonce so it cannot be replayed
// to another request.
func (s *Signer) SignTime(doorID, nonce string) (string, error) {
	return s.SignTimeReply(doorID, nonce, 0)
}

// SignTimeReply is SignTime that also tells the door how long after this
// sync it may accept offline grants (its building's offline delivery
// setting; 0: it may not). The window rides on the signed time because
// the door needs both together: it judges offline grants by the clock this
// reply sets, and only while the window since this reply has not passed.
func (s *Signer) SignTimeReply(doorID, nonce string, offline time.Duration) (string, error) {
	if s == nil {
		return "", errNoSigner
	}
	if !ValidDoorID(doorID) || !validNonce(nonce) {
		return "", doorman.Errorf(doorman.EINVALID, "Time request needs a valid door ID and nonce.")
	} else if offline < 0 || offline > MaxOfflineWindow {
		return "", doorman.Errorf(doorman.EINVALID, "The offline window must be between 0 and %s.", MaxOfflineWindow)
	}
	now := s.now().UTC()
	t := paseto.NewToken()
	t.SetIssuer(Issuer)
	t.SetAudience(doorID)
	t.SetIssuedAt(now)
	t.SetString(claimNonce, nonce)
	if err := t.Set(claimNowMillis, now.UnixMilli()); err != nil {
		return "", doorman.Errorf(doorman.EINTERNAL, "Could not sign the time reply.")
	}
	if offline > 0 {
		if err := t.Set(claimOfflineMillis, offline.Milliseconds()); err != nil {
			return "", doorman.Errorf(doorman.EINTERNAL, "Could not sign the time reply.")
		}
	}
	t.SetFooter(s.footer)
	return t.V4Sign(s.key, implicitTime), nil
}

// errNoSigner is what a nil Signer returns: a control-plane node whose key
// ring holds no key the doors accept (see keyring.Ring.Signer) refuses to
// sign rather than crash.
var errNoSigner = doorman.Errorf(doorman.EINTERNAL, "No command signing key.")

// timeFormat writes the command's iat, nbf and exp claims: RFC 3339 with
// milliseconds (the paseto library writes whole seconds). Verifiers parse
// them with time.RFC3339, which reads the fraction.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Claim names beyond the registered PASETO claims.
const (
	claimGrant     = "gid"      // grant ID
	claimPulse     = "pulse_ms" // relay pulse, milliseconds
	claimNonce     = "nonce"    // time request nonce
	claimNowMillis = "now_ms"   // control plane time, Unix milliseconds
	// claimOfflineMillis: how long after this time reply the door may
	// accept offline grants, milliseconds (absent: not at all).
	claimOfflineMillis = "offline_ms"
)

// tokenFooter is the JSON footer of every token: the signing key's ID.
type tokenFooter struct {
	KeyID string `json:"kid"`
}

// WithClock returns a copy of the signer that reads the time from now. The
// control plane uses the wall clock; tests use it to sign in the past or
// the future.
func (s *Signer) WithClock(now func() time.Time) *Signer {
	c := *s
	c.now = now
	return &c
}
