// Package mailpit starts a mailpit SMTP server for tests and reads the
// mail it caught through its HTTP API. It imports only the standard
// library, and only tests import it.
package mailpit

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Server is a running mailpit.
type Server struct {
	SMTP string // host:port
	API  string // http://host:port
	cmd  *exec.Cmd
	args []string
}

// Start starts mailpit on free loopback ports, or skips the test when
// mailpit is not on PATH (fails it when CI is set). It stops with the
// test.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartOn(t, FreeAddr(t))
}

// StartOn starts mailpit with its SMTP server on smtpAddr.
func StartOn(t testing.TB, smtpAddr string) *Server {
	t.Helper()
	bin, err := exec.LookPath("mailpit")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mailpit is not on PATH (go install github.com/axllent/mailpit@v1.27.11)")
		}
		t.Skip("mailpit is not on PATH")
	}
	s := &Server{SMTP: smtpAddr}
	api := FreeAddr(t)
	s.API = "http://" + api
	s.args = []string{"--smtp", smtpAddr, "--listen", api, "--disable-version-check", "--smtp-auth-accept-any",
		"--smtp-auth-allow-insecure", "--smtp-disable-rdns", "--quiet", "--max", "100000",
		"--database", filepath.Join(t.TempDir(), "mailpit.db")}
	s.cmd = exec.Command(bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", smtpAddr, time.Second)
		if err == nil {
			c.Close()
			if _, err := s.Messages(context.Background()); err == nil {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops mailpit.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// FreeAddr returns a loopback address with a port free just now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Summary is a message in mailpit's list.
type Summary struct {
	ID        string
	MessageID string
	Subject   string
	To        []struct{ Address string }
}

// Message is one message whole.
type Message struct {
	ID        string
	MessageID string
	Subject   string
	Text      string
	HTML      string
}

// Messages lists the messages caught, newest first (at most 100000).
func (s *Server) Messages(ctx context.Context) ([]Summary, error) {
	var out struct {
		Messages []Summary `json:"messages"`
	}
	err := s.get(ctx, "/api/v1/messages?limit=100000", &out)
	return out.Messages, err
}

// Message reads one message.
func (s *Server) Message(ctx context.Context, id string) (*Message, error) {
	var m Message
	return &m, s.get(ctx, "/api/v1/message/"+id, &m)
}

// Headers reads a message's headers.
func (s *Server) Headers(ctx context.Context, id string) (map[string][]string, error) {
	h := map[string][]string{}
	return h, s.get(ctx, "/api/v1/message/"+id+"/headers", &h)
}

func (s *Server) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", s.API+path, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s: %s", path, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}
