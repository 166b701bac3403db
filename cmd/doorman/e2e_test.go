package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// binaries builds doorman and doorman-agent once for the end-to-end tests.
var binaries = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "doorman-e2e-bin-")
	if err != nil {
		return "", err
	}
	for _, pkg := range []string{".", "../doorman-agent"} {
		out, err := exec.Command("go", "build", "-o", dir+"/", pkg).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return dir, nil
})

// process is a running binary whose output the test reads.
type process struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	added chan struct{}
}

func start(t *testing.T, name string, args ...string) *process {
	t.Helper()
	bin, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: exec.Command(filepath.Join(bin, name), args...), added: make(chan struct{}, 1)}
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.added <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			t.Errorf("%s did not stop on SIGINT", name)
		}
		pw.Close()
		if t.Failed() {
			p.mu.Lock()
			t.Logf("%s output:\n%s", name, strings.Join(p.lines, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

// waitFor returns the first submatch of re in the process's output.
func (p *process) waitFor(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if m := re.FindStringSubmatch(l); m != nil {
				p.mu.Unlock()
				return m[1]
			}
		}
		p.mu.Unlock()
		select {
		case <-p.added:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no line matching %s", re)
		}
	}
}

// api calls the API and decodes the answer, failing unless the status is want.
func api(t *testing.T, base, method, path, token string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	out := map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return out
}

// TestEndToEnd runs the real doorman serve and doorman-agent binaries as
// separate processes: the operator sets up a building, a door and a
// carrier; the device enrolls with a one-time code and connects over the
// bus; a courier's scan opens the door; a parcel for another building is
// refused; the device's events reach the audit log, which verifies.
func TestEndToEnd(t *testing.T) { endToEnd(t) }

// TestEndToEndPostgres is the same story with the control plane on
// PostgreSQL (when DOORMAN_TEST_POSTGRES_DSN is set; CI sets it).
func TestEndToEndPostgres(t *testing.T) { endToEnd(t, "--db", postgresSchema(t)) }

func endToEnd(t *testing.T, serveArgs ...string) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	dir := t.TempDir()
	args := append([]string{"serve", "--data-dir", dir + "/server", "--http-addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--log-format", "json"}, serveArgs...)
	serve := start(t, "doorman", args...)
	operator := serve.waitFor(t, regexp.MustCompile(`^(dmo_\S+)$`))
	base := serve.waitFor(t, regexp.MustCompile(`"msg":"doorman listening".*"addr":"(http://[^"]+)"`))
	if slices.Contains(serveArgs, "--db") {
		serve.waitFor(t, regexp.MustCompile(`"msg":"doorman listening".*"store":"(postgres)"`))
	}

	// The operator creates a building with a door, and a carrier with a key.
	b := api(t, base, "POST", "/v1/buildings", operator, map[string]any{"name": "Elm Yard", "address": "5 Elm St", "timezone": "America/New_York"}, 201)
	bid := b["id"].(string)
	api(t, base, "POST", "/v1/buildings/"+bid+"/units", operator, map[string]any{"label": "3F"}, 201)
	door := api(t, base, "POST", "/v1/buildings/"+bid+"/doors", operator, map[string]any{"name": "Lobby", "pulse_millis": 500}, 201)
	did := door["id"].(string)
	other := api(t, base, "POST", "/v1/buildings", operator, map[string]any{"name": "Oak Row", "address": "9 Oak St", "timezone": "UTC"}, 201)
	api(t, base, "POST", "/v1/buildings/"+other["id"].(string)+"/units", operator, map[string]any{"label": "1"}, 201)
	carrier := api(t, base, "POST", "/v1/carriers", operator, map[string]any{"name": "Postal"}, 201)
	cid := carrier["id"].(string)
	for _, id := range []string{bid, other["id"].(string)} {
		api(t, base, "PUT", "/v1/buildings/"+id+"/notice-period", operator, map[string]any{"seconds": 0}, 204)
	}
	api(t, base, "PUT", "/v1/buildings/"+bid+"/carriers/"+cid, operator, nil, 204)
	api(t, base, "PUT", "/v1/buildings/"+other["id"].(string)+"/carriers/"+cid, operator, nil, 204)
	key := api(t, base, "POST", "/v1/carriers/"+cid+"/api-keys", operator, map[string]any{"name": "e2e"}, 201)["token"].(string)

	// The carrier uploads its courier and manifest and mints a session.
	api(t, base, "PUT", "/v1/carriers/"+cid+"/couriers/dana", key, map[string]any{"name": "Dana", "background_check_verified_until": time.Now().AddDate(0, 1, 0)}, 201)
	api(t, base, "POST", "/v1/carriers/"+cid+"/manifests", key, map[string]any{"parcels": []map[string]any{
		{"tracking_number": "E2E-1", "building_id": bid, "unit": "3F", "courier_external_id": "dana", "status": "out_for_delivery"},
		{"tracking_number": "E2E-2", "building_id": other["id"], "unit": "1", "courier_external_id": "dana", "status": "out_for_delivery"},
	}}, 200)
	courier := api(t, base, "POST", "/v1/carriers/"+cid+"/couriers/dana/sessions", key, map[string]any{}, 201)["token"].(string)

	// Before any device: the door is offline, and says so quickly.
	res := api(t, base, "POST", "/v1/courier/access-requests", courier, map[string]any{"door_id": did, "tracking_numbers": []string{"E2E-1"}}, 200)
	if d := res["decision"].(map[string]any); d["reason"] != "door_offline" {
		t.Fatalf("without a device: %v", d)
	}

	// The installer enrolls the device with a one-time code, then runs it.
	code := api(t, base, "POST", "/v1/buildings/"+bid+"/doors/"+did+"/enrollments", operator, map[string]any{}, 201)["code"].(string)
	agentDir := dir + "/agent"
	enroll := exec.Command(must1(binaries())+"/doorman-agent", "enroll", "--server", base, "--code", code, "--data-dir", agentDir)
	if out, err := enroll.CombinedOutput(); err != nil {
		t.Fatalf("enroll: %v\n%s", err, out)
	}
	again := exec.Command(must1(binaries())+"/doorman-agent", "enroll", "--server", base, "--code", code, "--data-dir", dir+"/agent2")
	if out, err := again.CombinedOutput(); err == nil {
		t.Fatalf("a used code enrolled a second device:\n%s", out)
	}
	agentProc := start(t, "doorman-agent", "run", "--data-dir", agentDir, "--log-level", "debug")

	// The courier scans at the door until the device is online (connected,
	// and its clock synced: until then it refuses every command with
	// clock_unsynced), then opens.
	var decision map[string]any
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		res = api(t, base, "POST", "/v1/courier/access-requests", courier, map[string]any{"door_id": did, "tracking_numbers": []string{"E2E-1"}}, 200)
		decision = res["decision"].(map[string]any)
		detail, _ := decision["detail"].(string)
		if decision["reason"] != "door_offline" && !strings.Contains(detail, "clock_unsynced") {
			break
		}
	}
	if decision["allowed"] != true {
		t.Fatalf("the courier was refused: %v", decision)
	}
	grant := res["grant"].(map[string]any)["id"].(string)
	// The device, connected and serving, listens on nothing: it only
	// dials out.
	if l := listeningSockets(t, agentProc.cmd.Process.Pid); len(l) > 0 {
		t.Fatalf("doorman-agent listens: %v", l)
	}

	res = api(t, base, "POST", "/v1/courier/access-requests", courier, map[string]any{"door_id": did, "tracking_numbers": []string{"E2E-2"}}, 200)
	if d := res["decision"].(map[string]any); d["allowed"] != false || d["reason"] != "parcel_not_for_building" {
		t.Fatalf("parcel for another building: %v", d)
	}

	// The grant's use reaches the audit log once, as grant.used: from the
	// door's ack or its unlock_executed event, whichever came first; the
	// other is not chained again.
	uses := func() (used, executed int) {
		entries := api(t, base, "GET", "/v1/audit?building_id="+bid+"&limit=100", operator, nil, 200)["items"].([]any)
		for _, e := range entries {
			e := e.(map[string]any)
			if e["grant_id"] != grant {
				continue
			}
			switch e["action"] {
			case "grant.used":
				used++
			case "device.unlock_executed":
				executed++
			}
		}
		return used, executed
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if used, _ := uses(); used > 0 {
			break
		}
	}
	time.Sleep(2 * time.Second) // the later of ack and event arrives
	if used, executed := uses(); used != 1 || executed != 0 {
		t.Fatalf("the grant's use is in the log %d times as grant.used and %d as device.unlock_executed, want once as grant.used", used, executed)
	}
	d := api(t, base, "GET", "/v1/buildings/"+bid+"/doors/"+did, operator, nil, 200)
	if d["online"] != true || d["last_seen_at"] == nil {
		t.Fatalf("door not online after the device reported: %v", d)
	}
	v := api(t, base, "GET", "/v1/audit/verification", operator, nil, 200)
	if v["intact"] != true {
		t.Fatalf("audit verification: %v", v)
	}
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDemoSmoke runs `doorman demo --smoke` in process.
func TestDemoSmoke(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, []string{"demo", "--smoke", "--log-level", "error"}, &out, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"door opens", "parcel_not_for_building", "does not exist for her", "forged", "every step held"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("smoke output lacks %q:\n%s", want, out.String())
		}
	}
}

// listeningSockets lists the sockets of process pid that listen or are
// bound for datagrams (TCP in LISTEN, any UDP or raw socket), from
// /proc: "tcp 127.0.0.1:port" and so on. It fails the test where /proc
// does not tell (not Linux).
func listeningSockets(t *testing.T, pid int) []string {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("the process's sockets: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	if len(inodes) == 0 {
		t.Fatal("the process has no socket at all: not connected, so this shows nothing")
	}
	var found []string
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			if strings.HasPrefix(table, "tcp") && f[3] != "0A" { // 0A: LISTEN
				continue
			}
			found = append(found, table+" "+f[1])
		}
	}
	return found
}

// TestListeningSocketsSeesAListener: listeningSockets finds a listener
// (so that its finding none in the agent means something).
func TestListeningSocketsSeesAListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := fmt.Sprintf(":%04X", ln.Addr().(*net.TCPAddr).Port)
	for _, s := range listeningSockets(t, os.Getpid()) {
		if strings.HasPrefix(s, "tcp ") && strings.HasSuffix(s, port) {
			return
		}
	}
	t.Fatalf("the test's own listener on %s was not found", ln.Addr())
}
