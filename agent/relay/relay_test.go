package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/agent/relay"
)

func TestSim_PulseRelocks(t *testing.T) {
	s := relay.NewSim()
	if s.Released() {
		t.Fatal("new strike is released")
	}
	if err := s.Pulse(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !s.Released() || s.Pulses() != 1 {
		t.Fatalf("after Pulse: released %v, pulses %d", s.Released(), s.Pulses())
	}
	if d, _ := s.LastPulse(); d != 20*time.Millisecond {
		t.Fatalf("last pulse %s", d)
	}
	// Wait (without a timed assertion) for the strike to lock again.
	for s.Released() {
		time.Sleep(5 * time.Millisecond)
	}
	s.Pulse(time.Hour)
	s.Close()
	if s.Released() {
		t.Fatal("Close left the strike released")
	}
}

func TestSim_Watch(t *testing.T) {
	s := relay.NewSim()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	states := make(chan bool, 8)
	go s.Watch(ctx, func(open bool) { states <- open })
	if <-states {
		t.Fatal("door starts open")
	}
	s.SetOpen(true)
	if !<-states {
		t.Fatal("open not reported")
	}
	s.SetOpen(false)
	if <-states {
		t.Fatal("close not reported")
	}
}

func TestSim_WatchTamper(t *testing.T) {
	s := relay.NewSim()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	states := make(chan bool, 8)
	go s.WatchTamper(ctx, func(tripped bool) { states <- tripped })
	if <-states {
		t.Fatal("tamper switch starts tripped")
	}
	// A door change is no tamper change: it must not be reported.
	s.SetOpen(true)
	s.SetTampered(true)
	if !<-states || !s.Tampered() {
		t.Fatal("trip not reported")
	}
	s.SetTampered(false)
	if <-states {
		t.Fatal("restore not reported")
	}
}
