package wire_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"aidanwoods.dev/go-paseto"

	"github.com/doorman-dev/doorman/wire"
)

func TestVerify_Accepts(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	v := MustVerifier(t, door, nil, MustSigner(t), s)
	token, sent, err := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_abc", Pulse: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify([]byte(token))
	if err != nil {
		t.Fatal(err)
	}
	if got.DoorID != door || got.GrantID != "gnt_abc" || got.JTI != sent.JTI || got.Pulse != 1500*time.Millisecond || got.KeyID != s.KeyID() {
		t.Fatalf("Verify = %+v, want %+v", got, sent)
	}
	if !got.ExpiresAt.Equal(sent.ExpiresAt) || got.ExpiresAt.Sub(got.NotBefore) != wire.DefaultCommandTTL {
		t.Fatalf("window %s..%s, want %s long", got.NotBefore, got.ExpiresAt, wire.DefaultCommandTTL)
	}
	if _, err := wire.NewVerifier(wire.VerifierConfig{DoorID: door, Keys: []wire.VerifyKey{s.VerifyKey()}}); err == nil {
		t.Fatal("NewVerifier without replay guard succeeded")
	}
}

// TestVerify_Rejects is the attacker's side: every way of getting a command
// wrong ends in its stable reason and no recorded token ID.
func TestVerify_Rejects(t *testing.T) {
	s := MustSigner(t)
	attacker := MustSigner(t)
	door := newDoorID()
	now := time.Now()
	sign := func(s *wire.Signer, u wire.Unlock) string {
		t.Helper()
		tok, _, err := s.SignUnlock(u)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := wire.Unlock{DoorID: door, GrantID: "gnt_1"}
	valid := sign(s, good)
	at := func(d time.Duration) *wire.Signer { return s.WithClock(func() time.Time { return now.Add(d) }) }
	timeToken, err := s.SignTime(door, strings.Repeat("n", 16))
	if err != nil {
		t.Fatal(err)
	}

	// A token carrying the pinned kid but signed by the attacker.
	forged := sign(attacker, good)
	forgedFooter := replaceFooter(t, forged, s.KeyID())

	// A valid token whose payload was altered after signing.
	tampered := flipPayloadByte(t, valid)

	for _, tt := range []struct {
		name, token, reason string
	}{
		{"empty", "", wire.RejectMalformed},
		{"garbage", "hello door", wire.RejectMalformed},
		{"oversized", valid + strings.Repeat("A", wire.MaxTokenSize), wire.RejectMalformed},
		{"truncated", valid[:len(valid)/2], wire.RejectMalformed},
		{"no footer", valid[:strings.LastIndex(valid, ".")], wire.RejectMalformed},
		{"local token", "v4.local.AAAA.AAAA", wire.RejectMalformed},
		{"footer not json", replaceRawFooter(valid, "kid"), wire.RejectMalformed},
		{"unknown key", forged, wire.RejectUnknownKey},
		{"forged with pinned kid", forgedFooter, wire.RejectBadSignature},
		{"tampered payload", tampered, wire.RejectBadSignature},
		{"time reply as command", timeToken, wire.RejectBadSignature},
		{"wrong door", sign(s, wire.Unlock{DoorID: newDoorID(), GrantID: "gnt_1"}), wire.RejectWrongDoor},
		{"expired", sign(at(-wire.DefaultCommandTTL-wire.DefaultSkew-2*time.Second), good), wire.RejectExpired},
		{"not yet valid", sign(at(wire.DefaultSkew+2*time.Second), good), wire.RejectNotYetValid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			replay := &countingReplay{MemoryReplay: wire.NewMemoryReplay(nil)}
			v, err := wire.NewVerifier(wire.VerifierConfig{DoorID: door, Keys: []wire.VerifyKey{s.VerifyKey()}, Replay: replay, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			cmd, err := v.Verify([]byte(tt.token))
			var rej *wire.Rejection
			if !errors.As(err, &rej) || rej.Reason != tt.reason {
				t.Fatalf("Verify = %+v, %v; want rejection %s", cmd, err, tt.reason)
			}
			if replay.calls != 0 {
				t.Fatalf("replay guard consulted %d times for a rejected token", replay.calls)
			}
		})
	}
}

func TestVerify_SkewAndReplay(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	now := time.Now()
	v := MustVerifier(t, door, func() time.Time { return now }, s)
	// Signed on a clock ahead of the device's by less than the skew: the
	// device's clock error, tolerated.
	ahead := s.WithClock(func() time.Time { return now.Add(wire.DefaultSkew - time.Second) })
	tok, _, err := ahead.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify([]byte(tok)); err != nil {
		t.Fatalf("command within skew rejected: %v", err)
	}
	_, err = v.Verify([]byte(tok))
	var rej *wire.Rejection
	if !errors.As(err, &rej) || rej.Reason != wire.RejectReplayed {
		t.Fatalf("second use: err = %v, want replayed", err)
	}
}

// TestVerify_ReplayAtTheEdge: at the last instant a command is accepted
// (its expiry: the skew never extends it), its token ID is still
// remembered.
func TestVerify_ReplayAtTheEdge(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	tok, cmd, _ := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_1"})
	now := cmd.ExpiresAt
	v := MustVerifier(t, door, func() time.Time { return now }, s)
	if _, err := v.Verify([]byte(tok)); err != nil {
		t.Fatalf("at the edge: %v", err)
	}
	var rej *wire.Rejection
	if _, err := v.Verify([]byte(tok)); !errors.As(err, &rej) || rej.Reason != wire.RejectReplayed {
		t.Fatalf("replay at the edge: %v", err)
	}
	now = now.Add(time.Nanosecond)
	if _, err := v.Verify([]byte(tok)); !errors.As(err, &rej) || rej.Reason != wire.RejectExpired {
		t.Fatalf("past the edge: %v", err)
	}
}

// TestVerify_NoLateAcceptance: a command is never accepted after its
// expiry, not by the skew and not because recording its ID took long.
func TestVerify_NoLateAcceptance(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	tok, cmd, err := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_1", TTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := cmd.ExpiresAt.Sub(cmd.NotBefore); got != 3*time.Second {
		t.Fatalf("lifetime %s, want exactly the 3s asked for", got)
	}
	var rej *wire.Rejection
	late := cmd.ExpiresAt.Add(time.Millisecond)
	v := MustVerifier(t, door, func() time.Time { return late }, s)
	if _, err := v.Verify([]byte(tok)); !errors.As(err, &rej) || rej.Reason != wire.RejectExpired {
		t.Fatalf("a millisecond late: %v, want expired", err)
	}

	// A slow disk: the clock passes the expiry while the ID is recorded.
	now := cmd.ExpiresAt.Add(-time.Millisecond)
	slow := &slowReplay{MemoryReplay: wire.NewMemoryReplay(nil), during: func() { now = cmd.ExpiresAt.Add(time.Second) }}
	v, err = wire.NewVerifier(wire.VerifierConfig{DoorID: door, Keys: []wire.VerifyKey{s.VerifyKey()}, Replay: slow, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify([]byte(tok)); !errors.As(err, &rej) || rej.Reason != wire.RejectExpired {
		t.Fatalf("expired while recording: %v, want expired", err)
	}
	if slow.calls != 1 {
		t.Fatalf("replay guard called %d times, want 1", slow.calls)
	}
}

type slowReplay struct {
	*wire.MemoryReplay
	during func()
	calls  int
}

func (s *slowReplay) Use(jti string, until time.Time) (bool, error) {
	s.calls++
	s.during()
	return s.MemoryReplay.Use(jti, until)
}

func TestVerifyTime(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	at := time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.UTC)
	v := MustVerifier(t, door, nil, s)
	nonce := "0123456789abcdef"
	tok, err := s.WithClock(func() time.Time { return at }).SignTime(door, nonce)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.VerifyTime([]byte(tok), nonce)
	if err != nil || !got.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("VerifyTime = %s, %v; want %s", got, err, at)
	}
	unlock, _, _ := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_1"})
	other, _ := s.SignTime(newDoorID(), nonce)
	for name, tt := range map[string]struct{ token, nonce, reason string }{
		"other nonce":    {tok, "fedcba9876543210", wire.RejectReplayed},
		"other door":     {other, nonce, wire.RejectWrongDoor},
		"unlock as time": {unlock, nonce, wire.RejectBadSignature},
		"garbage":        {"v4.public.xx.yy", nonce, wire.RejectMalformed},
	} {
		_, err := v.VerifyTime([]byte(tt.token), tt.nonce)
		var rej *wire.Rejection
		if !errors.As(err, &rej) || rej.Reason != tt.reason {
			t.Errorf("%s: err = %v, want %s", name, err, tt.reason)
		}
	}
}

func TestPeekCommand(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	tok, cmd, _ := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_9"})
	d, g, j, err := wire.PeekCommand(tok)
	if err != nil || d != door || g != "gnt_9" || j != cmd.JTI {
		t.Fatalf("PeekCommand = %s %s %s %v", d, g, j, err)
	}
	if _, _, _, err := wire.PeekCommand("v4.public.!!"); err == nil {
		t.Fatal("PeekCommand accepted garbage")
	}
}

type countingReplay struct {
	*wire.MemoryReplay
	calls int
}

func (c *countingReplay) Use(jti string, until time.Time) (bool, error) {
	c.calls++
	return c.MemoryReplay.Use(jti, until)
}

func replaceFooter(t *testing.T, token, kid string) string {
	t.Helper()
	i := strings.LastIndex(token, ".")
	return token[:i+1] + base64.RawURLEncoding.EncodeToString([]byte(`{"kid":"`+kid+`"}`))
}

func replaceRawFooter(token, footer string) string {
	i := strings.LastIndex(token, ".")
	return token[:i+1] + base64.RawURLEncoding.EncodeToString([]byte(footer))
}

func flipPayloadByte(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	b[5] ^= 1
	parts[2] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestVerify_RejectsBadClaims(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := wire.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	door := newDoorID()
	now := time.Now().UTC().Truncate(time.Second)
	base := func() map[string]any {
		return map[string]any{
			"iss": "doorman", "aud": door, "jti": "cmd_1", "gid": "gnt_1", "pulse_ms": 1000,
			"iat": now.Format(time.RFC3339), "nbf": now.Format(time.RFC3339), "exp": now.Add(10 * time.Second).Format(time.RFC3339),
		}
	}
	for name, edit := range map[string]func(m map[string]any){
		"no issuer":         func(m map[string]any) { delete(m, "iss") },
		"foreign issuer":    func(m map[string]any) { m["iss"] = "someone" },
		"no jti":            func(m map[string]any) { delete(m, "jti") },
		"no grant":          func(m map[string]any) { delete(m, "gid") },
		"pulse too long":    func(m map[string]any) { m["pulse_ms"] = 60000 },
		"pulse as string":   func(m map[string]any) { m["pulse_ms"] = "1000" },
		"lifetime too long": func(m map[string]any) { m["exp"] = now.Add(time.Hour).Format(time.RFC3339) },
		"empty window":      func(m map[string]any) { m["exp"] = m["nbf"] },
		"bad time":          func(m map[string]any) { m["exp"] = "tomorrow" },
		"unknown claim":     func(m map[string]any) { m["admin"] = true },
	} {
		t.Run(name, func(t *testing.T) {
			claims := base()
			edit(claims)
			tok, err := paseto.MakeToken(claims, []byte(`{"kid":"`+s.KeyID()+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			k, _ := paseto.NewV4AsymmetricSecretKeyFromEd25519(priv)
			// The implicit assertion is part of the protocol: a conforming
			// signer with a bad claim set.
			signed := tok.V4Sign(k, []byte("doorman:unlock:v1"))
			v := MustVerifier(t, door, nil, s)
			_, err = v.Verify([]byte(signed))
			var rej *wire.Rejection
			if !errors.As(err, &rej) || rej.Reason != wire.RejectMalformed {
				t.Fatalf("err = %v, want malformed", err)
			}
		})
	}
	// The same construction with unedited claims passes, so the cases above
	// fail for their edit alone.
	tok, _ := paseto.MakeToken(base(), []byte(`{"kid":"`+s.KeyID()+`"}`))
	k, _ := paseto.NewV4AsymmetricSecretKeyFromEd25519(priv)
	if _, err := MustVerifier(t, door, nil, s).Verify([]byte(tok.V4Sign(k, []byte("doorman:unlock:v1")))); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
}
