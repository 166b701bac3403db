package wire_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/wire"
)

func reason(err error) string {
	var rej *wire.Rejection
	if errors.As(err, &rej) {
		return rej.Reason
	}
	return ""
}

func TestOfflineGrant_Accepted(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	v := MustVerifier(t, door, nil, s)
	tok, sent, err := s.SignOfflineGrant(wire.OfflineGrantRequest{DoorID: door, GrantID: "gnt_1", CourierID: "cou_1", ParcelIDs: []string{"par_b", "par_a", "par_a"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := sent.ExpiresAt.Sub(sent.IssuedAt); got != wire.MaxOfflineGrantTTL {
		t.Fatalf("default lifetime %s", got)
	}
	g, err := v.VerifyOfflineGrant([]byte(tok), wire.OfflineCheck{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if g.JTI != sent.JTI || g.GrantID != "gnt_1" || g.CourierID != "cou_1" || g.ParcelsDigest != wire.ParcelsDigest([]string{"par_a", "par_b"}) || g.DoorID != door {
		t.Fatalf("got %+v, sent %+v", g, sent)
	}
	if _, err := v.VerifyOfflineGrant([]byte(tok), wire.OfflineCheck{Now: time.Now()}); reason(err) != wire.RejectReplayed {
		t.Fatalf("second use: %v, want replayed", err)
	}
}

// TestOfflineGrant_Rejects is the attacker's side of the door's reader.
func TestOfflineGrant_Rejects(t *testing.T) {
	s := MustSigner(t)
	attacker := MustSigner(t)
	door := newDoorID()
	now := time.Now()
	req := wire.OfflineGrantRequest{DoorID: door, GrantID: "gnt_1", CourierID: "cou_1", ParcelIDs: []string{"par_a"}}
	sign := func(s *wire.Signer, r wire.OfflineGrantRequest) string {
		t.Helper()
		tok, _, err := s.SignOfflineGrant(r)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	other := req
	other.DoorID = newDoorID()
	unlock, _, _ := s.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_1"})
	short := req
	short.ExpiresAt = now.Add(5 * time.Second)
	for _, tt := range []struct {
		name, token string
		now         time.Time
		want        string
	}{
		{"another door's", sign(s, other), now, wire.RejectWrongDoor},
		{"an attacker's key", sign(attacker, req), now, wire.RejectUnknownKey},
		{"an unlock command", unlock, now, wire.RejectBadSignature},
		{"expired beyond the skew", sign(s, short), now.Add(5*time.Second + wire.DefaultOfflineSkew + time.Second), wire.RejectExpired},
		{"not yet valid beyond the skew", sign(s, req), now.Add(-wire.DefaultOfflineSkew - 2*time.Second), wire.RejectNotYetValid},
		{"truncated", sign(s, req)[:100], now, wire.RejectMalformed},
		{"enormous", "v4.public." + strings.Repeat("A", 5000) + ".e30", now, wire.RejectMalformed},
		{"noise", "\x00\xff garbage", now, wire.RejectMalformed},
		{"judged without a clock", sign(s, req), time.Time{}, wire.RejectClockUnsynced},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := MustVerifier(t, door, nil, s)
			if _, err := v.VerifyOfflineGrant([]byte(tt.token), wire.OfflineCheck{Now: tt.now}); reason(err) != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
	// The skew stretches both ends: a grant a little past its expiry on a
	// drifting clock still opens.
	v := MustVerifier(t, door, nil, s)
	if _, err := v.VerifyOfflineGrant([]byte(sign(s, short)), wire.OfflineCheck{Now: now.Add(5*time.Second + wire.DefaultOfflineSkew/2)}); err != nil {
		t.Fatalf("within skew: %v", err)
	}
	// A lifetime over the limit is refused by the signer.
	long := req
	long.ExpiresAt = now.Add(wire.MaxOfflineGrantTTL + time.Second)
	if _, _, err := s.SignOfflineGrant(long); err == nil {
		t.Fatal("signed an offline grant valid over a minute")
	}
}

func TestTimeReply_OfflineWindow(t *testing.T) {
	s := MustSigner(t)
	door := newDoorID()
	v := MustVerifier(t, door, nil, s)
	nonce := strings.Repeat("n", 16)
	tok, err := s.SignTimeReply(door, nonce, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.VerifyTimeReply([]byte(tok), nonce)
	if err != nil || r.OfflineWindow != 7*24*time.Hour || r.KeyID != s.KeyID() {
		t.Fatalf("reply %+v, %v", r, err)
	}
	if _, err := s.SignTimeReply(door, nonce, wire.MaxOfflineWindow+time.Hour); err == nil {
		t.Fatal("signed an offline window over 30 days")
	}
	tok, _ = s.SignTime(door, nonce)
	if r, err := v.VerifyTimeReply([]byte(tok), nonce); err != nil || r.OfflineWindow != 0 {
		t.Fatalf("plain reply %+v, %v", r, err)
	}
}
