package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/relay"
)

// benchAgentsJob is what `doorman bench` hands one agents process on its
// standard input: the doors it plays, each with its enrollment code.
type benchAgentsJob struct {
	Server string `json:"server"`
	Dir    string `json:"dir"`
	// NATSURLs, when set, replace the servers the enrollment named (a
	// deployment whose advertised addresses the bench cannot reach).
	NATSURLs []string `json:"nats_urls,omitempty"`
	// ConnectRate is how many agents a second this process connects
	// (0: all at once).
	ConnectRate float64 `json:"connect_rate,omitempty"`
	// LogLevel is the agents' log level (default error).
	LogLevel string `json:"log_level,omitempty"`
	// Profile, when set, is where the process writes a CPU profile of
	// its agents from when it reads "profile" until its input closes.
	Profile string           `json:"profile,omitempty"`
	Doors   []benchAgentDoor `json:"doors"`
}

type benchAgentDoor struct {
	DoorID string `json:"door_id"`
	Code   string `json:"code"`
}

// benchAgentsEnrollers is how many agents of one process enroll at once:
// fewer than app.EnrollFailures, since the control plane counts an
// address's attempts before it checks them (and forgets them on success),
// so that parallel guesses cannot slip under its limit.
const benchAgentsEnrollers = 4

// runBenchAgents is the hidden `doorman bench-agents` command: one process
// that plays many doors for `doorman bench`, so that their CPU is counted
// apart from the server's. Each door is a real agent with its own data
// dir, NATS connection, credentials and command checks, enrolled with its
// code through the API and driving a simulated relay. It prints
// "enrolled N" as it goes and "waiting 0" once all are enrolled, connects
// them when it reads "connect", prints "ready N" once every agent has
// synced its clock, then runs until its standard input closes.
func runBenchAgents(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	var job benchAgentsJob
	dec := json.NewDecoder(stdin)
	if err := dec.Decode(&job); err != nil {
		return fmt.Errorf("bench-agents: read the job: %w", err)
	}
	in := bufio.NewReader(io.MultiReader(dec.Buffered(), stdin))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	level := slog.LevelError
	if job.LogLevel != "" {
		if err := level.UnmarshalText([]byte(job.LogLevel)); err != nil {
			return fmt.Errorf("bench-agents: log level %q: %w", job.LogLevel, err)
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	client := &http.Client{Timeout: time.Minute}
	agents := make([]*agent.Agent, len(job.Doors))
	var (
		mu       sync.Mutex
		enrolled int
		firstErr error
	)
	work := make(chan int)
	var wg sync.WaitGroup
	for range benchAgentsEnrollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				a, err := benchAgent(ctx, client, job, job.Doors[i], logger)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				agents[i] = a
				enrolled++
				if enrolled%200 == 0 || enrolled == len(job.Doors) {
					fmt.Fprintf(stdout, "enrolled %d\n", enrolled)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range job.Doors {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	// Enrolled, not yet connected: the bench measures the control plane
	// without them, then says connect.
	fmt.Fprintln(stdout, "waiting 0")
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return fmt.Errorf("bench-agents: waited for connect: %w", err)
		}
		if line = strings.TrimSpace(line); line == "connect" {
			break
		} else if line != "" {
			return fmt.Errorf("bench-agents: waited for connect, read %q", line)
		}
	}
	var running sync.WaitGroup
	start := time.Now()
	for i, a := range agents {
		if job.ConnectRate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / job.ConnectRate * float64(time.Second)))))
		}
		running.Add(1)
		go func() {
			defer running.Done()
			if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("bench-agents: agent stopped", "err", err)
			}
		}()
	}
	defer running.Wait()
	defer cancel()
	for i, a := range agents {
		for synced, _ := a.ClockSynced(); !synced; synced, _ = a.ClockSynced() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		if (i+1)%1000 == 0 {
			fmt.Fprintf(stdout, "synced %d\n", i+1)
		}
	}
	fmt.Fprintf(stdout, "ready %d\n", len(agents))
	// Until the bench closes our input: "profile" starts the CPU profile.
	profiling := false
	for {
		line, err := in.ReadString('\n')
		if strings.TrimSpace(line) == "profile" && job.Profile != "" && !profiling {
			f, ferr := os.Create(job.Profile)
			if ferr == nil {
				ferr = pprof.StartCPUProfile(f)
			}
			if ferr != nil {
				return fmt.Errorf("bench-agents: profile: %w", ferr)
			}
			profiling = true
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
		if err != nil {
			return nil
		}
	}
}

// benchAgent enrolls one door's agent and returns it, not yet running.
func benchAgent(ctx context.Context, client *http.Client, job benchAgentsJob, d benchAgentDoor, logger *slog.Logger) (*agent.Agent, error) {
	dir := filepath.Join(job.Dir, d.DoorID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Agent processes enroll side by side from one address: one refused
	// for too many attempts at once waits and tries again.
	var id *agent.Identity
	var err error
	for try := 0; ; try++ {
		id, err = agent.Enroll(ctx, agent.EnrollOptions{Server: job.Server, Code: d.Code, DataDir: dir, Force: true, HTTPClient: client})
		if doorman.ErrorCode(err) != doorman.ETOOMANYREQUEST || try == 20 {
			break
		}
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("bench-agents: enroll %s: %w", d.DoorID, err)
	}
	if len(job.NATSURLs) > 0 {
		id.NATSURLs = job.NATSURLs
		if err := agent.SaveIdentity(dir, id); err != nil {
			return nil, err
		}
	}
	return agent.New(agent.Config{DataDir: dir, Relay: relay.NewSim(), Logger: logger})
}
