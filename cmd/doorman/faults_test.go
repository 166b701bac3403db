package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/internal/pgtest"
	"github.com/doorman-dev/doorman/internal/tmpfs"
)

// EnvFaultRounds sets how many times TestFaults_KillRounds kills the
// control plane on each engine: faultRoundsCI when unset, as CI runs it;
// docs/reliability.md has the long local run.
const EnvFaultRounds = "DOORMAN_FAULT_ROUNDS"

const faultRoundsCI = 12

// TestFaults_KillRounds SIGKILLs `doorman serve` (its store and embedded
// NATS server with it) at random moments while couriers keep asking for
// doors, and starts it again on the same data dir and addresses, round
// after round, on SQLite and on PostgreSQL. Real agents on the embedded
// bus stay up throughout and find it again each time. Afterwards nothing
// is lost or doubled: every grant a courier was told of was committed,
// audited and opened its door once; every relay pulse had its committed,
// audited grant and its event is recorded once; and every building's log
// verifies against the checkpoints the killed processes left.
func TestFaults_KillRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs doorman, killing it again and again")
	}
	rounds := faultRoundsCI
	if s := os.Getenv(EnvFaultRounds); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a number of rounds", EnvFaultRounds, s)
		}
		rounds = n
	}
	t.Run("sqlite", func(t *testing.T) { killRounds(t, "", rounds) })
	t.Run("postgres", func(t *testing.T) {
		if !pgtest.Configured() && os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run the fault rounds on PostgreSQL", pgtest.EnvDSN)
		}
		killRounds(t, pgtest.Schema(t), rounds)
	})
}

// faultDoors and faultWorkers are the doors (with their agents) and the
// couriers asking at once in each round.
const (
	faultDoors   = 4
	faultWorkers = 4
)

// killRounds runs the kill rounds on the database dsn ("" for SQLite in
// the data dir).
func killRounds(t *testing.T, dsn string, rounds int) {
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	httpAddr, natsAddr := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	args := []string{"serve", "--data-dir", dir, "--http-addr", httpAddr, "--nats-listen", natsAddr, "--log-format", "json",
		"--courier-rate-limit", "100000", "--door-rate-limit", "100000", "--command-timeout", "10s"}
	if dsn != "" {
		args = append(args, "--db", dsn)
	}
	listening := regexp.MustCompile(`"msg":"doorman (listening)"`)
	serve := func() *process {
		p := start(t, "doorman", args...)
		return p
	}
	node := serve()
	operator := node.waitFor(t, regexp.MustCompile(`^(dmo_\S+)$`))
	node.waitFor(t, listening)
	base := "http://" + httpAddr
	client := &http.Client{Timeout: 20 * time.Second}
	world, err := (&benchAPI{base: base, client: client}).setUp(ctx, operator, faultDoors, 3*faultDoors, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The doors' agents, up through every kill.
	doors := runFaultAgents(t, ctx, base, client, filepath.Join(dir, "agent"), world)

	// The couriers ask without pause, through every kill; a request the
	// killed node does not answer is simply lost to its courier.
	var (
		mu      sync.Mutex
		told    = map[string]bool{}
		doubled []string
		sent    atomic.Int64
		opened  atomic.Int64
	)
	stop := make(chan struct{})
	var workers sync.WaitGroup
	lb := &retryingBalancer{client: client, nodes: []string{base}}
	for w := range faultWorkers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for k := w; ; k += faultWorkers {
				select {
				case <-stop:
					return
				default:
				}
				c := world.Couriers[k%len(world.Couriers)]
				sent.Add(1)
				body, _ := json.Marshal(map[string]any{"door_id": c.DoorID, "tracking_numbers": []string{c.Parcel}})
				res, err := lb.send(ctx, base, c.Token, body)
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if res.Decision.Allowed && res.Grant != nil {
					opened.Add(1)
					mu.Lock()
					if told[res.Grant.ID] {
						doubled = append(doubled, res.Grant.ID)
					}
					told[res.Grant.ID] = true
					mu.Unlock()
				}
			}
		}()
	}

	// The rounds: up, a random while under load (up to 2 s), SIGKILL.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range rounds {
		if round > 0 {
			node = serve()
			node.waitFor(t, listening)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(2 * time.Second))))
		if err := node.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		node.cmd.Wait()
	}
	t.Logf("%d kills in %s: %d requests sent, %d opened", rounds, time.Since(began).Round(time.Millisecond), sent.Load(), opened.Load())

	// Up once more, for good: the doors hand over what they kept.
	node = serve()
	node.waitFor(t, listening)
	time.Sleep(time.Second)
	close(stop)
	workers.Wait()
	if len(doubled) > 0 {
		t.Fatalf("grants told twice: %v", doubled)
	}
	if opened.Load() == 0 {
		t.Fatal("no door opened in the whole run")
	}

	db := openFaultDB(t, dir, dsn)
	pollUntil(t, 90*time.Second, "every pulse's event is recorded", func() bool { return pulsesRecorded(t, db, doors) })
	pulses := 0
	for _, d := range doors {
		pulses += d.relay.Pulses()
	}
	checkScaleOutRecords(t, db, told)
	t.Logf("%d grants told, %d pulses, every one recorded once", len(told), pulses)

	// Every building's chain verifies against the checkpoints the killed
	// processes wrote (the last one maybe torn) and those of the last.
	var v struct {
		Intact bool `json:"intact"`
	}
	if err := (&benchAPI{base: base, client: client}).call(ctx, "GET", "/v1/audit/verification", operator, nil, &v, 200); err != nil {
		t.Fatal(err)
	}
	if !v.Intact {
		t.Fatal("GET /v1/audit/verification: not intact")
	}
	verify := []string{"audit", "verify", "--data-dir", dir}
	if dsn != "" {
		verify = append(verify, "--db", dsn)
	}
	var out bytes.Buffer
	if err := run(ctx, verify, &out, &out); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out.String())
	}
	t.Logf("audit intact; wall time %s", time.Since(began).Round(time.Millisecond))
}

// openFaultDB opens the run's database for reading beside the node.
func openFaultDB(t *testing.T, dir, dsn string) *sql.DB {
	t.Helper()
	driver, source := "pgx", dsn
	if dsn == "" {
		driver, source = "sqlite", "file:"+filepath.Join(dir, "doorman.db")+"?mode=ro&_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestFaults_ServerDiskFull fills the disk under `doorman serve`'s data
// dir (a small tmpfs: its SQLite database and checkpoints) while couriers
// keep asking for doors: the requests the store cannot commit get a clear
// error and open nothing, nothing already committed is damaged, and once
// space returns doors open again; then every pulse has its committed,
// audited grant, and the logs verify.
func TestFaults_ServerDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs doorman on a tmpfs")
	}
	mnt := tmpfs.Mount(t, "48m")
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := filepath.Join(mnt, "data")
	agents := t.TempDir() // the doors' own disks are not the server's
	httpAddr, natsAddr := "127.0.0.1:"+freePort(t), "127.0.0.1:"+freePort(t)
	node := start(t, "doorman", "serve", "--data-dir", dir, "--http-addr", httpAddr, "--nats-listen", natsAddr, "--log-format", "json",
		"--courier-rate-limit", "100000", "--door-rate-limit", "100000")
	operator := node.waitFor(t, regexp.MustCompile(`^(dmo_\S+)$`))
	node.waitFor(t, regexp.MustCompile(`"msg":"doorman (listening)"`))
	base := "http://" + httpAddr
	client := &http.Client{Timeout: 20 * time.Second}
	world, err := (&benchAPI{base: base, client: client}).setUp(ctx, operator, 2, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	relays := runFaultAgents(t, ctx, base, client, agents, world)

	lb := &retryingBalancer{client: client, nodes: []string{base}}
	told := map[string]bool{}
	ask := func(c benchCourier) (*accessAnswer, error) {
		body, _ := json.Marshal(map[string]any{"door_id": c.DoorID, "tracking_numbers": []string{c.Parcel}})
		res, err := lb.send(ctx, base, c.Token, body)
		if err == nil && res.Decision.Allowed && res.Grant != nil {
			told[res.Grant.ID] = true
		}
		return res, err
	}
	for i := range 20 {
		if res, err := ask(world.Couriers[i%len(world.Couriers)]); err != nil || !res.Decision.Allowed {
			t.Fatalf("before the disk filled: %+v %v", res, err)
		}
	}

	// The disk fills.
	filler := filepath.Join(mnt, "filler")
	tmpfs.Fill(t, filler)
	refused := 0
	var lastErr error
	for i := 0; i < 400 && refused < 20; i++ {
		res, err := ask(world.Couriers[i%len(world.Couriers)])
		if err != nil {
			refused++
			lastErr = err
		} else if !res.Decision.Allowed {
			t.Logf("refused with the disk full: %s (%s)", res.Decision.Reason, res.Decision.Detail)
		}
	}
	t.Logf("with the disk full: %d refused, the last: %v", refused, lastErr)
	if refused == 0 {
		t.Fatal("every request succeeded with the disk full")
	}

	// Space returns: doors open again, without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, 30*time.Second, "a door opens again once space returns", func() bool {
		res, err := ask(world.Couriers[0])
		return err == nil && res.Decision.Allowed
	})
	db := openFaultDB(t, dir, "")
	pollUntil(t, 60*time.Second, "every pulse's event is recorded", func() bool {
		return pulsesRecorded(t, db, relays)
	})
	checkScaleOutRecords(t, db, told)
	var v struct {
		Intact bool `json:"intact"`
	}
	if err := (&benchAPI{base: base, client: client}).call(ctx, "GET", "/v1/audit/verification", operator, nil, &v, 200); err != nil || !v.Intact {
		t.Fatalf("GET /v1/audit/verification: intact %v, %v", v.Intact, err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"audit", "verify", "--data-dir", dir}, &out, &out); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out.String())
	}
	t.Logf("%d grants told, all recorded; audit intact; wall time %s", len(told), time.Since(began).Round(time.Millisecond))
}

// runFaultAgents enrolls and runs a real agent (data under dir, a
// simulated relay) for each door of world until the test ends, each with
// its clock synced before it returns.
func runFaultAgents(t *testing.T, ctx context.Context, base string, client *http.Client, dir string, world *benchWorld) map[string]faultDoor {
	t.Helper()
	doors := map[string]faultDoor{}
	var running sync.WaitGroup
	agentCtx, stopAgents := context.WithCancel(context.Background())
	t.Cleanup(func() { stopAgents(); running.Wait() })
	for _, d := range world.Doors {
		dataDir := filepath.Join(dir, d.DoorID)
		if _, err := agent.Enroll(ctx, agent.EnrollOptions{Server: base, Code: d.Code, DataDir: dataDir, HTTPClient: client}); err != nil {
			t.Fatalf("enroll %s: %v", d.DoorID, err)
		}
		sim := relay.NewSim()
		a, err := agent.New(agent.Config{DataDir: dataDir, Relay: sim, HeartbeatInterval: 2 * time.Second,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		doors[d.DoorID] = faultDoor{sim, a}
		running.Add(1)
		go func() {
			defer running.Done()
			if err := a.Run(agentCtx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("agent %s: %v", d.DoorID, err)
			}
		}()
		pollUntil(t, 30*time.Second, "agent "+d.DoorID+" syncs its clock", func() bool { ok, _ := a.ClockSynced(); return ok })
	}
	return doors
}

// faultDoor is a door's simulated relay and its agent.
type faultDoor struct {
	relay *relay.Sim
	agent *agent.Agent
}

// pulsesRecorded tells whether every door's pulses have their
// unlock_executed events recorded in db and no agent keeps an event.
func pulsesRecorded(t *testing.T, db *sql.DB, doors map[string]faultDoor) bool {
	t.Helper()
	for id, d := range doors {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM device_events WHERE door_id = $1 AND kind = 'unlock_executed'`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != d.relay.Pulses() || d.agent.QueueLen() != 0 {
			return false
		}
	}
	return true
}

// TestFaults_RestoreOldBackup starts the control plane against its data
// dir restored from an earlier backup (the database, taken online with
// VACUUM INTO, and the checkpoint files of that moment), after doors
// opened and the door's device witnessed checkpoints the backup does not
// hold. The restored control plane opens no door for a grant it does not
// hold (every pulse since the restore is one of its grants), and the
// device's witnessed checkpoint, reported on its first heartbeat, reveals
// the rollback: `doorman audit verify` and the API's verification name
// the building's chain broken, entries removed.
func TestFaults_RestoreOldBackup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, dir, closeDemo := witnessDemo(t, ctx)
	serverDir := filepath.Join(dir, "server")
	courier, door, parcel := d.Tokens["pp-alice"], d.State.DoorID, d.State.AllowedParcel
	open := func(d *Demo) string {
		t.Helper()
		res := api(t, d.Main.URL(), "POST", "/v1/courier/access-requests", courier,
			map[string]any{"door_id": door, "tracking_numbers": []string{parcel}}, 200)
		grant, _ := res["grant"].(map[string]any)
		if allowed, _ := res["decision"].(map[string]any)["allowed"].(bool); !allowed || grant == nil {
			t.Fatalf("the courier was refused: %v", res)
		}
		return grant["id"].(string)
	}
	open(d)

	// The backup: the database online, and the checkpoint files.
	backup := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(serverDir, "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, filepath.Join(backup, "doorman.db")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.CopyFS(filepath.Join(backup, CheckpointDirName), os.DirFS(filepath.Join(serverDir, CheckpointDirName))); err != nil {
		t.Fatal(err)
	}

	// Life goes on: doors open, and the device witnesses the log grown.
	lost := map[string]bool{open(d): true, open(d): true}
	heads, err := d.Main.Store.AuditHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, h := range heads {
		if h.Chain == d.State.BuildingID {
			size = h.Seq
		}
	}
	waitUntil(t, ctx, func() bool { got, _, _ := d.Agent.AuditWitnessed(); return got >= size })
	witnessed, _, _ := d.Agent.AuditWitnessed()
	pulses := d.Relay.Pulses()
	if err := closeDemo(); err != nil {
		t.Fatal(err)
	}

	// The restore, as an operator would do it: the backup's files in place.
	for _, name := range []string{"doorman.db", "doorman.db-wal", "doorman.db-shm"} {
		if err := os.Remove(filepath.Join(serverDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(filepath.Join(serverDir, CheckpointDirName)); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(serverDir, os.DirFS(backup)); err != nil {
		t.Fatal(err)
	}

	cfg := d.Main.Config
	cfg.DataDir = ""
	restored, err := StartDemo(ctx, cfg, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	for g := range lost {
		if _, err := restored.Main.Store.Grant(ctx, g); doorman.ErrorCode(err) != doorman.ENOTFOUND {
			t.Fatalf("grant %s, issued after the backup, in the restored database: %v", g, err)
		}
	}
	// The door opens for the restored database's own grants only.
	again := open(restored)
	if _, err := restored.Main.Store.Grant(ctx, again); err != nil {
		t.Fatalf("the grant the restored control plane opened for: %v", err)
	}
	if got := restored.Relay.Pulses(); got != 1 {
		t.Fatalf("%d pulses since the restore, for 1 grant", got)
	}
	// The device reported its witnessed checkpoint on connecting.
	waitUntil(t, ctx, func() bool {
		ws, err := restored.Main.Store.AuditWitnesses(ctx, d.State.BuildingID)
		return err == nil && len(ws) == 1 && ws[0].Size == witnessed
	})
	var out bytes.Buffer
	err = run(ctx, []string{"audit", "verify", "--data-dir", serverDir}, &out, &out)
	if err == nil {
		t.Fatalf("the rolled-back log verified:\n%s", out.String())
	}
	for _, want := range []string{"chain " + d.State.BuildingID + " broken", "door " + door + "'s device witnessed a checkpoint of " + strconv.FormatInt(witnessed, 10) + " entries", "entries removed"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("audit verify said %q, lacking %q", out.String(), want)
		}
	}
	res := api(t, restored.Main.URL(), "GET", "/v1/audit/verification", restored.Operator, nil, 200)
	if res["intact"] != false {
		t.Fatalf("GET /v1/audit/verification after the rollback: %v", res)
	}
	t.Logf("%d pulses before the restore; the device witnessed %d entries, the backup held fewer; rollback named", pulses, witnessed)
}
