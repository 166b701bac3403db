package natsbus_test

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// TestUnlock_NotBufferedWhileReconnecting: while the control plane's
// connection to the bus is down, Unlock answers door_offline, and the
// command it signed is not sent when the connection comes back: a door
// must not open after the courier was told it is offline.
func TestUnlock_NotBufferedWhileReconnecting(t *testing.T) {
	dir := t.TempDir()
	signer := MustSigner(t)
	embedded := MustOpenBus(t, dir, signer)
	credsFile, _ := ExternalCreds(t, dir)
	proxy := StartProxy(t, embedded.ClientURL()[len("tls://"):])
	b, err := natsbus.Open(context.Background(), natsbus.Config{
		URL: "tls://" + proxy.Addr, CredsFile: credsFile, CAFile: filepath.Join(dir, "ca.pem"), ExternalTLSFirst: true,
		Signer: signer, CommandTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// The door's subject, watched on the server's side of the cut.
	door := &doorman.Door{ID: doorman.NewID(doorman.PrefixDoor), PulseMillis: 1000}
	got := make(chan *nats.Msg, 16)
	if _, err := embedded.Conn().ChanSubscribe(wire.CommandSubject(door.ID), got); err != nil {
		t.Fatal(err)
	}
	embedded.Conn().Flush()

	proxy.Cut()
	waitFor(t, "the control plane to notice the cut", func() bool { return !b.Conn().IsConnected() })
	_, err = b.Unlock(context.Background(), door, &doorman.Grant{ID: "gnt_during_outage"})
	if doorman.ErrorReason(err) != doorman.ReasonDoorOffline {
		t.Fatalf("Unlock while disconnected: %v, want door_offline", err)
	}

	proxy.Restore(t)
	waitFor(t, "the control plane to reconnect", b.Conn().IsConnected)
	// Anything buffered during the outage is flushed before this.
	if err := b.Conn().Publish(wire.CommandSubject(door.ID), []byte("sentinel")); err != nil {
		t.Fatal(err)
	}
	b.Conn().Flush()
	select {
	case m := <-got:
		if string(m.Data) != "sentinel" {
			t.Fatalf("a command sent while disconnected reached the door after door_offline: %.40q", m.Data)
		}
	case <-time.After(testWait):
		t.Fatal("sentinel never arrived")
	}
}

// waitFor polls cond until it holds; testWait is a hang guard.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Proxy is a TCP proxy whose link can be cut and restored, to take a
// connection down without stopping the server.
type Proxy struct {
	Addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

// StartProxy listens on a free loopback port and forwards to target.
func StartProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target}
	p.serve(ln)
	tb.Cleanup(p.Cut)
	return p
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// Cut stops accepting and closes every proxied connection.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore listens again on the same address.
func (p *Proxy) Restore(tb testing.TB) {
	tb.Helper()
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		tb.Fatal(err)
	}
	p.serve(ln)
}
