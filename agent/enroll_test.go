package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/wire"
)

func TestEnroll(t *testing.T) {
	e := MustEnv(t)
	door := doorman.NewID(doorman.PrefixDoor)
	var issueFor string // "" issues for the requester's key
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != wire.EnrollPath {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req wire.EnrollRequest
		if err := wire.Decode(body, wire.MaxEnrollSize, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if req.Code != "GOOD-CODE-1234" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"title":"Forbidden","detail":"Unknown or used enrollment code."}`))
			return
		}
		key := req.NKey
		if issueFor != "" {
			key = issueFor
		}
		device := doorman.NewID(doorman.PrefixDevice)
		userJWT, err := e.Bus.IssueDeviceCredentials(door, device, key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(wire.EnrollResponse{
			DeviceID: device, DoorID: door, NATSURLs: e.Bus.DeviceURLs(),
			UserJWT: userJWT, CACertPEM: string(e.Bus.CACertPEM()),
			CommandKeys: []wire.VerifyKey{e.Signer.VerifyKey()}, Door: wire.DoorConfig{PulseMillis: 2000},
		})
	}))
	defer srv.Close()
	ctx := context.Background()
	dir := t.TempDir()

	id, err := agent.Enroll(ctx, agent.EnrollOptions{Server: srv.URL, Code: "GOOD-CODE-1234", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := agent.LoadIdentity(dir)
	if err != nil || loaded.DoorID != door || loaded.NKeySeed != id.NKeySeed || loaded.Door.PulseMillis != 2000 {
		t.Fatalf("LoadIdentity = %+v, %v", loaded, err)
	}
	if _, err := agent.Enroll(ctx, agent.EnrollOptions{Server: srv.URL, Code: "GOOD-CODE-1234", DataDir: dir}); doorman.ErrorCode(err) != doorman.ECONFLICT {
		t.Fatalf("second enrollment: err = %v, want ECONFLICT", err)
	}

	for name, tt := range map[string]struct {
		opt  agent.EnrollOptions
		code string
	}{
		"bad code":       {agent.EnrollOptions{Server: srv.URL, Code: "BAD-CODE-1234"}, doorman.EUNAUTHORIZED},
		"plain http":     {agent.EnrollOptions{Server: "http://doorman.example", Code: "GOOD-CODE-1234"}, doorman.EINVALID},
		"not a url":      {agent.EnrollOptions{Server: "doorman", Code: "GOOD-CODE-1234"}, doorman.EINVALID},
		"short code":     {agent.EnrollOptions{Server: srv.URL, Code: "1"}, doorman.EINVALID},
		"nobody listens": {agent.EnrollOptions{Server: "http://127.0.0.1:1", Code: "GOOD-CODE-1234"}, doorman.EUNAVAILABLE},
	} {
		tt.opt.DataDir = t.TempDir()
		if _, err := agent.Enroll(ctx, tt.opt); doorman.ErrorCode(err) != tt.code {
			t.Errorf("%s: err = %v, want %s", name, err, tt.code)
		}
	}

	// A server that issues credentials for a key the device does not hold
	// is refused, and nothing is written.
	other, _ := nkeys.CreateUser()
	issueFor, _ = other.PublicKey()
	dir2 := t.TempDir()
	if _, err := agent.Enroll(ctx, agent.EnrollOptions{Server: srv.URL, Code: "GOOD-CODE-1234", DataDir: dir2}); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Fatalf("JWT for another key: err = %v, want EINVALID", err)
	}
	if _, err := agent.LoadIdentity(dir2); err == nil {
		t.Fatal("identity written despite the refusal")
	}
}
