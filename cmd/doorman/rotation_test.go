package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/keyring"
	"github.com/doorman-dev/doorman/wire"
)

// link is a TCP relay between a door's agent and the bus that a test can
// cut and restore, as a building's uplink goes down and up.
type link struct {
	t      *testing.T
	addr   string // where the agent connects
	target string // the bus
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newLink(t *testing.T, target string) *link {
	l := &link{t: t, addr: "127.0.0.1:" + freePort(t), target: target}
	l.up()
	t.Cleanup(l.down)
	return l
}

// up listens again on the same address.
func (l *link) up() {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		l.t.Fatal(err)
	}
	l.mu.Lock()
	l.ln = ln
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", l.target)
			if err != nil {
				c.Close()
				continue
			}
			l.mu.Lock()
			l.conns = append(l.conns, c, s)
			l.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// down cuts every connection and stops listening.
func (l *link) down() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		l.ln.Close()
		l.ln = nil
	}
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

// TestRotationAcrossOutage is issue 10's rotation case: a door whose bus
// link is cut while the command key is rotated twice catches up when the
// link returns — it takes the current key set from a key update signed by
// the key it still trusts — and then opens for commands signed with the
// newest key and refuses one signed with the retired first key.
func TestRotationAcrossOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	d, err := StartDemo(ctx, cfg, t.TempDir(), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	doorID := d.State.DoorID
	first := d.Main.Keys.KeyID()
	firstSigner, err := keyring.LoadOrCreateSigner(d.Main.Config.CommandKeyPath())
	if err != nil || firstSigner.KeyID() != first {
		t.Fatalf("first key %v, %v", firstSigner, err)
	}

	// Put the door's agent behind a link the test can cut.
	d.stopAgent()
	<-d.agentDone
	d.Agent.Close()
	agentDir := filepath.Join(filepath.Dir(d.Main.Config.DataDir), "agent")
	id, err := agent.LoadIdentity(agentDir)
	if err != nil {
		t.Fatal(err)
	}
	bus := strings.TrimPrefix(id.NATSURLs[0], "tls://")
	l := newLink(t, bus)
	id.NATSURLs = []string{"tls://" + l.addr}
	if err := agent.SaveIdentity(agentDir, id); err != nil {
		t.Fatal(err)
	}
	if d.Agent, err = agent.New(agent.Config{DataDir: agentDir, Relay: d.Relay, Sensor: d.Relay, Tamper: d.Relay,
		Logger: logger, HeartbeatInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	agentCtx, stop := context.WithCancel(context.Background())
	d.stopAgent, d.agentDone = stop, make(chan error, 1)
	go func() { d.agentDone <- d.Agent.Run(agentCtx) }()
	// Its first heartbeat reports the enrollment keys (sequence 0); the
	// control plane answers with the current set.
	waitUntil(t, ctx, func() bool { synced, _ := d.Agent.ClockSynced(); return synced && d.Agent.KeySeq() == 1 })

	// The link goes down; the operator rotates twice, each time at once.
	l.down()
	op := systemContext(ctx)
	k2, err := d.Main.App.CommandKeys.Rotate(op, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	k3, err := d.Main.App.CommandKeys.Rotate(op, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if k3.Status != doorman.KeyActive || d.Main.Keys.KeyID() != k3.KeyID {
		t.Fatalf("after two rotations the ring signs with %s, want %s (%s)", d.Main.Keys.KeyID(), k3.KeyID, k3.Status)
	}
	if d.Agent.KeySeq() != 1 {
		t.Fatal("the door heard of the rotation through a cut link")
	}

	// The link returns: the reconnect heartbeat reports sequence 1, and
	// the control plane sends sequence 3, which the door verifies with the
	// first key (the only one it trusts).
	l.up()
	waitUntil(t, ctx, func() bool { return d.Agent.KeySeq() == 3 })

	unlock := func(s *wire.Signer) (*wire.Ack, bool, error) {
		t.Helper()
		token, _, err := s.SignUnlock(wire.Unlock{DoorID: doorID, GrantID: "gnt_rotation", TTL: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		pulses := d.Relay.Pulses()
		ack, err := d.Main.Bus.SendUnlock(ctx, doorID, token, 10*time.Second)
		return ack, d.Relay.Pulses() == pulses+1, err
	}
	if _, opened, err := unlock(d.Main.Keys.Signer()); err != nil || !opened {
		t.Fatalf("command signed with the newest key: opened %v, %v", opened, err)
	}
	ack, opened, err := unlock(firstSigner)
	if doorman.ErrorCode(err) != doorman.EFORBIDDEN || ack == nil || ack.Rejected != wire.RejectKeyRetired || opened {
		t.Fatalf("command signed with the retired key: ack %+v, opened %v, %v; want refused as key_retired", ack, opened, err)
	}

	// Revoking the retiring middle key reaches the door at once.
	if _, err := d.Main.App.CommandKeys.Revoke(op, k2.KeyID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, ctx, func() bool { return d.Agent.KeySeq() == 4 })
}
