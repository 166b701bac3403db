package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/access"
)

// runBench measures Doorman on this machine, end to end on loopback:
//
//   - decide: access decisions committed per second through the access
//     service (load, decide, durable grant + audit commit), without a door;
//   - open: a courier's scan through the HTTP API to the door agent's
//     relay pulse and acknowledgement over the bus (scan-to-open latency).
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	cfg.LogLevel = "error"
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	requests := fs.Int("requests", 2000, "requests per measurement")
	concurrency := fs.Int("concurrency", 16, "concurrent requests for the throughput runs")
	fs.StringVar(&cfg.DB, "db", "", "PostgreSQL DSN to bench instead of SQLite (use an empty database)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	logger, err := cfg.Logger(stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "doorman-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.HTTPAddr, cfg.NATSListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.CourierRateLimit, cfg.DoorRateLimit = 1<<30, 1<<30 // measure the machine, not the limits
	d, err := StartDemo(ctx, cfg, dir, logger)
	if err != nil {
		return err
	}
	defer d.Close()

	store := "sqlite"
	if cfg.DB != "" {
		store = "postgres"
	}
	fmt.Fprintf(stdout, "doorman bench: %s store, embedded NATS, %d requests per run, loopback\n", store, *requests)
	fmt.Fprintf(stdout, "(one courier at one door with the rate limits lifted: the per-minute counts the limits\n"+
		"read grow with the run, which real traffic at ≤ %d requests per courier per minute never sees)\n\n", doorman.CourierRateLimit)
	fmt.Fprintf(stdout, "%-44s %10s %10s %10s %10s\n", "run", "req/s", "p50", "p99", "max")

	req := doorman.AccessRequest{CourierID: d.State.CourierIDs["pp-alice"], DoorID: d.State.DoorID, TrackingNumbers: []string{d.State.AllowedParcel}}
	decide := access.NewService(d.Main.Store, access.WithRateLimits(1<<30, 1<<30))
	decideOnce := func(ctx context.Context) error {
		res, err := decide.RequestAccess(systemContext(ctx), req)
		if err == nil && !res.Decision.Allowed {
			err = fmt.Errorf("refused: %s", res.Decision.Reason)
		}
		return err
	}
	body := map[string]any{"door_id": d.State.DoorID, "tracking_numbers": []string{d.State.AllowedParcel}}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}}
	openOnce := func(ctx context.Context) error {
		res, err := openDoor(ctx, client, d.Main.URL(), d.Tokens["pp-alice"], body)
		if err == nil && !res.Decision.Allowed {
			err = fmt.Errorf("refused: %s", res.Decision.Reason)
		}
		return err
	}
	runs := []struct {
		name string
		conc int
		fn   func(context.Context) error
	}{
		{"decide+commit, 1 at a time", 1, decideOnce},
		{fmt.Sprintf("decide+commit, %d at a time", *concurrency), *concurrency, decideOnce},
		{"scan-to-open via API+bus+agent, 1 at a time", 1, openOnce},
		{fmt.Sprintf("scan-to-open via API+bus+agent, %d at a time", *concurrency), *concurrency, openOnce},
	}
	for _, r := range runs {
		if err := r.fn(ctx); err != nil { // warm up, and fail early
			return fmt.Errorf("%s: %w", r.name, err)
		}
		res, err := measure(ctx, *requests, r.conc, r.fn)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		fmt.Fprintf(stdout, "%-44s %10.0f %10s %10s %10s\n", r.name, res.perSecond,
			res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.max.Round(time.Microsecond))
	}
	return nil
}

// benchResult summarises one measurement.
type benchResult struct {
	perSecond     float64
	p50, p99, max time.Duration
}

// measure calls fn n times from conc goroutines and summarises latencies.
func measure(ctx context.Context, n, conc int, fn func(context.Context) error) (*benchResult, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				if err := fn(ctx); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	return &benchResult{
		perSecond: float64(n) / elapsed.Seconds(),
		p50:       lat[n/2],
		p99:       lat[n*99/100],
		max:       lat[n-1],
	}, nil
}
