package wire_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

func TestEvent_EncodeDecode(t *testing.T) {
	door := newDoorID()
	ev := wire.Event{ID: wire.NewEventID(), Kind: wire.EventCommandRejected, DoorID: door, At: time.Now().UTC(), Reason: wire.RejectReplayed}
	b, err := wire.Encode(&ev, wire.MaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	var got wire.Event
	if err := wire.Decode(b, wire.MaxMessageSize, &got); err != nil || got.ID != ev.ID || got.Reason != ev.Reason {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	for name, tt := range map[string]struct {
		data string
		code string
	}{
		"oversized":     {`{"id":"` + strings.Repeat("x", wire.MaxMessageSize) + `"}`, doorman.ETOOLARGE},
		"truncated":     {string(b[:len(b)-3]), doorman.EINVALID},
		"unknown field": {strings.Replace(string(b), `{`, `{"admin":true,`, 1), doorman.EINVALID},
		"trailing":      {string(b) + `{}`, doorman.EINVALID},
		"unknown kind":  {strings.Replace(string(b), wire.EventCommandRejected, "door_exploded", 1), doorman.EINVALID},
		"bad reason":    {strings.Replace(string(b), wire.RejectReplayed, "because", 1), doorman.EINVALID},
		"not json":      {"\x00\x01", doorman.EINVALID},
	} {
		var e wire.Event
		if err := wire.Decode([]byte(tt.data), wire.MaxMessageSize, &e); doorman.ErrorCode(err) != tt.code {
			t.Errorf("%s: err = %v, want %s", name, err, tt.code)
		}
	}
	ev.Detail = strings.Repeat("d", wire.MaxDetailLength+1)
	if _, err := wire.Encode(&ev, wire.MaxMessageSize); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("long detail: err = %v", err)
	}
}

func TestAck_Validate(t *testing.T) {
	now := time.Now()
	for name, tt := range map[string]struct {
		ack wire.Ack
		ok  bool
	}{
		"executed":        {wire.Ack{GrantID: "gnt_1", JTI: "cmd_1", ExecutedAt: now}, true},
		"rejected":        {wire.Ack{Rejected: wire.RejectExpired}, true},
		"both":            {wire.Ack{GrantID: "gnt_1", JTI: "cmd_1", ExecutedAt: now, Rejected: wire.RejectExpired}, false},
		"neither":         {wire.Ack{GrantID: "gnt_1", JTI: "cmd_1"}, false},
		"unknown reason":  {wire.Ack{Rejected: "nope"}, false},
		"executed no jti": {wire.Ack{GrantID: "gnt_1", ExecutedAt: now}, false},
	} {
		if err := tt.ack.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok %v", name, err, tt.ok)
		}
	}
}

func TestEnroll_Validate(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	req := wire.EnrollRequest{Code: "ABCD-EFGH-1234", NKey: pub}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	acc, _ := nkeys.CreateAccount()
	accPub, _ := acc.PublicKey()
	for name, r := range map[string]wire.EnrollRequest{
		"short code":  {Code: "1234", NKey: pub},
		"account key": {Code: "ABCD-EFGH-1234", NKey: accPub},
		"seed":        {Code: "ABCD-EFGH-1234", NKey: "SU" + pub[2:]},
	} {
		if err := r.Validate(); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
	resp := wire.EnrollResponse{
		DeviceID: doorman.NewID(doorman.PrefixDevice), DoorID: newDoorID(),
		NATSURLs: []string{"tls://bus.example:4222"}, UserJWT: "eyJ.x.y",
		CACertPEM: "not a pem", CommandKeys: []wire.VerifyKey{MustSigner(t).VerifyKey()},
		Door: wire.DoorConfig{PulseMillis: 3000},
	}
	if err := resp.Validate(); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("bad CA: err = %v, want EINVALID", err)
	}
	resp.CACertPEM = ""
	resp.NATSURLs = []string{"http://bus"}
	if err := resp.Validate(); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("http URL: err = %v, want EINVALID", err)
	}
}

// TestEventKinds_AreTheDomains: the protocol's event kinds are the domain's,
// listed once each, and nothing else is one.
func TestEventKinds_AreTheDomains(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range wire.EventKinds {
		if !doorman.ValidDeviceEventKind(k) || !wire.ValidEventKind(k) || seen[k] {
			t.Errorf("event kind %q: domain %v, wire %v, repeated %v", k, doorman.ValidDeviceEventKind(k), wire.ValidEventKind(k), seen[k])
		}
		seen[k] = true
	}
	if len(seen) != 8 {
		t.Errorf("%d event kinds, want the domain's 8", len(seen))
	}
	for _, k := range []string{"", "*", ">", "door_opened.x", "Door_Opened", "flood"} {
		if wire.ValidEventKind(k) {
			t.Errorf("%q accepted as an event kind", k)
		}
	}
}
