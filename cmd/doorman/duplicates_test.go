package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// TestDeviceConnectedTwiceIsAudited: a second connection with a door
// device's bus credentials (a copy of its device.json) is written into the
// building's audit log, naming the device, for the manager to act on.
func TestDeviceConnectedTwiceIsAudited(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	d, err := StartDemo(ctx, cfg, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, door := d.Main, d.State.DoorID

	op := doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleOperator, SubjectID: "test"})
	_, hash := doorman.NewToken("")
	if err := m.Store.CreateEnrollment(op, &doorman.Enrollment{DoorID: door, CodeHash: hash, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	dev := &doorman.Device{PublicKey: pub}
	if _, err := m.Store.EnrollDevice(op, hash, dev, time.Now()); err != nil {
		t.Fatal(err)
	}
	userJWT, err := m.Bus.IssueDeviceCredentials(door, dev.ID, pub)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(m.Bus.CACertPEM())
	connect := func() *nats.Conn {
		nc, err := nats.Connect(strings.Join(m.Bus.DeviceURLs(), ","), nats.UserJWTAndSeed(userJWT, string(seed)),
			nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), nats.TLSHandshakeFirst(), nats.MaxReconnects(0),
			nats.CustomInboxPrefix(wire.InboxPrefix(door)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	connect()
	connect()

	flagged := func() *doorman.AuditEntry {
		entries, _, err := m.Store.ListAudit(ctx, doorman.AuditFilter{DoorID: door}, doorman.Page{Limit: doorman.MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Action == doorman.ActionDeviceDuplicateConnection {
				return e
			}
		}
		return nil
	}
	waitUntil(t, ctx, func() bool { return flagged() != nil })
	if e := flagged(); !strings.Contains(e.Detail, dev.ID) || !strings.Contains(e.Detail, "2 connections") {
		t.Fatalf("audit entry %+v, want the device and its two connections named", e)
	}
}
