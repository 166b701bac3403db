package main

import (
	"context"
	"time"
)

// How often serve runs the alert sweeps and the retention job, and how
// long one run of each may take before it is abandoned (it is run again
// at the next tick; each is idempotent).
const (
	doorSweepEvery    = time.Minute
	chainCheckEvery   = 15 * time.Minute
	retentionEvery    = 24 * time.Hour
	doorSweepTimeout  = 30 * time.Second
	chainCheckTimeout = 5 * time.Minute
	retentionTimeout  = 30 * time.Minute
)

// runAlertJobs runs, until ctx ends, the door sweep (door.offline and
// door.online entries) every minute, the chain check (audit.chain_broken)
// every 15 minutes and the retention job once a day, starting a minute
// after the server does, each as the system principal and each run under
// its own deadline.
func (m *Main) runAlertJobs(ctx context.Context) {
	t := time.NewTicker(doorSweepEvery)
	defer t.Stop()
	var checked, retained time.Time
	run := func(name string, timeout time.Duration, job func(context.Context) error) {
		jctx, cancel := context.WithTimeout(systemContext(ctx), timeout)
		defer cancel()
		if err := job(jctx); err != nil && ctx.Err() == nil {
			m.Logger.Warn(name, "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		run("door status sweep", doorSweepTimeout, func(ctx context.Context) error {
			off, on, err := m.App.Alerts.SweepDoors(ctx)
			if off+on > 0 {
				m.Logger.Info("door status sweep", "offline", off, "online", on)
			}
			return err
		})
		if time.Since(checked) >= chainCheckEvery {
			checked = time.Now()
			run("audit chain check", chainCheckTimeout, func(ctx context.Context) error {
				_, err := m.App.Alerts.CheckChains(ctx)
				return err
			})
		}
		if time.Since(retained) >= retentionEvery {
			retained = time.Now()
			run("retention", retentionTimeout, func(ctx context.Context) error {
				counts, err := m.App.Retention.Enforce(ctx)
				m.Logger.Info("retention enforced", "buildings", len(counts))
				return err
			})
		}
	}
}
