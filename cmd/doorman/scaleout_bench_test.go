package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/internal/pgtest"
)

// TestScaleOutBench runs `doorman bench` against the deployment
// TestScaleOut kills a part of: two serve nodes on PostgreSQL (the
// default rate limits) and a three-server NATS cluster. It runs only when
// DOORMAN_SCALEOUT_BENCH holds the bench's flags (say "--doors 200
// --couriers 4000 --duration 30s --json /tmp/two-nodes.json");
// DOORMAN_SCALEOUT_BENCH_NODES=1 sends the load to the first node only,
// for comparison. docs/scale-out-bench.md has the figures.
func TestScaleOutBench(t *testing.T) {
	flags := os.Getenv("DOORMAN_SCALEOUT_BENCH")
	if flags == "" {
		t.Skip("DOORMAN_SCALEOUT_BENCH is not set: no bench")
	}
	dsn := pgtest.Schema(t)
	bus := startNATSCluster(t, 3)
	dep := startTwoNodes(t, t.TempDir(), dsn, bus)
	servers := dep.bases
	if os.Getenv("DOORMAN_SCALEOUT_BENCH_NODES") == "1" {
		servers = servers[:1]
	}
	bin, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"bench", "--server", strings.Join(servers, ","), "--token", dep.operator}, strings.Fields(flags)...)
	cmd := exec.Command(filepath.Join(bin, "doorman"), args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	t.Logf("doorman %s", strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		t.Fatalf("doorman bench: %v", err)
	}
}
