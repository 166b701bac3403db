package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/wire"
)

// TestEnrollAndRun runs the real program: enroll against a stand-in of the
// control plane's endpoint, run, and open the door over a real bus.
func TestEnrollAndRun(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := wire.NewSigner(priv)
	devices := &enrolledDevices{}
	bus, err := natsbus.Open(context.Background(), natsbus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:-1", Signer: signer, Devices: devices})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	door := doorman.NewID(doorman.PrefixDoor)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req wire.EnrollRequest
		if err := wire.Decode(body, wire.MaxEnrollSize, &req); err != nil || r.URL.Path != wire.EnrollPath {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		device := doorman.NewID(doorman.PrefixDevice)
		userJWT, _ := bus.IssueDeviceCredentials(door, device, req.NKey)
		devices.set(&doorman.Device{ID: device, DoorID: door, PublicKey: req.NKey})
		json.NewEncoder(w).Encode(wire.EnrollResponse{
			DeviceID: device, DoorID: door, NATSURLs: bus.DeviceURLs(),
			UserJWT: userJWT, CACertPEM: string(bus.CACertPEM()),
			CommandKeys: []wire.VerifyKey{signer.VerifyKey()}, Door: wire.DoorConfig{PulseMillis: 1000}, TLSFirst: bus.TLSFirst(),
		})
	}))
	defer srv.Close()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), []string{"enroll", "--server", srv.URL, "--code", "CODE-1234-ABCD", "--data-dir", dir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("enroll exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), door) {
		t.Fatalf("enroll output %q lacks the door", out.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	// The door's reader is standard input, left open: the agent must
	// still stop when asked.
	scanIn, scans := io.Pipe()
	defer scans.Close()
	var logs lockedBuffer
	go func() {
		done <- Run(ctx, []string{"run", "--data-dir", dir, "--reader", "-"}, scanIn, io.Discard, &logs)
	}()
	tok, _, _ := signer.SignUnlock(wire.Unlock{DoorID: door, GrantID: "gnt_e2e"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		ack, err := bus.SendUnlock(context.Background(), door, tok, 0)
		if err == nil {
			if !ack.Executed() || ack.GrantID != "gnt_e2e" {
				t.Fatalf("ack %+v", ack)
			}
			break
		} else if doorman.ErrorReason(err) != doorman.ReasonDoorOffline || time.Now().After(deadline) {
			t.Fatalf("unlock: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A line on the reader is judged (here: noise, refused and logged).
	if _, err := io.WriteString(scans, "not a grant\n"); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(logs.String(), "scan refused") {
		if time.Now().After(deadline) {
			t.Fatalf("the scan was not judged; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run exit %d", code)
	}
	if code := Run(context.Background(), []string{"bogus"}, nil, io.Discard, io.Discard); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}

// TestRunRefusesBadFlags: a skew beyond the limit or a stray argument stops
// run with a clear message before anything starts.
func TestRunRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--offline-skew", "10m"}, "offline skew must be between"},
		{[]string{"run", "--offline-skew", "-1s"}, "offline skew must be between"},
		{[]string{"run", "extra"}, "run takes no arguments"},
	} {
		var errOut bytes.Buffer
		args := append(tc.args, "--data-dir", t.TempDir())
		if tc.args[1] == "extra" {
			args = append([]string{"run", "--data-dir", t.TempDir()}, "extra")
		}
		if code := Run(context.Background(), args, nil, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, %q; want 1 and %q", args, code, errOut.String(), tc.want)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the agent's logger and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// enrolledDevices is the stand-in's record of the device it enrolled, which
// the bus checks acknowledgements against.
type enrolledDevices struct {
	mu sync.Mutex
	d  *doorman.Device
}

func (e *enrolledDevices) set(d *doorman.Device) { e.mu.Lock(); e.d = d; e.mu.Unlock() }

func (e *enrolledDevices) ActiveDevice(_ context.Context, doorID string) (*doorman.Device, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.d == nil || e.d.DoorID != doorID {
		return nil, doorman.Errorf(doorman.ENOTFOUND, "No active device.")
	}
	return e.d, nil
}
