package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSmoke runs `doorman bench` as a user would, small: it starts
// its control plane and agent processes, sets up through the API, opens
// doors for a couple of seconds, and writes JSON with every figure the
// issue names, and an SVG.
func TestBenchSmoke(t *testing.T) {
	bin, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "bench.json")
	cmd := exec.Command(filepath.Join(bin, "doorman"), "bench", "--doors", "3", "--couriers", "30", "--in-flight", "2",
		"--duration", "2s", "--warmup", "500ms", "--json", out, "--agent-dir", filepath.Join(dir, "agents"))
	cmd.Stderr = io.Discard
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("doorman bench: %v\n%s", err, stdout)
	}
	if !strings.Contains(string(stdout), "unlocks/s") || !strings.Contains(string(stdout), "p50 / floor") {
		t.Fatalf("bench printed:\n%s", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		UnlocksPerSecond float64            `json:"unlocks_per_second"`
		Unlocks          int                `json:"unlocks"`
		Latency          map[string]float64 `json:"latency_ms"`
		Floor            map[string]float64 `json:"floor_ms"`
		Ratio            float64            `json:"p50_floor_ratio"`
		RSSPerDoor       float64            `json:"rss_per_door_kb"`
		CPU              float64            `json:"server_cpu_cores"`
		Stages           map[string]float64 `json:"server_stage_ms"`
		Commits          float64            `json:"server_commits_per_unlock"`
		Writes           float64            `json:"server_writes_per_unlock"`
		Events           map[string]float64 `json:"device_events_per_second"`
		AgentCPU         float64            `json:"agent_cpu_cores"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Unlocks == 0 || r.UnlocksPerSecond <= 0 || r.Latency["p50"] <= 0 || r.Latency["p99"] < r.Latency["p50"] ||
		r.Floor["total"] <= 0 || r.Ratio <= 0 || r.CPU <= 0 || r.Stages["decide"] <= 0 || r.Stages["unlock"] <= 0 ||
		r.AgentCPU <= 0 {
		t.Fatalf("bench JSON lacks figures:\n%s", data)
	}
	// Each unlock commits at least its grant, and the door reports the
	// unlocks it executed.
	if r.Commits <= 0 || r.Writes < 1 || r.Events["unlock_executed"] <= 0 {
		t.Fatalf("bench JSON lacks figures:\n%s", data)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "bench.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil {
		t.Fatalf("the plot is not XML: %v", err)
	}
}
