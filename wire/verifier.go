package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"aidanwoods.dev/go-paseto"

	"github.com/doorman-dev/doorman"
)

// ReplayGuard remembers the IDs of commands a device has executed.
type ReplayGuard interface {
	// Use records jti as used until the given time and reports whether it
	// was unused. It must make the record durable before returning true:
	// the door moves right after. The time is on the verifier's clock; the
	// guard may forget the entry once that clock has reached it.
	Use(jti string, until time.Time) (fresh bool, err error)
}

// Verifier is the device's judge of unlock commands: it accepts a command
// only if it is signed by a pinned key, addressed to this door, within its
// time window (its not-before may be up to Skew ahead of the clock; its
// expiry is never extended) and never seen before. It is safe for
// concurrent use.
type Verifier struct {
	doorID string
	replay ReplayGuard
	now    func() time.Time
	skew   time.Duration

	mu sync.Mutex // serialises the replay check, so two copies cannot both pass

	keysMu sync.RWMutex
	keys   map[string]pinned // the pinned keys by ID; replaced whole by SetKeys
	set    *KeySet           // the key set last taken (nil: the enrollment keys)
}

// pinned is one pinned key: its parsed form and, once a key update set
// it, its status.
type pinned struct {
	pk  paseto.V4AsymmetricPublicKey
	key SetKey
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	DoorID string
	// Keys are the pinned command keys, by key ID.
	Keys []VerifyKey
	// Replay remembers used token IDs; required.
	Replay ReplayGuard
	// Now is the device's corrected clock; nil means time.Now.
	Now func() time.Time
	// Skew is how far a command's not-before and issued-at may lie ahead
	// of Now (clock error); 0 means DefaultSkew. It never extends a
	// command's expiry.
	Skew time.Duration
}

// NewVerifier returns a Verifier. Returns EINVALID for a bad door ID, no or
// malformed keys, or a missing replay guard.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if !ValidDoorID(cfg.DoorID) {
		return nil, doorman.Errorf(doorman.EINVALID, "Verifier needs a valid door ID.")
	} else if len(cfg.Keys) == 0 {
		return nil, doorman.Errorf(doorman.EINVALID, "Verifier needs at least one command key.")
	} else if cfg.Replay == nil {
		return nil, doorman.Errorf(doorman.EINVALID, "Verifier needs a replay guard.")
	} else if cfg.Skew < 0 || cfg.Skew > time.Minute {
		return nil, doorman.Errorf(doorman.EINVALID, "Verifier skew must be between 0 and 1m.")
	}
	v := &Verifier{
		doorID: cfg.DoorID,
		keys:   make(map[string]pinned, len(cfg.Keys)),
		replay: cfg.Replay,
		now:    cfg.Now,
		skew:   cfg.Skew,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.skew == 0 {
		v.skew = DefaultSkew
	}
	for _, k := range cfg.Keys {
		p, err := pin(SetKey{VerifyKey: k})
		if err != nil {
			return nil, err
		}
		v.keys[k.KeyID] = p
	}
	return v, nil
}

// Verify checks an unlock command and, if every check passes, records its
// token ID as used (durably) and returns it. Otherwise it returns a
// *Rejection and records nothing. The checks run cheapest-first but the
// replay record is only written for an authentic, timely command, so
// garbage cannot fill the replay store.
func (v *Verifier) Verify(token []byte) (*Command, error) {
	footer, pk, rej := v.open(token, MaxTokenSize, v.now(), false)
	if rej != nil {
		return nil, rej
	}
	t, err := paseto.NewParserWithoutExpiryCheck().ParseV4Public(pk, string(token), implicitUnlock)
	if err != nil {
		return nil, reject(RejectBadSignature, "signature does not verify with key %s", footer.KeyID)
	}
	var c commandClaims
	if err := decodeStrict(t.ClaimsJSON(), &c); err != nil {
		return nil, reject(RejectMalformed, "claims: %v", err)
	}
	cmd, rej := c.command(footer.KeyID)
	if rej != nil {
		return nil, rej
	}
	if cmd.DoorID != v.doorID {
		return nil, reject(RejectWrongDoor, "command is for %s", cmd.DoorID)
	}
	now := v.now()
	if now.After(cmd.ExpiresAt) {
		return nil, expired(cmd, now)
	} else if now.Before(cmd.NotBefore.Add(-v.skew)) || now.Before(cmd.IssuedAt.Add(-v.skew)) {
		return nil, reject(RejectNotYetValid, "valid from %s, now %s", cmd.NotBefore.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	// Remember the ID a second past the last instant Verify accepts it.
	fresh, err := v.replay.Use(cmd.JTI, cmd.ExpiresAt.Add(time.Second))
	if err != nil {
		return nil, reject(RejectInternal, "replay store: %v", err)
	} else if !fresh {
		return nil, reject(RejectReplayed, "token %s was used before", cmd.JTI)
	}
	// Recording the ID waits for the disk (and for other commands); a
	// command that expired meanwhile must not move the door. Its ID stays
	// spent.
	if now := v.now(); now.After(cmd.ExpiresAt) {
		return nil, expired(cmd, now)
	}
	return cmd, nil
}

func expired(cmd *Command, now time.Time) *Rejection {
	return reject(RejectExpired, "expired at %s, now %s", cmd.ExpiresAt.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
}

// VerifyTime checks a signed time reply to the time request that carried
// nonce and returns the control plane's time. It returns a *Rejection for a
// token that is malformed, signed by an unknown key, badly signed, for
// another door or for another request.
func (v *Verifier) VerifyTime(token []byte, nonce string) (time.Time, error) {
	r, err := v.VerifyTimeReply(token, nonce)
	return r.Now, err
}

// TimeReply is a verified time reply.
type TimeReply struct {
	// Now is the control plane's time.
	Now time.Time
	// OfflineWindow is how long after Now the door may accept offline
	// grants; 0 when its building does not allow offline delivery.
	OfflineWindow time.Duration
	// KeyID is the key that signed the reply.
	KeyID string
}

// VerifyTimeReply is VerifyTime returning the whole reply.
func (v *Verifier) VerifyTimeReply(token []byte, nonce string) (TimeReply, error) {
	r, rej := v.verifyTime(token, nonce)
	if rej != nil {
		return TimeReply{}, rej
	}
	return r, nil
}

func (v *Verifier) verifyTime(token []byte, nonce string) (TimeReply, *Rejection) {
	footer, pk, rej := v.open(token, MaxTokenSize, v.now(), false)
	if rej != nil {
		return TimeReply{}, rej
	}
	t, err := paseto.NewParserWithoutExpiryCheck().ParseV4Public(pk, string(token), implicitTime)
	if err != nil {
		return TimeReply{}, reject(RejectBadSignature, "signature does not verify with key %s", footer.KeyID)
	}
	var c timeClaims
	if err := decodeStrict(t.ClaimsJSON(), &c); err != nil {
		return TimeReply{}, reject(RejectMalformed, "claims: %v", err)
	}
	if c.Audience != v.doorID {
		return TimeReply{}, reject(RejectWrongDoor, "time reply is for %s", c.Audience)
	} else if c.Nonce != nonce || !validNonce(nonce) {
		return TimeReply{}, reject(RejectReplayed, "time reply answers another request")
	} else if c.NowMillis <= 0 {
		return TimeReply{}, reject(RejectMalformed, "time reply carries no time")
	} else if c.OfflineMillis < 0 || time.Duration(c.OfflineMillis)*time.Millisecond > MaxOfflineWindow {
		return TimeReply{}, reject(RejectMalformed, "offline window %d ms out of range", c.OfflineMillis)
	}
	return TimeReply{
		Now:           time.UnixMilli(c.NowMillis).UTC(),
		OfflineWindow: time.Duration(c.OfflineMillis) * time.Millisecond,
		KeyID:         footer.KeyID,
	}, nil
}

// open checks size (at most limit bytes) and shape, reads the footer and
// finds the pinned key, refusing one the key set says is revoked, or
// retired at now unless retired keys are allowed (key updates: see
// VerifyKeyUpdate).
func (v *Verifier) open(token []byte, limit int, now time.Time, retiredOK bool) (tokenFooter, paseto.V4AsymmetricPublicKey, *Rejection) {
	var f tokenFooter
	var none paseto.V4AsymmetricPublicKey
	if len(token) == 0 || len(token) > limit {
		return f, none, reject(RejectMalformed, "token of %d bytes (limit %d)", len(token), limit)
	} else if !bytes.HasPrefix(token, []byte(paseto.V4Public.Header())) || bytes.Count(token, []byte(".")) != 3 {
		return f, none, reject(RejectMalformed, "not a v4.public token with a footer")
	}
	raw, err := paseto.NewParserWithoutExpiryCheck().UnsafeParseFooter(paseto.V4Public, string(token))
	if err != nil {
		return f, none, reject(RejectMalformed, "token: %v", err)
	} else if err := decodeStrict(raw, &f); err != nil || !strings.HasPrefix(f.KeyID, paserkPID) {
		return f, none, reject(RejectMalformed, "footer does not name a k4.pid key ID")
	}
	v.keysMu.RLock()
	p, ok := v.keys[f.KeyID]
	v.keysMu.RUnlock()
	if !ok {
		return f, none, reject(RejectUnknownKey, "key %s is not pinned", f.KeyID)
	}
	if why := p.key.refused(now); why == RejectKeyRevoked || (why != "" && !retiredOK) {
		return f, none, reject(why, "key %s is %s", f.KeyID, p.key.Status)
	}
	return f, p.pk, nil
}

// commandClaims are the claims of an unlock command as sent.
type commandClaims struct {
	Issuer    string `json:"iss"`
	Audience  string `json:"aud"`
	JTI       string `json:"jti"`
	IssuedAt  string `json:"iat"`
	NotBefore string `json:"nbf"`
	Expires   string `json:"exp"`
	GrantID   string `json:"gid"`
	PulseMS   int64  `json:"pulse_ms"`
}

// command checks the claims and turns them into a Command.
func (c *commandClaims) command(kid string) (*Command, *Rejection) {
	iat, err1 := time.Parse(time.RFC3339, c.IssuedAt)
	nbf, err2 := time.Parse(time.RFC3339, c.NotBefore)
	exp, err3 := time.Parse(time.RFC3339, c.Expires)
	pulse := time.Duration(c.PulseMS) * time.Millisecond
	switch {
	case c.Issuer != Issuer:
		return nil, reject(RejectMalformed, "issuer %q", c.Issuer)
	case c.JTI == "" || len(c.JTI) > 64:
		return nil, reject(RejectMalformed, "token ID missing or too long")
	case c.GrantID == "" || len(c.GrantID) > 64:
		return nil, reject(RejectMalformed, "grant ID missing or too long")
	case err1 != nil || err2 != nil || err3 != nil:
		return nil, reject(RejectMalformed, "iat, nbf and exp must be RFC 3339 times")
	case !exp.After(nbf) || exp.Sub(nbf) > MaxCommandTTL || exp.Sub(iat) > MaxCommandTTL:
		return nil, reject(RejectMalformed, "validity %s is empty or longer than %s", exp.Sub(nbf), MaxCommandTTL)
	case c.PulseMS < doorman.MinPulseMillis || c.PulseMS > doorman.MaxPulseMillis:
		return nil, reject(RejectMalformed, "pulse %d ms out of range", c.PulseMS)
	}
	return &Command{
		DoorID: c.Audience, GrantID: c.GrantID, JTI: c.JTI, KeyID: kid,
		IssuedAt: iat.UTC(), NotBefore: nbf.UTC(), ExpiresAt: exp.UTC(), Pulse: pulse,
	}, nil
}

// timeClaims are the claims of a time reply.
type timeClaims struct {
	Issuer    string `json:"iss"`
	Audience  string `json:"aud"`
	IssuedAt  string `json:"iat"`
	Nonce     string `json:"nonce"`
	NowMillis int64  `json:"now_ms"`
	// OfflineMillis is absent unless the building allows offline delivery.
	OfflineMillis int64 `json:"offline_ms,omitempty"`
}

// validNonce reports whether s is an acceptable time request nonce.
func validNonce(s string) bool { return len(s) >= 16 && len(s) <= 64 }

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}

var errTrailing = doorman.Errorf(doorman.EINVALID, "Trailing data after the JSON object.")

// PeekCommand reads the door, grant and token IDs of a command without
// verifying it. The control plane uses it to match acknowledgements to the
// commands it sent itself; a device must never act on it.
func PeekCommand(token string) (doorID, grantID, jti string, err error) {
	if len(token) > MaxTokenSize || !strings.HasPrefix(token, paseto.V4Public.Header()) {
		return "", "", "", doorman.Errorf(doorman.EINVALID, "Not an unlock command.")
	}
	body, _, _ := strings.Cut(strings.TrimPrefix(token, paseto.V4Public.Header()), ".")
	raw, err := base64RawURL(body)
	if err != nil || len(raw) < ed25519.SignatureSize {
		return "", "", "", doorman.Errorf(doorman.EINVALID, "Not an unlock command.")
	}
	var c commandClaims
	if err := json.Unmarshal(raw[:len(raw)-ed25519.SignatureSize], &c); err != nil || c.JTI == "" {
		return "", "", "", doorman.Errorf(doorman.EINVALID, "Not an unlock command.")
	}
	return c.Audience, c.GrantID, c.JTI, nil
}
