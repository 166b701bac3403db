package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/internal/pgtest"
)

// How the scale-out test runs: courier requests for scaleOutBefore with
// every node up, then for scaleOutAfter with one control-plane node and
// one NATS server killed; from scaleOutSettle after the kill on, every
// request (retries included) must open its door.
const (
	scaleOutBefore  = 6 * time.Second
	scaleOutAfter   = 16 * time.Second
	scaleOutSettle  = 10 * time.Second
	scaleOutWorkers = 6
)

// TestScaleOut runs Doorman as a scaled-out deployment, every part a
// process of its own: two `doorman serve` nodes on one PostgreSQL and a
// three-server NATS cluster (external mode: TLS, JWT auth, the event
// stream on three servers). Four doors in two buildings have real agents
// on the cluster. Couriers' access requests go to both nodes in turn;
// mid-run one node and one NATS server are SIGKILLed, and requests the
// dead node does not answer are retried on the other, as a load balancer
// would. After the kill settles every request opens its door. Then the
// database shows nothing lost or doubled: every grant a courier was told
// of, and every pulse a door's relay made, has its grant and its audit
// entries, each event once; and every chain verifies against both nodes'
// signed checkpoints.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs doorman and nats-server")
	}
	if !pgtest.Configured() && os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: CI must run the scale-out test on PostgreSQL", pgtest.EnvDSN)
	}
	dsn := pgtest.Schema(t)
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	bus := startNATSCluster(t, 3)
	t.Logf("NATS cluster of 3 up after %s", time.Since(began).Round(time.Millisecond))

	dir := t.TempDir()
	// Rate limits out of the way, and a door's answer awaited for 10 s: on
	// a loaded machine an agent may take more than the default 3 s, and
	// the test is about the kill.
	dep := startTwoNodes(t, dir, dsn, bus, "--courier-rate-limit", "100000", "--door-rate-limit", "100000", "--command-timeout", "10s")
	node1, dir1, base2, operator := dep.nodes[0], dep.dirs[0], dep.bases[1], dep.operator
	nodes := dep.bases
	t.Logf("two control-plane nodes up after %s", time.Since(began).Round(time.Millisecond))

	// Two buildings of two doors, each with its carrier and couriers, set
	// up through both nodes.
	client := &http.Client{Timeout: 30 * time.Second}
	var world benchWorld
	for i, base := range nodes {
		w, err := (&benchAPI{base: base, client: client}).setUp(ctx, operator, 2, 6, nil)
		if err != nil {
			t.Fatalf("set up through node %d: %v", i+1, err)
		}
		world.Doors = append(world.Doors, w.Doors...)
		world.Couriers = append(world.Couriers, w.Couriers...)
	}

	// A real agent for each door, enrolled through one node or the other,
	// on the NATS cluster.
	relays := map[string]*relay.Sim{}
	var agents sync.WaitGroup
	agentCtx, stopAgents := context.WithCancel(context.Background())
	t.Cleanup(func() { stopAgents(); agents.Wait() })
	for i, d := range world.Doors {
		id, err := agent.Enroll(ctx, agent.EnrollOptions{Server: nodes[i%2], Code: d.Code, DataDir: filepath.Join(dir, "agent", d.DoorID), HTTPClient: client})
		if err != nil {
			t.Fatalf("enroll %s: %v", d.DoorID, err)
		}
		if len(id.NATSURLs) != 3 {
			t.Fatalf("the device was given %v, not the cluster's three servers", id.NATSURLs)
		}
		sim := relay.NewSim()
		a, err := agent.New(agent.Config{DataDir: filepath.Join(dir, "agent", d.DoorID), Relay: sim,
			HeartbeatInterval: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		relays[d.DoorID] = sim
		agents.Add(1)
		go func() {
			defer agents.Done()
			if err := a.Run(agentCtx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("agent %s: %v", d.DoorID, err)
			}
		}()
		pollUntil(t, 30*time.Second, "agent "+d.DoorID+" syncs its clock", func() bool { ok, _ := a.ClockSynced(); return ok })
	}
	t.Logf("4 doors with agents after %s", time.Since(began).Round(time.Millisecond))

	// The couriers' stream of requests, round robin over the nodes.
	lb := &retryingBalancer{client: client, nodes: nodes}
	var (
		mu       sync.Mutex
		results  []scaleOutResult
		killedAt atomic.Pointer[time.Time]
		next     atomic.Int64
	)
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for w := range scaleOutWorkers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for k := w; ; k += scaleOutWorkers {
				select {
				case <-stop:
					return
				default:
				}
				c := world.Couriers[k%len(world.Couriers)]
				r := lb.access(ctx, int(next.Add(1)), c)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(scaleOutBefore)
	// The NATS server killed is the first, which the doors and both
	// nodes list first: their connections to it must fail over, with the
	// events and the answers in flight on them.
	victim := 0
	if err := node1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Servers[victim].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	killedAt.Store(&now)
	lb.kill(0)
	node1.cmd.Wait()
	bus.Servers[victim].cmd.Wait()
	t.Logf("killed node 1 and NATS server n%d after %s", victim+1, time.Since(began).Round(time.Millisecond))
	time.Sleep(scaleOutAfter)
	close(stop)
	workers.Wait()

	told := checkScaleOutAnswers(t, results, now)
	if t.Failed() {
		t.FailNow()
	}
	// The database: the events of every pulse arrive (those node 1 or the
	// dead server held unanswered are sent again by their doors, which
	// keep them until a receipt comes), and nothing is lost or doubled.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pollUntil(t, 90*time.Second, "every pulse's event is recorded", func() bool {
		for door, sim := range relays {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM device_events WHERE door_id = $1 AND kind = 'unlock_executed'`, door).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != sim.Pulses() {
				return false
			}
		}
		return true
	})
	pulses := 0
	for _, sim := range relays {
		pulses += sim.Pulses()
	}
	checkScaleOutRecords(t, db, told)
	t.Logf("%d requests, %d grants told, %d pulses, all recorded once", len(results), len(told), pulses)

	// Every chain verifies, against the surviving node's checkpoints (the
	// API) and the killed node's (its files, the last record torn or not).
	var v struct {
		Intact bool `json:"intact"`
	}
	if err := (&benchAPI{base: base2, client: client}).call(ctx, "GET", "/v1/audit/verification", operator, nil, &v, 200); err != nil {
		t.Fatal(err)
	}
	if !v.Intact {
		t.Fatal("GET /v1/audit/verification on the surviving node: not intact")
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"audit", "verify", "--db", dsn, "--data-dir", dir1}, &out, &out); err != nil {
		t.Fatalf("audit verify against the killed node's checkpoints: %v\n%s", err, out.String())
	}
	t.Logf("audit intact on both nodes' checkpoints; wall time %s", time.Since(began).Round(time.Millisecond))
}

// twoNodes is a deployment of two `doorman serve` nodes on one
// PostgreSQL and an external NATS cluster.
type twoNodes struct {
	nodes    []*process
	bases    []string // the nodes' API base URLs
	dirs     []string // their data dirs
	operator string   // an operator token
}

// startTwoNodes starts two serve nodes, with data dirs under dir, on the
// database dsn and the cluster bus, with the flags extra besides: the
// first, then the second with the first's command and audit checkpoint
// keys, as docs/operations.md says.
func startTwoNodes(t *testing.T, dir, dsn string, bus *natsCluster, extra ...string) *twoNodes {
	t.Helper()
	serve := func(dataDir string) []string {
		return append([]string{"serve", "--data-dir", dataDir, "--db", dsn, "--http-addr", "127.0.0.1:0", "--log-format", "json",
			"--nats-url", bus.URL(), "--nats-creds", bus.Creds, "--nats-ca", bus.CAFile,
			"--nats-account-seed", bus.SeedFile, "--nats-tls-first"}, extra...)
	}
	listening := regexp.MustCompile(`"msg":"doorman listening".*"addr":"(http://[^"]+)"`)
	d := &twoNodes{dirs: []string{filepath.Join(dir, "node1"), filepath.Join(dir, "node2")}}
	first := start(t, "doorman", serve(d.dirs[0])...)
	d.operator = first.waitFor(t, regexp.MustCompile(`^(dmo_\S+)$`))
	d.nodes, d.bases = append(d.nodes, first), append(d.bases, first.waitFor(t, listening))
	if err := os.MkdirAll(d.dirs[1], 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CommandKeyName, AuditKeyName} {
		data, err := os.ReadFile(filepath.Join(d.dirs[0], name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d.dirs[1], name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	second := start(t, "doorman", serve(d.dirs[1])...)
	d.nodes, d.bases = append(d.nodes, second), append(d.bases, second.waitFor(t, listening))
	return d
}

// scaleOutResult is one courier request as the courier saw it: where it
// went, how often it was sent again, and the answer.
type scaleOutResult struct {
	sent, answered time.Time
	node           int // the node that answered
	retries        int // sends after the first
	err            error
	allowed        bool
	reason, detail string
	grantID        string
}

// retryingBalancer sends each request to the nodes in turn, and one a node
// does not answer (connection refused or reset, 5xx) to the next node, as
// a load balancer does; it stops sending to a node it was told is dead.
type retryingBalancer struct {
	client *http.Client
	nodes  []string
	dead   sync.Map // node index → true
}

func (b *retryingBalancer) kill(node int) { b.dead.Store(node, true) }

// access asks for courier c's door, starting at node n mod len(nodes)
// (unless that node is known dead, like a balancer that has noticed), for
// up to 30 seconds.
func (b *retryingBalancer) access(ctx context.Context, n int, c benchCourier) scaleOutResult {
	r := scaleOutResult{sent: time.Now()}
	node := n % len(b.nodes)
	body, _ := json.Marshal(map[string]any{"door_id": c.DoorID, "tracking_numbers": []string{c.Parcel}})
	for deadline := r.sent.Add(30 * time.Second); ; r.retries++ {
		res, err := b.send(ctx, b.nodes[node], c.Token, body)
		if err == nil {
			r.answered, r.node = time.Now(), node
			r.allowed, r.reason, r.detail = res.Decision.Allowed, res.Decision.Reason, res.Decision.Detail
			if res.Grant != nil {
				r.grantID = res.Grant.ID
			}
			return r
		}
		if time.Now().After(deadline) {
			r.err = err
			return r
		}
		node = (node + 1) % len(b.nodes)
		if _, dead := b.dead.Load(node); dead && r.retries > 0 {
			node = (node + 1) % len(b.nodes)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type accessAnswer struct {
	Decision struct {
		Allowed bool   `json:"allowed"`
		Reason  string `json:"reason"`
		Detail  string `json:"detail"`
	} `json:"decision"`
	Grant *struct {
		ID string `json:"id"`
	} `json:"grant"`
}

// send posts one access request; an answer other than 200 is an error.
func (b *retryingBalancer) send(ctx context.Context, base, token string, body []byte) (*accessAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/v1/courier/access-requests", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, data)
	}
	var a accessAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// checkScaleOutAnswers checks what the couriers were told and returns
// the grants they were told of: every request was answered; before the
// kill, and from scaleOutSettle after it, every one opened its door.
func checkScaleOutAnswers(t *testing.T, results []scaleOutResult, killed time.Time) map[string]bool {
	t.Helper()
	told := map[string]bool{}
	var before, window, after, retried, retriedAfter, deniedInWindow int
	for _, r := range results {
		if r.err != nil {
			t.Errorf("a request sent %s after the kill got no answer after %d retries: %v", r.sent.Sub(killed).Round(time.Millisecond), r.retries, r.err)
			continue
		}
		if r.allowed {
			if r.grantID == "" || told[r.grantID] {
				t.Errorf("grant %q told twice, or an opening without a grant", r.grantID)
			}
			told[r.grantID] = true
		}
		if r.retries > 0 {
			retried++
		}
		switch {
		case r.sent.Before(killed) && r.answered.Before(killed):
			before++
			if !r.allowed {
				t.Errorf("before the kill a request was refused: %s (%s)", r.reason, r.detail)
			}
		case r.sent.After(killed.Add(scaleOutSettle)):
			after++
			if r.retries > 0 {
				retriedAfter++
			}
			if !r.allowed {
				t.Errorf("%s after the kill a request (node %d, %d retries) was refused: %s (%s)",
					r.sent.Sub(killed).Round(time.Millisecond), r.node+1, r.retries, r.reason, r.detail)
			}
		default:
			window++
			if !r.allowed {
				deniedInWindow++
				t.Logf("while the kill settled: %s after it, %s (%s)", r.sent.Sub(killed).Round(time.Millisecond), r.reason, r.detail)
			}
		}
	}
	t.Logf("requests: %d before the kill, %d while it settled (%d refused), %d after; %d retried on the other node (%d after settling)",
		before, window, deniedInWindow, after, retried, retriedAfter)
	if before == 0 || after == 0 || retriedAfter == 0 {
		t.Errorf("the run did not cover the kill: %d requests before, %d after, %d retried after settling", before, after, retriedAfter)
	}
	return told
}

// checkScaleOutRecords checks the database against what the couriers and
// the doors saw.
func checkScaleOutRecords(t *testing.T, db *sql.DB, told map[string]bool) {
	t.Helper()
	query := func(q string, args ...any) []string {
		t.Helper()
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Every grant has exactly one access.granted entry, and every entry
	// its grant.
	granted := map[string]int{}
	for _, g := range query(`SELECT grant_id FROM audit_entries WHERE action = $1`, doorman.ActionAccessGranted) {
		granted[g]++
	}
	for g, n := range granted {
		if n != 1 {
			t.Errorf("grant %s has %d access.granted entries", g, n)
		}
	}
	grants := query(`SELECT id FROM grants`)
	for _, g := range grants {
		if granted[g] == 0 {
			t.Errorf("grant %s has no access.granted entry", g)
		}
	}
	if len(grants) != len(granted) {
		t.Errorf("%d grants, %d access.granted entries", len(grants), len(granted))
	}
	// Every grant a courier was told of was committed and audited, and
	// opened its door: its unlock_executed event is recorded.
	executed := map[string]int{}
	for _, g := range query(`SELECT grant_id FROM device_events WHERE kind = 'unlock_executed'`) {
		executed[g]++
	}
	for g := range told {
		if granted[g] != 1 {
			t.Errorf("the courier was told of grant %s, which has %d access.granted entries", g, granted[g])
		}
		if executed[g] != 1 {
			t.Errorf("the courier was told of grant %s, which the door reports executed %d times", g, executed[g])
		}
	}
	// Every pulse (one recorded event each, checked by the caller) had its
	// grant, audited; no grant opened twice.
	for g, n := range executed {
		if granted[g] != 1 || n != 1 {
			t.Errorf("an unlock_executed event of grant %q: the grant has %d access.granted entries and %d events", g, granted[g], n)
		}
	}
	// Every grant's use is chained once, as grant.used (by the door's ack
	// or its event, whichever came first).
	used := map[string]int{}
	for _, g := range query(`SELECT grant_id FROM audit_entries WHERE action = $1`, doorman.ActionGrantUsed) {
		used[g]++
	}
	for g := range executed {
		if used[g] != 1 {
			t.Errorf("grant %s opened its door and has %d grant.used entries", g, used[g])
		}
	}
	// Every unlock_executed event is in the chain once: beside its grant's
	// grant.used entry, alone in its own entry, or counted in one entry
	// for its device's window, or still counted in a window not closed
	// yet.
	type entry struct {
		grant, count string
		use          bool // a grant.used entry, which at most one event names
	}
	entries := map[string]entry{}
	rows, err := db.Query(`SELECT id, grant_id, event_count, action FROM audit_entries WHERE action IN ($1, $2)`,
		doorman.DeviceEventAction("unlock_executed"), doorman.ActionGrantUsed)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, grant, action string
		var count int64
		if err := rows.Scan(&id, &grant, &count, &action); err != nil {
			t.Fatal(err)
		}
		entries[id] = entry{grant, fmt.Sprint(count), action == doorman.ActionGrantUsed}
	}
	rows.Close()
	byEntry := map[string][]string{}
	rows, err = db.Query(`SELECT audit_id, grant_id FROM device_events WHERE kind = 'unlock_executed'`)
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for rows.Next() {
		var audit, grant string
		if err := rows.Scan(&audit, &grant); err != nil {
			t.Fatal(err)
		}
		if audit == "" {
			pending++
			continue
		}
		byEntry[audit] = append(byEntry[audit], grant)
	}
	rows.Close()
	for id, e := range entries {
		events := byEntry[id]
		switch {
		case e.use && (len(events) > 1 || len(events) == 1 && events[0] != e.grant):
			t.Errorf("grant.used entry %s (grant %s) stands for the events of grants %v", id, e.grant, events)
		case e.use:
		case e.count == "0" && (len(events) != 1 || events[0] != e.grant):
			t.Errorf("audit entry %s (grant %s) stands for the events of grants %v", id, e.grant, events)
		case e.count != "0" && e.count != fmt.Sprint(len(events)):
			t.Errorf("audit entry %s counts %s events, %d name it", id, e.count, len(events))
		}
		delete(byEntry, id)
	}
	for id, events := range byEntry {
		t.Errorf("%d events name audit entry %s, which is neither an unlock_executed nor a grant.used entry", len(events), id)
	}
	var counting int
	if err := db.QueryRow(`SELECT COALESCE(sum(counted), 0) FROM device_event_windows WHERE kind = 'unlock_executed'`).Scan(&counting); err != nil {
		t.Fatal(err)
	}
	if pending != counting {
		t.Errorf("%d events wait for their window's entry, the windows count %d", pending, counting)
	}
}

// pollUntil polls cond until it holds, failing the test after within.
func pollUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: not yet: %s", within, what)
		}
	}
}
