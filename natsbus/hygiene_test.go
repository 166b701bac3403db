package natsbus_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/natsbus"
)

// TestTLS_OnlyAEADSuites: a client (here with a device's credentials)
// offering only TLS 1.2 CBC suites with SHA-1 MACs is refused at the
// handshake; TLS 1.2 with an AEAD suite, and TLS 1.3, are accepted.
func TestTLS_OnlyAEADSuites(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	d := MustDevice(t, b)
	connect := func(max uint16, suites ...uint16) error {
		cfg := tlsTo(b)
		cfg.MaxVersion, cfg.CipherSuites = max, suites
		nc, err := d.Connect(b, nats.Secure(cfg), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
		}
		return err
	}
	cbc := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	}
	if err := connect(tls.VersionTLS12, cbc...); err == nil {
		t.Error("a TLS 1.2 client offering only CBC-SHA1 suites was accepted")
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		if err := connect(tls.VersionTLS12, suite); err != nil {
			t.Errorf("TLS 1.2 with %s: %v", tls.CipherSuiteName(suite), err)
		}
	}
	if err := connect(tls.VersionTLS13); err != nil {
		t.Errorf("TLS 1.3: %v", err)
	}
}

// TestInfo_NotInClear: the server's INFO line (server ID, NATS version,
// Go version) is not sent before TLS to a client that starts TLS at once,
// as the control plane does and agents should; the handshake is then the
// first thing on the wire. NATS has no option to leave the versions out
// of INFO, so they are still in the INFO sent inside TLS.
func TestInfo_NotInClear(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	addr := strings.TrimPrefix(b.ClientURL(), "tls://")
	conn, err := net.DialTimeout("tcp", addr, testWait)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cfg := tlsTo(b)
	cfg.ServerName = "127.0.0.1"
	tc := tls.Client(conn, cfg)
	tc.SetDeadline(time.Now().Add(testWait))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake as the first bytes on the wire: %v (was an INFO line sent in clear first?)", err)
	}
	line, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("inside TLS: %q, %v", line, err)
	}
}

// TestInfo_NoneInClear: by default a raw TCP client reads nothing at all
// before it starts TLS: no INFO line, so no versions; devices enrolled on
// this bus are told to start TLS at once.
func TestInfo_NoneInClear(t *testing.T) {
	b := MustOpenBus(t, t.TempDir(), nil)
	if !b.TLSFirst() {
		t.Fatal("the embedded bus does not tell devices to start TLS first")
	}
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(b.ClientURL(), "tls://"), testWait)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	got, _ := bufio.NewReader(conn).ReadString('\n')
	if got != "" {
		t.Fatalf("read in clear: %q", got)
	}
}

// TestInfo_FallbackForClientsThatWait: with a fallback configured, a
// client that waits for INFO before TLS gets it after the delay, and
// still connects. That INFO line names the NATS and Go versions: NATS
// v2.15 cannot leave them out (see docs/operations.md).
func TestInfo_FallbackForClientsThatWait(t *testing.T) {
	const fallback = 500 * time.Millisecond
	b, err := natsbus.Open(context.Background(), natsbus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", TLSFirstFallback: fallback})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(b.ClientURL(), "tls://"), testWait)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	conn.SetReadDeadline(start.Add(testWait))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("read in clear: %q, %v", line, err)
	}
	if waited := time.Since(start); waited < fallback/2 {
		t.Fatalf("INFO sent in clear after %s, before the fallback delay", waited)
	}
}
