package natsbus_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// ExternalCreds writes, for the embedded bus whose data dir is dir, what an
// operator hands a control-plane node in external mode: a creds file of a
// service user and the account signing key's seed file.
func ExternalCreds(tb testing.TB, dir string) (credsFile, seedFile string) {
	tb.Helper()
	var keys struct {
		Account string `json:"account_seed"`
		Signing string `json:"account_signing_seed"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "bus-keys.json"))
	if err := json.Unmarshal(data, &keys); err != nil {
		tb.Fatal(err)
	}
	acc, _ := nkeys.FromSeed([]byte(keys.Account))
	accPub, _ := acc.PublicKey()
	sk, _ := nkeys.FromSeed([]byte(keys.Signing))
	svc, _ := nkeys.CreateUser()
	svcPub, _ := svc.PublicKey()
	svcSeed, _ := svc.Seed()
	uc := jwt.NewUserClaims(svcPub)
	uc.IssuerAccount = accPub
	svcJWT, err := uc.Encode(sk)
	if err != nil {
		tb.Fatal(err)
	}
	creds, _ := jwt.FormatUserConfig(svcJWT, svcSeed)
	ext := tb.TempDir()
	credsFile, seedFile = filepath.Join(ext, "svc.creds"), filepath.Join(ext, "signing.nk")
	os.WriteFile(credsFile, creds, 0o600)
	os.WriteFile(seedFile, []byte(keys.Signing), 0o600)
	return credsFile, seedFile
}

// TestExternalMode connects a second control-plane node to the first one's
// server as an external NATS deployment, with a creds file and the
// account's signing key, as `--nats-url` does.
func TestExternalMode(t *testing.T) {
	dir := t.TempDir()
	signer := MustSigner(t)
	embedded := MustOpenBus(t, dir, signer)

	credsFile, seedFile := ExternalCreds(t, dir)

	b, err := natsbus.Open(context.Background(), natsbus.Config{
		URL: embedded.ClientURL(), CredsFile: credsFile, CAFile: filepath.Join(dir, "ca.pem"), ExternalTLSFirst: true,
		AccountSigningSeedFile: seedFile, Signer: signer,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if string(b.CACertPEM()) != string(embedded.CACertPEM()) {
		t.Fatal("external bus hands devices another CA")
	}
	// Credentials issued by the external node work on the server.
	d := MustDevice(t, b)
	if _, err := b.IssueDeviceCredentials(d.DoorID, d.DeviceID, d.Pub); err != nil {
		t.Fatal(err)
	}
	tok, _, _ := signer.SignUnlock(wire.Unlock{DoorID: d.DoorID, GrantID: "gnt_1"})
	if _, err := b.SendUnlock(context.Background(), d.DoorID, tok, 0); doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
		t.Fatalf("err = %v, want door_offline", err)
	}
	if err := b.RevokeDevice(context.Background(), d.Pub); doorman.ErrorCode(err) != doorman.EUNAVAILABLE {
		t.Fatalf("external revoke: err = %v, want EUNAVAILABLE", err)
	}
	// Without a signing key the external node cannot issue credentials.
	b2, err := natsbus.Open(context.Background(), natsbus.Config{URL: embedded.ClientURL(), CredsFile: credsFile, CAFile: filepath.Join(dir, "ca.pem"), ExternalTLSFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if _, err := b2.IssueDeviceCredentials(d.DoorID, d.DeviceID, d.Pub); doorman.ErrorCode(err) != doorman.EUNAVAILABLE {
		t.Fatalf("no signing key: err = %v, want EUNAVAILABLE", err)
	}
}
