package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/natsbus"
)

// duplicateFlagger hands the bus's reports of a device connected twice to
// the devices service, which audits them in the device's building. The bus
// opens before the services exist, so reports wait until set is called.
type duplicateFlagger struct {
	logger  *slog.Logger
	ready   chan struct{}
	devices *app.Devices
}

func newDuplicateFlagger(logger *slog.Logger) *duplicateFlagger {
	return &duplicateFlagger{logger: logger, ready: make(chan struct{})}
}

// set gives the flagger the devices service; call it once.
func (f *duplicateFlagger) set(d *app.Devices) {
	f.devices = d
	close(f.ready)
}

// flag is the bus's natsbus.Config.OnDuplicateConnection.
func (f *duplicateFlagger) flag(ctx context.Context, d natsbus.DuplicateConnection) {
	select {
	case <-f.ready:
	case <-ctx.Done():
		f.logger.Error("device connected twice, not audited: the control plane was not ready", "device", d.DeviceID, "detail", d.String())
		return
	}
	ctx = doorman.NewContextWithPrincipal(ctx, doorman.System())
	if err := f.devices.FlagDuplicateConnection(ctx, d.DeviceID, d.PublicKey, d.String()); err != nil {
		f.logger.Error("device connected twice, not audited", "device", d.DeviceID, "detail", d.String(), "err", err)
	}
}

// unverifiedAcksMetric counts the answers to unlock commands the bus
// ignored because they were not acks of that command signed by the door's
// active device: a rival connection, a broker injecting, or a device
// enrolled before acks were signed.
func unverifiedAcksMetric(bus *natsbus.Bus) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "doorman_bus_unverified_acks_total",
		Help: "Answers to unlock commands ignored because they were not signed by the door's active device for that command.",
	}, func() float64 { return float64(bus.UnverifiedAcks()) })
}
