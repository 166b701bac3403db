package main

import (
	"context"
	"time"
)

// How often serve sweeps for overdue returns, and how long one sweep may
// take before it is abandoned (it runs again at the next tick; a return is
// marked overdue once, in the same transaction as its entry).
const (
	returnSweepEvery   = time.Hour
	returnSweepTimeout = 5 * time.Minute
)

// runReturnSweep marks overdue returns (return.overdue entries, which the
// returns producer turns into email) every hour until ctx ends, starting
// an hour after the server does, as the system principal.
func (m *Main) runReturnSweep(ctx context.Context) {
	t := time.NewTicker(returnSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		jctx, cancel := context.WithTimeout(systemContext(ctx), returnSweepTimeout)
		n, err := m.App.Returns.SweepOverdue(jctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			m.Logger.Warn("overdue returns sweep", "err", err)
		} else if n > 0 {
			m.Logger.Info("overdue returns sweep", "marked", n)
		}
	}
}
