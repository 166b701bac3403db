package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestAttack_SlowClients: a client that sends its headers a byte at a
// time and stops (slowloris), and one that announces a body and stops
// halfway, each hold a connection only until the server's timeouts, not
// forever; the API answers the next client meanwhile and after.
func TestAttack_SlowClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.HTTPAddr, cfg.NATSListen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.slowClient = 500 * time.Millisecond
	m := NewMain()
	m.Config, m.Logger = cfg, slog.New(slog.DiscardHandler)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	go m.Serve()
	addr := m.ln.Addr().String()

	// closedWithin reads from c until the server closes it (an answer, if
	// any, is read along) and fails if that takes longer than within.
	closedWithin := func(name string, c net.Conn, within time.Duration) {
		t.Helper()
		start := time.Now()
		c.SetReadDeadline(start.Add(within))
		_, err := io.Copy(io.Discard, c)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: the connection was still open after %s", name, within)
		}
		t.Logf("%s: closed after %s", name, time.Since(start).Round(10*time.Millisecond))
	}

	slowloris, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slowloris.Close()
	for _, b := range []byte("GET /v1/me HTTP/1.1\r\nHost: doorman\r\nX-Slow: ") {
		if _, err := slowloris.Write([]byte{b}); err != nil {
			break // closed already
		}
		time.Sleep(10 * time.Millisecond)
	}

	halfBody, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer halfBody.Close()
	if _, err := halfBody.Write([]byte("POST /v1/sessions HTTP/1.1\r\nHost: doorman\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\":")); err != nil {
		t.Fatal(err)
	}

	// Meanwhile the API answers.
	res, err := http.Get(m.URL() + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("health while slow clients hang on: %v %v", res, err)
	}
	res.Body.Close()

	closedWithin("slowloris", slowloris, 5*time.Second)
	// The half body: the server reads what it can until the deadline,
	// then answers (400) or closes.
	halfBody.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(halfBody), nil); err == nil {
		if resp.StatusCode < 400 {
			t.Fatalf("half a body answered %d", resp.StatusCode)
		}
		resp.Body.Close()
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("half a body: the connection was still open after 5 s")
	}
	closedWithin("half a body", halfBody, 5*time.Second)
}
