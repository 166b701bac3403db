package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/internal/bench"
)

// benchOptions are the flags of `doorman bench`.
type benchOptions struct {
	doors, couriers, inFlight     int
	rate                          float64
	duration, warmup              time.Duration
	db, server, token             string
	nats                          string
	jsonOut, svgOut               string
	agentDir                      string
	agentsPerProc                 int
	profile                       string
	connectRate                   float64
	agentLogLevel, serverLogLevel string
}

// benchReport is what `doorman bench --json` writes.
type benchReport struct {
	Config struct {
		Doors    int     `json:"doors"`
		Couriers int     `json:"couriers"`
		InFlight int     `json:"in_flight,omitempty"`
		Rate     float64 `json:"rate,omitempty"`
		Duration float64 `json:"duration_seconds"`
		Store    string  `json:"store"`
		Server   string  `json:"server"`
	} `json:"config"`
	UnlocksPerSecond float64        `json:"unlocks_per_second"`
	Unlocks          int            `json:"unlocks"`
	Failed           int            `json:"failed"`
	Errors           map[string]int `json:"errors"`
	Latency          bench.Latency  `json:"latency_ms"`
	Floor            *bench.Floor   `json:"floor_ms"`
	P50FloorRatio    float64        `json:"p50_floor_ratio"`
	// Server figures are absent when the bench targets a running
	// deployment (--server): its process is not ours to read.
	ServerCPUCores float64 `json:"server_cpu_cores,omitempty"`
	// AgentCPUCores and LoadCPUCores are what the door agents' processes
	// and the bench's own HTTP clients spent over the window, in cores: on
	// one box they share the machine with the server.
	AgentCPUCores float64 `json:"agent_cpu_cores,omitempty"`
	LoadCPUCores  float64 `json:"load_cpu_cores,omitempty"`
	// ServerStages are the server's mean time per access request in each
	// stage over the measured window: decide (load, decide, commit the
	// grant and its audit entry) and unlock (the door's round trip).
	ServerStages map[string]float64 `json:"server_stage_ms,omitempty"`
	// ServerCommitsPerUnlock and ServerWritesPerUnlock are the store's
	// commits (each one fsync on SQLite) and writes over the window, per
	// successful unlock; DeviceEventsPerSecond the device events the
	// server received, by kind. From the server's metrics.
	ServerCommitsPerUnlock float64            `json:"server_commits_per_unlock,omitempty"`
	ServerWritesPerUnlock  float64            `json:"server_writes_per_unlock,omitempty"`
	DeviceEventsPerSecond  map[string]float64 `json:"device_events_per_second,omitempty"`
	// DeviceEventsPending is how many device events the server had
	// received and not yet recorded, at the window's start and end, and
	// DeviceEventsBusy how many it answered busy (for the device to send
	// again later) in the window: busy answers are a rate of events the
	// node does not sustain, which waits on the doors meanwhile.
	DeviceEventsPending [2]float64 `json:"device_events_pending,omitzero"`
	DeviceEventsBusy    float64    `json:"device_events_busy,omitempty"`
	ServerPeakRSS       float64    `json:"server_peak_rss_mb,omitempty"`
	RSSPerDoorKB        float64    `json:"rss_per_door_kb,omitempty"`
	// ServerRSSConnected is the server's resident memory with every door
	// connected, before the load.
	ServerRSSConnected float64 `json:"server_rss_connected_mb,omitempty"`
}

// runBench is `doorman bench`: it measures scan-to-open with real traffic
// shape. It starts a control plane (`doorman serve`, embedded SQLite or
// --db, embedded NATS) in a process of its own unless --server names a
// running one, sets up buildings, doors, a carrier and a pool of couriers
// with parcels through the API, enrolls a real agent per door in separate
// agent processes (their state on a tmpfs, standing for each board's own
// disk), then has couriers scan at their doors through the API for the
// duration, with the default rate limits on, either C requests in flight
// (closed loop) or R arrivals a second (open loop). It measures the
// hardware floor in the same run, and prints and writes the figures.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := benchOptions{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.doors, "doors", 1000, "doors, each with its own agent")
	fs.IntVar(&o.couriers, "couriers", 20000, fmt.Sprintf("couriers in the pool; each scans at one door about every couriers/rate seconds, so the pool must be large enough that none exceeds its rate limit (%d a minute)", doorman.CourierRateLimit))
	fs.IntVar(&o.inFlight, "in-flight", 16, "closed loop: requests in flight (ignored with --rate)")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: arrivals per second, whether or not earlier ones were answered")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long to measure")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "load before measuring, not counted")
	fs.StringVar(&o.db, "db", "", "PostgreSQL DSN for the control plane the bench starts (empty: SQLite)")
	fs.StringVar(&o.server, "server", "", "API base URL of a running deployment to bench instead of starting one (needs --token); several, comma-separated, are the nodes of one deployment: the set-up goes through the first, the requests to each in turn")
	fs.StringVar(&o.token, "token", "", "with --server: an operator token")
	fs.StringVar(&o.nats, "nats", "", "NATS URLs the agents connect to, comma-separated (default: those enrollment names)")
	fs.StringVar(&o.jsonOut, "json", "", "write the figures as JSON to this file")
	fs.StringVar(&o.svgOut, "svg", "", "write the plot of throughput and latency over time to this SVG file (default: the --json file with .svg)")
	fs.StringVar(&o.agentDir, "agent-dir", "", "directory for the agents' state (default: a directory under /dev/shm)")
	fs.IntVar(&o.agentsPerProc, "agents-per-process", 4000, "agents per agent process (each needs a few file descriptors)")
	fs.Float64Var(&o.connectRate, "connect-rate", 150, "doors connecting per second, all agent processes together (0: all at once, the storm after a server restart; on a 2-core box shared with the agents, 500/s for 10,000 doors already churns)")
	fs.StringVar(&o.agentLogLevel, "agent-log-level", "error", "the agents' log level (debug, info, warn, error), on stderr")
	fs.StringVar(&o.serverLogLevel, "server-log-level", "error", "the log level of the server the bench starts (debug, info, warn, error), on stderr")
	fs.StringVar(&o.profile, "profile", "", "write a CPU profile of the server over the measured window to this file, and one of the first agents process to FILE.agents (go tool pprof reads both)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.doors < 1 || o.couriers < 1 || o.duration <= 0 || (o.rate <= 0 && o.inFlight < 1) {
		return errors.New("bench needs --doors, --couriers and --duration above 0, and --in-flight or --rate")
	}
	if o.server != "" && o.token == "" {
		return errors.New("bench --server needs --token (an operator token of that deployment)")
	}
	if o.svgOut == "" && o.jsonOut != "" {
		o.svgOut = strings.TrimSuffix(o.jsonOut, filepath.Ext(o.jsonOut)) + ".svg"
	}
	return benchRun(ctx, o, stdout, stderr)
}

func benchRun(ctx context.Context, o benchOptions, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "doorman-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	agentDir := o.agentDir
	if agentDir != "" {
		if err := os.MkdirAll(agentDir, 0o700); err != nil {
			return err
		}
	} else {
		base := "/dev/shm"
		if st, err := os.Stat(base); err != nil || !st.IsDir() {
			base = ""
		}
		if agentDir, err = os.MkdirTemp(base, "doorman-bench-agents-"); err != nil {
			return err
		}
		defer os.RemoveAll(agentDir)
	}

	rep := &benchReport{}
	rep.Config.Doors, rep.Config.Couriers, rep.Config.Duration = o.doors, o.couriers, o.duration.Seconds()
	if o.rate > 0 {
		rep.Config.Rate = o.rate
	} else {
		rep.Config.InFlight = o.inFlight
	}
	rep.Config.Store = "sqlite"
	if o.db != "" {
		rep.Config.Store = "postgres"
	}

	// The floor first, on a quiet machine: the server's durable write where
	// its database lives, the device's where the agents keep their state.
	fmt.Fprintln(stderr, "bench: measuring the hardware floor")
	if rep.Floor, err = bench.MeasureFloor(ctx, work, agentDir, 2000); err != nil {
		return err
	}

	base, token, serverPID, metrics := o.server, o.token, 0, ""
	var srv *benchServer
	if base == "" {
		if srv, err = benchStartServer(ctx, self, o, work, stderr); err != nil {
			return err
		}
		defer func() { srv.stop() }()
		base, token, serverPID, metrics = srv.base, srv.token, srv.cmd.Process.Pid, srv.metrics
		fmt.Fprintf(stderr, "bench: control plane at %s (pid %d), its metrics and profiles at %s/debug/pprof/\n", base, serverPID, metrics)
		rep.Config.Server = "started by the bench"
	} else {
		rep.Config.Server = base
		rep.Config.Store = "as deployed"
	}
	var nodes []string
	for _, b := range strings.Split(base, ",") {
		nodes = append(nodes, strings.TrimRight(strings.TrimSpace(b), "/"))
	}
	api := &benchAPI{base: nodes[0], client: &http.Client{Timeout: time.Minute}}

	bar := benchBar(stderr, int64(benchSetUpCalls(o.doors, o.couriers)), "setting up through the API")
	world, err := api.setUp(ctx, token, o.doors, o.couriers, func() { _ = bar.Add(1) })
	_ = bar.Finish()
	if err != nil {
		return fmt.Errorf("bench: set up: %w", err)
	}

	// Memory per connected door: the control plane the bench started is
	// restarted once every door is enrolled (so that what setting up and
	// enrolling left behind does not count), measured, and measured again
	// once every door is connected and synced.
	var before bench.ProcStat
	enrolled := func() error {
		if srv == nil {
			return nil
		}
		if err := srv.restart(ctx, stderr); err != nil {
			return err
		}
		serverPID = srv.cmd.Process.Pid
		time.Sleep(2 * time.Second) // let it settle
		st, err := bench.ReadProc(serverPID)
		before = st
		return err
	}
	agents, err := benchStartAgents(ctx, self, o, api.base, agentDir, world.Doors, enrolled, stderr)
	if err != nil {
		return err
	}
	defer agents.stop()
	if srv != nil {
		time.Sleep(3 * time.Second) // let the connections settle
		with, err := bench.ReadProc(serverPID)
		if err != nil {
			return err
		}
		rep.RSSPerDoorKB = float64(with.RSSKB-before.RSSKB) / float64(o.doors)
		rep.ServerRSSConnected = float64(with.RSSKB) / 1024
	}

	// The events the doors sent while connecting (a heartbeat each, and
	// their time syncs' and checkpoints') are recorded before the load, so
	// that the window's own events do not queue behind them.
	if metrics != "" {
		benchDrainEvents(ctx, metrics, stderr)
	}

	// The load.
	// At most benchMaxConns connections a node: an open loop past what the
	// server can take would otherwise open connections until the bench's
	// own file descriptors ran out; requests beyond them wait for one,
	// their latency still counted from when they were due.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: benchMaxConns, MaxIdleConnsPerHost: benchMaxConns, MaxConnsPerHost: benchMaxConns,
		IdleConnTimeout: time.Minute}}
	do := benchRequest(client, nodes, world.Couriers)
	start := time.Now()
	win := bench.Window{From: start.Add(o.warmup), Until: start.Add(o.warmup + o.duration)}
	rec := bench.NewRecorder(win.From)
	shape := fmt.Sprintf("%d in flight", o.inFlight)
	if o.rate > 0 {
		shape = fmt.Sprintf("%.0f arrivals/s", o.rate)
	}
	fmt.Fprintf(stderr, "bench: %d doors, %d couriers, %s, %s warm-up, %s measured\n", o.doors, o.couriers, shape, o.warmup, o.duration)
	stagesFrom := make(chan benchMetrics, 1)
	profiled := make(chan error, 1)
	if o.profile != "" && len(agents.ins) > 0 {
		go func() {
			time.Sleep(time.Until(win.From))
			fmt.Fprintln(agents.ins[0], "profile")
		}()
	}
	if metrics != "" {
		go func() {
			time.Sleep(time.Until(win.From))
			stagesFrom <- benchReadMetrics(metrics)
			if o.profile == "" {
				profiled <- nil
				return
			}
			profiled <- benchProfile(ctx, metrics, o.duration, o.profile)
		}()
	} else {
		profiled <- nil
	}
	done := make(chan struct{})
	groups := map[string][]int{"load": {os.Getpid()}}
	if serverPID != 0 {
		groups["server"] = []int{serverPID}
	}
	for _, p := range agents.procs {
		groups["agents"] = append(groups["agents"], p.Process.Pid)
	}
	cpu := newBenchCPU(groups)
	go benchWatch(ctx, done, win, rec, cpu, stderr)
	if o.rate > 0 {
		bench.Open(ctx, o.rate, 50000, win, rec, do)
	} else {
		bench.Closed(ctx, o.inFlight, win, rec, do)
	}
	close(done)
	if metrics != "" {
		to, from := benchReadMetrics(metrics), <-stagesFrom
		rep.ServerStages = map[string]float64{}
		for stage, v := range to.stages {
			if n := v[1] - from.stages[stage][1]; n > 0 {
				rep.ServerStages[stage] = (v[0] - from.stages[stage][0]) / n * 1000
			}
		}
		delta := func(name string) float64 { return to.counters[name] - from.counters[name] }
		if unlocks := float64(rec.Result().OK); unlocks > 0 {
			rep.ServerCommitsPerUnlock = delta("doorman_store_commits_total") / unlocks
			rep.ServerWritesPerUnlock = delta("doorman_store_writes_total") / unlocks
		}
		rep.DeviceEventsPending = [2]float64{from.counters["doorman_device_events_pending"], to.counters["doorman_device_events_pending"]}
		rep.DeviceEventsBusy = delta("doorman_device_events_busy_total")
		rep.DeviceEventsPerSecond = map[string]float64{}
		for name := range to.counters {
			if kind, ok := strings.CutPrefix(name, `doorman_device_events_total{kind="`); ok {
				rep.DeviceEventsPerSecond[strings.TrimSuffix(kind, `"}`)] = delta(name) / o.duration.Seconds()
			}
		}
	}
	if err := <-profiled; err != nil {
		return err
	}
	res := rec.Result()
	rep.Unlocks, rep.Failed, rep.Errors, rep.Latency = res.OK, res.Failed, res.Errors, res.Latency
	rep.UnlocksPerSecond = float64(res.OK) / o.duration.Seconds()
	if rep.Floor.Total > 0 {
		rep.P50FloorRatio = rep.Latency.P50 / rep.Floor.Total
	}
	cores := cpu.cores(o.duration)
	rep.AgentCPUCores, rep.LoadCPUCores = cores["agents"], cores["load"]
	if serverPID != 0 {
		end, err := bench.ReadProc(serverPID)
		if err != nil {
			return err
		}
		rep.ServerCPUCores = cores["server"]
		rep.ServerPeakRSS = float64(end.PeakRSSKB) / 1024
	}
	benchPrint(stdout, rep)
	if o.jsonOut != "" {
		buf, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(buf, '\n'), 0o644); err != nil {
			return err
		}
	}
	if o.svgOut != "" {
		var b bytes.Buffer
		title := fmt.Sprintf("doorman bench: %d doors, %s, %s store", o.doors, shape, rep.Config.Store)
		if err := bench.WritePlot(&b, title, res.Seconds); err != nil {
			return err
		}
		if err := os.WriteFile(o.svgOut, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// benchRequest returns the request of the load: courier i mod the pool
// scans its parcel at its door through the API of node i mod the nodes.
// Couriers take turns, so each scans about every len(couriers)/rate
// seconds.
func benchRequest(client *http.Client, nodes []string, couriers []benchCourier) bench.Do {
	bodies := make([][]byte, len(couriers))
	for i, c := range couriers {
		bodies[i], _ = json.Marshal(map[string]any{"door_id": c.DoorID, "tracking_numbers": []string{c.Parcel}})
	}
	return func(ctx context.Context, i int) string {
		k := i % len(couriers)
		req, err := http.NewRequestWithContext(ctx, "POST", nodes[i%len(nodes)]+"/v1/courier/access-requests", bytes.NewReader(bodies[k]))
		if err != nil {
			return "request: " + err.Error()
		}
		req.Header.Set("Authorization", "Bearer "+couriers[k].Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "cancelled"
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return "client timeout"
			}
			return "transport error"
		}
		defer resp.Body.Close()
		var out struct {
			Decision struct {
				Allowed bool
				Reason  string
			}
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
		switch {
		case resp.StatusCode != http.StatusOK:
			return "http " + strconv.Itoa(resp.StatusCode)
		case err != nil:
			return "unreadable answer"
		case !out.Decision.Allowed:
			return out.Decision.Reason
		}
		return ""
	}
}

// benchWatch shows the run's progress and notes the server's CPU time
// when the measured window opens and closes.
func benchWatch(ctx context.Context, done <-chan struct{}, win bench.Window, rec *bench.Recorder, cpu *benchCPU, stderr io.Writer) {
	total := win.Until.Sub(win.From) + time.Until(win.From)
	bar := benchBar(stderr, int64(total/time.Second), "load")
	defer bar.Finish()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	started := time.Now()
	opened, closed := false, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			if !closed {
				cpu.read(false)
			}
			return
		case now := <-t.C:
			if !opened && !now.Before(win.From) {
				cpu.read(true)
				opened = true
			}
			if !closed && !now.Before(win.Until) {
				cpu.read(false)
				closed = true
			}
			ok, failed := rec.Counts()
			rate := 0.0
			if s := now.Sub(win.From).Seconds(); s > 0 {
				rate = float64(ok) / s
			}
			bar.Describe(fmt.Sprintf("load: %d unlocks (%.0f/s), %d failed", ok, rate, failed))
			_ = bar.Set64(int64(now.Sub(started) / time.Second))
		}
	}
}

// benchCPU reads the CPU time of groups of processes (the server, the
// agents, the bench's load) at the window's start and end.
type benchCPU struct {
	groups   map[string][]int
	mu       sync.Mutex
	from, to map[string]time.Duration
}

func newBenchCPU(groups map[string][]int) *benchCPU {
	return &benchCPU{groups: groups, from: map[string]time.Duration{}, to: map[string]time.Duration{}}
}

// read records each group's CPU time so far, as the window's start or end.
func (c *benchCPU) read(start bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	into := c.to
	if start {
		into = c.from
	}
	for name, pids := range c.groups {
		var sum time.Duration
		for _, pid := range pids {
			if st, err := bench.ReadProc(pid); err == nil {
				sum += st.CPU
			}
		}
		into[name] = sum
	}
}

// cores returns each group's CPU time over the window, in cores.
func (c *benchCPU) cores(window time.Duration) map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]float64{}
	for name := range c.groups {
		if d := c.to[name] - c.from[name]; d > 0 {
			out[name] = d.Seconds() / window.Seconds()
		}
	}
	return out
}

// benchBar is a progress bar on stderr.
// Written to a file or a pipe rather than a terminal, it stays silent: its
// redraws would fill a log with hundreds of lines.
func benchBar(w io.Writer, max int64, what string) *progressbar.ProgressBar {
	f, ok := w.(*os.File)
	visible := ok && term.IsTerminal(int(f.Fd()))
	return progressbar.NewOptions64(max, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionSetWidth(30), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowCount(),
		progressbar.OptionSetVisibility(visible),
		progressbar.OptionOnCompletion(func() {
			if visible {
				fmt.Fprintln(w)
			}
		}))
}

// benchPrint prints the figures for people.
func benchPrint(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "doorman bench: %d doors, %d couriers, %s store, server %s\n", r.Config.Doors, r.Config.Couriers, r.Config.Store, r.Config.Server)
	if r.Config.Rate > 0 {
		fmt.Fprintf(w, "open loop at %.0f arrivals/s for %.0f s\n", r.Config.Rate, r.Config.Duration)
	} else {
		fmt.Fprintf(w, "closed loop, %d in flight, for %.0f s\n", r.Config.InFlight, r.Config.Duration)
	}
	fmt.Fprintf(w, "unlocks/s          %10.0f   (%d unlocks, %d failed)\n", r.UnlocksPerSecond, r.Unlocks, r.Failed)
	l := r.Latency
	fmt.Fprintf(w, "scan-to-open ms    p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n", l.P50, l.P95, l.P99, l.Max)
	f := r.Floor
	fmt.Fprintf(w, "floor ms           %.3f = NATS request/reply %.3f + Ed25519 sign+verify %.3f + durable writes %.3f (server) + %.3f (device)\n",
		f.Total, f.NATSRequestReply, f.SignVerify, f.ServerWrite, f.DeviceWrite)
	fmt.Fprintf(w, "p50 / floor        %10.1f\n", r.P50FloorRatio)
	if len(r.ServerStages) > 0 {
		fmt.Fprintf(w, "server mean ms     decide %.2f  unlock %.2f\n", r.ServerStages["decide"], r.ServerStages["unlock"])
	}
	if r.ServerPeakRSS > 0 {
		fmt.Fprintf(w, "server             %.2f cores, peak RSS %.0f MB, %.1f KB per connected door\n", r.ServerCPUCores, r.ServerPeakRSS, r.RSSPerDoorKB)
	}
	if r.ServerCommitsPerUnlock > 0 {
		fmt.Fprintf(w, "server store       %.2f commits, %.2f writes per unlock\n", r.ServerCommitsPerUnlock, r.ServerWritesPerUnlock)
	}
	if len(r.DeviceEventsPerSecond) > 0 {
		var parts []string
		for _, kind := range slices.Sorted(maps.Keys(r.DeviceEventsPerSecond)) {
			parts = append(parts, fmt.Sprintf("%s %.1f", kind, r.DeviceEventsPerSecond[kind]))
		}
		fmt.Fprintf(w, "device events/s    %s\n", strings.Join(parts, ", "))
	}
	if r.DeviceEventsPending != [2]float64{} || r.DeviceEventsBusy > 0 {
		fmt.Fprintf(w, "device events      %.0f → %.0f received and not yet recorded, %.0f answered busy\n",
			r.DeviceEventsPending[0], r.DeviceEventsPending[1], r.DeviceEventsBusy)
	}
	if r.AgentCPUCores > 0 || r.LoadCPUCores > 0 {
		fmt.Fprintf(w, "agents, load       %.2f cores (door agents), %.2f cores (the bench's HTTP clients)\n", r.AgentCPUCores, r.LoadCPUCores)
	}
	for reason, n := range r.Errors {
		fmt.Fprintf(w, "  failed: %-40s %d\n", reason, n)
	}
}

// benchServer is a control plane the bench started.
type benchServer struct {
	cmd                  *exec.Cmd
	base, token, metrics string
}

func (s *benchServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// restart stops the control plane and starts it again on the same
// addresses and data, and waits until it is ready.
func (s *benchServer) restart(ctx context.Context, stderr io.Writer) error {
	s.stop()
	cmd := exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = stderr, stderr, benchChild()
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	return s.waitReady(ctx)
}

// waitReady polls /readyz for up to a minute.
func (s *benchServer) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.New("bench: the control plane did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// benchStartServer makes an operator token and starts `doorman serve` on
// free loopback ports, and waits until it is ready.
func benchStartServer(ctx context.Context, self string, o benchOptions, work string, stderr io.Writer) (*benchServer, error) {
	dataDir := filepath.Join(work, "server")
	store := []string{"--data-dir", dataDir}
	if o.db != "" {
		store = append(store, "--db", o.db)
	}
	out, err := exec.CommandContext(ctx, self, append([]string{"admin", "create-operator-token", "--name", "bench"}, store...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("bench: create an operator token: %w", err)
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) == 0 {
		return nil, errors.New("bench: no operator token")
	}
	httpAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	natsAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	metricsAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{"serve", "--http-addr", httpAddr, "--nats-listen", natsAddr,
		"--metrics-addr", metricsAddr, "--log-level", o.serverLogLevel}, store...)...)
	cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = stderr, stderr, benchChild()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &benchServer{cmd: cmd, base: "http://" + httpAddr, token: lines[len(lines)-1], metrics: "http://" + metricsAddr}
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// freeLoopbackAddr returns a loopback address with a port free a moment ago.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// benchAgents are the agent processes the bench started.
type benchAgents struct {
	procs []*exec.Cmd
	ins   []io.WriteCloser
}

func (a *benchAgents) stop() {
	for _, in := range a.ins {
		in.Close()
	}
	for _, p := range a.procs {
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
}

// benchStartAgents starts the agent processes, hands each its share of
// the doors, waits until every agent is enrolled, calls enrolled, then
// has them connect and waits until every agent is synced.
func benchStartAgents(ctx context.Context, self string, o benchOptions, server, dir string, doors []benchAgentDoor, enrolled func() error, stderr io.Writer) (*benchAgents, error) {
	a := &benchAgents{}
	bar := benchBar(stderr, int64(len(doors)), "enrolling agents")
	defer bar.Finish()
	var urls []string
	if o.nats != "" {
		urls = strings.Split(o.nats, ",")
	}
	type status struct {
		enrolled int
		err      error
	}
	updates := make(chan status, 64)
	procs := 0
	for from := 0; from < len(doors); from += o.agentsPerProc {
		share := doors[from:min(from+o.agentsPerProc, len(doors))]
		cmd := exec.Command(self, "bench-agents")
		cmd.Stderr, cmd.SysProcAttr = stderr, benchChild()
		in, err := cmd.StdinPipe()
		if err != nil {
			return a, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return a, err
		}
		if err := cmd.Start(); err != nil {
			return a, err
		}
		a.procs, a.ins = append(a.procs, cmd), append(a.ins, in)
		procs++
		job := benchAgentsJob{Server: server, Dir: dir, NATSURLs: urls, Doors: share, LogLevel: o.agentLogLevel}
		if o.profile != "" && procs == 1 {
			job.Profile = o.profile + ".agents"
		}
		if o.connectRate > 0 {
			job.ConnectRate = o.connectRate * float64(len(share)) / float64(len(doors))
		}
		if err := json.NewEncoder(in).Encode(job); err != nil {
			return a, err
		}
		go func() {
			sc := bufio.NewScanner(out)
			last := 0
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 2 {
					continue
				}
				n, _ := strconv.Atoi(f[1])
				switch f[0] {
				case "enrolled":
					updates <- status{enrolled: n - last}
					last = n
				case "waiting":
					updates <- status{enrolled: -2}
				case "ready":
					updates <- status{enrolled: -1}
				}
			}
			updates <- status{err: errors.New("bench: an agent process stopped (its errors are above)")}
		}()
	}
	waiting, ready := 0, 0
	for ready < procs {
		select {
		case <-ctx.Done():
			a.stop()
			return nil, ctx.Err()
		case u := <-updates:
			switch {
			case u.err != nil:
				a.stop()
				return nil, u.err
			case u.enrolled == -2:
				if waiting++; waiting < procs {
					continue
				}
				if err := enrolled(); err != nil {
					a.stop()
					return nil, err
				}
				for _, in := range a.ins {
					if _, err := io.WriteString(in, "connect\n"); err != nil {
						a.stop()
						return nil, err
					}
				}
			case u.enrolled == -1:
				ready++
			default:
				_ = bar.Add(u.enrolled)
			}
		}
	}
	return a, nil
}

// benchMaxConns is how many connections the bench's load opens to one
// node: as many as the server takes by default (its --max-connections).
const benchMaxConns = 4096

// benchMetrics is what the bench reads of the server's metrics: the
// access-decision histogram's sum of seconds and count by stage, and the
// counters it reports per unlock or per second (by name and labels, as
// the text format writes them).
type benchMetrics struct {
	stages   map[string][2]float64
	counters map[string]float64
}

// benchDrainWait bounds how long the bench waits for the device events
// of the doors' connecting to be recorded before it starts the load.
const benchDrainWait = 3 * time.Minute

// benchDrainEvents waits, up to benchDrainWait, until the server has at
// most 100 device events received and not yet recorded and answered none
// busy for two seconds: the events the doors queued are then in. A server
// that does not export the figures (an older deployment, or an
// unanswered scrape five times in a row) is not waited for.
func benchDrainEvents(ctx context.Context, metrics string, stderr io.Writer) {
	const enough = 100
	deadline := time.Now().Add(benchDrainWait)
	said, missing := false, 0
	lastBusy, quiet := -1.0, 0
	for ctx.Err() == nil && time.Now().Before(deadline) {
		c := benchReadMetrics(metrics).counters
		pending, ok := c["doorman_device_events_pending"]
		busy := c["doorman_device_events_busy_total"]
		if !ok {
			if missing++; missing >= 5 {
				return
			}
		} else {
			missing = 0
			if busy == lastBusy && pending <= enough {
				quiet++
			} else {
				quiet = 0
			}
			lastBusy = busy
			if quiet >= 2 {
				return
			}
		}
		if ok && !said && quiet == 0 {
			fmt.Fprintf(stderr, "bench: waiting for the doors' queued device events to be recorded (up to %s)\n", benchDrainWait)
			said = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// benchMetricsClient reads the server's metrics.
var benchMetricsClient = &http.Client{Timeout: 10 * time.Second}

// benchCounters are the counters benchReadMetrics keeps.
var benchCounters = []string{"doorman_store_commits_total", "doorman_store_writes_total", "doorman_device_events_total",
	"doorman_device_events_pending", "doorman_device_events_busy_total"}

// benchReadMetrics reads the server's metrics (empty when it cannot).
func benchReadMetrics(metrics string) benchMetrics {
	out := benchMetrics{stages: map[string][2]float64{}, counters: map[string]float64{}}
	resp, err := benchMetricsClient.Get(metrics + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	const name = "doorman_access_decision_seconds_"
	for sc.Scan() {
		text := sc.Text()
		for _, c := range benchCounters {
			if strings.HasPrefix(text, c+" ") || strings.HasPrefix(text, c+"{") {
				series, value, _ := strings.Cut(text, " ")
				if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					out.counters[series] = v
				}
			}
		}
		line, ok := strings.CutPrefix(text, name)
		if !ok {
			continue
		}
		kind, rest, _ := strings.Cut(line, "{")
		if kind != "sum" && kind != "count" {
			continue
		}
		labels, value, _ := strings.Cut(rest, "} ")
		stage, ok := strings.CutPrefix(labels, `stage="`)
		if !ok {
			continue
		}
		stage = strings.TrimSuffix(stage, `"`)
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		cur := out.stages[stage]
		if kind == "sum" {
			cur[0] = v
		} else {
			cur[1] = v
		}
		out.stages[stage] = cur
	}
	return out
}

// benchProfile fetches a CPU profile of the server over d into file.
func benchProfile(ctx context.Context, metrics string, d time.Duration, file string) error {
	secs := max(int(d/time.Second), 1)
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", metrics, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("bench: CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: CPU profile: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
