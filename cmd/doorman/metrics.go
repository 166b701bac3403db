package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/doorman-dev/doorman/natsbus"
	"github.com/doorman-dev/doorman/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newMetricsServer returns the server of the metrics listener: GET /metrics
// in the Prometheus text format from reg, and the Go runtime's profiles
// under /debug/pprof/ (CPU, heap, goroutines: what `doorman bench` and
// docs/performance.md use). It is apart from the API because metrics and
// profiles describe the deployment (routes, error rates, denial reasons,
// the program's insides) to its operators, not to couriers and carriers.
func newMetricsServer(reg *prometheus.Registry, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // a CPU profile takes as long as asked
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// storeStats is a store that counts its writes and commits (the SQL
// stores' group commit).
type storeStats interface {
	Stats() sqlstore.Stats
}

// storeMetrics exports the store's write and commit counts: on SQLite each
// commit is one fsync, so commits per unlock is the server's fsyncs per
// unlock in the database.
func storeMetrics(st storeStats) []prometheus.Collector {
	counter := func(name, help string, v func(sqlstore.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(st.Stats())) })
	}
	return []prometheus.Collector{
		counter("doorman_store_writes_total", "Writes the store committed (through its group commit).",
			func(s sqlstore.Stats) uint64 { return s.Writes }),
		counter("doorman_store_commits_total", "Transactions the store's group commit committed (one fsync each on SQLite).",
			func(s sqlstore.Stats) uint64 { return s.Commits }),
		counter("doorman_store_retries_total", "Batches the store ran again after a transient conflict.",
			func(s sqlstore.Stats) uint64 { return s.Retries }),
	}
}

// eventBacklog exports this node's device event service: events received
// and not yet recorded, and events answered busy (the device sends them
// again later). A count of busy answers that grows is a node that does not
// keep up with its doors; the events wait on the devices meanwhile.
type eventBacklog struct {
	bus           *natsbus.Bus
	pending, busy *prometheus.Desc
}

func newEventBacklog(bus *natsbus.Bus) *eventBacklog {
	return &eventBacklog{bus: bus,
		pending: prometheus.NewDesc("doorman_device_events_pending",
			"Device events this node received and has not yet recorded.", nil, nil),
		busy: prometheus.NewDesc("doorman_device_events_busy_total",
			"Device events this node answered busy, for the device to send again later.", nil, nil),
	}
}

func (e *eventBacklog) Describe(ch chan<- *prometheus.Desc) { ch <- e.pending; ch <- e.busy }

func (e *eventBacklog) Collect(ch chan<- prometheus.Metric) {
	b := e.bus.EventBacklog()
	ch <- prometheus.MustNewConstMetric(e.pending, prometheus.GaugeValue, float64(b.Pending))
	ch <- prometheus.MustNewConstMetric(e.busy, prometheus.CounterValue, float64(b.Busy))
}
