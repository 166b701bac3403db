package wiegand_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/agent/relay/wiegand"
)

// wire records, in order, what the transmitter does to the lines and how
// long it waits, and feeds the line changes to a receiver as the panel.
type wire struct {
	mu    sync.Mutex
	log   []string
	panel *wiegand.Receiver
	// onSleep, if set, runs (without mu) at every wait, with its index.
	onSleep func(i int, d time.Duration)
	sleeps  int
	// fail makes setting the named line to the level fail once, after
	// failSkip such settings succeeded.
	fail     string
	failSkip int
}

func newWire() *wire { return &wire{panel: wiegand.NewReceiver()} }

func (w *wire) Sleep(d time.Duration) {
	w.mu.Lock()
	w.log = append(w.log, "wait "+d.String())
	i := w.sleeps
	w.sleeps++
	hook := w.onSleep
	w.mu.Unlock()
	if hook != nil {
		hook(i, d)
	}
}

type wireLine struct {
	w    *wire
	name string
}

func (l wireLine) Set(high bool) error {
	state := "low"
	if high {
		state = "high"
	}
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	if l.w.fail == l.name+" "+state {
		if l.w.failSkip == 0 {
			l.w.fail = ""
			return errors.New("line gone")
		}
		l.w.failSkip--
	}
	l.w.log = append(l.w.log, l.name+" "+state)
	l.w.panel.Edge(l.name == "D1", high)
	return nil
}

func (w *wire) lines() (wiegand.Line, wiegand.Line) { return wireLine{w, "D0"}, wireLine{w, "D1"} }

func (w *wire) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.log
	w.log = nil
	return l
}

func config26() wiegand.Config {
	return wiegand.Config{Format: wiegand.Format26, Facility: 1, Card: 1}
}

// TestTransmitter_Sequence: after a gap with both lines idle, each bit
// pulls its own line (D0 for 0, D1 for 1) low for the pulse width,
// releases it and waits out the interval; the panel end decodes the
// configured credential, for both formats and custom timing.
func TestTransmitter_Sequence(t *testing.T) {
	for _, tc := range []struct {
		cfg             wiegand.Config
		pulse, interval time.Duration
	}{
		{config26(), 50 * time.Microsecond, 2 * time.Millisecond},
		{wiegand.Config{Format: wiegand.Format26, Facility: 200, Card: 54321, PulseMicros: 100, IntervalMicros: 1000},
			100 * time.Microsecond, time.Millisecond},
		{wiegand.Config{Format: wiegand.Format34, Facility: 0x1234, Card: 0xABCD}, 50 * time.Microsecond, 2 * time.Millisecond},
		{wiegand.Config{Format: wiegand.Format34, Facility: 65535, Card: 0, PulseMicros: 20, IntervalMicros: 200},
			20 * time.Microsecond, 200 * time.Microsecond},
	} {
		t.Run(fmt.Sprint(tc.cfg), func(t *testing.T) {
			w := newWire()
			d0, d1 := w.lines()
			tx, err := wiegand.NewTransmitter(tc.cfg, d0, d1, w)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.take(); strings.Join(got, ",") != "D0 high,D1 high" {
				t.Fatalf("opening did %v, want both lines set idle", got)
			}
			if err := tx.Pulse(3 * time.Second); err != nil {
				t.Fatal(err)
			}
			want := []string{"D0 high", "D1 high", "wait " + wiegand.FrameGap.String()}
			frame := tx.Frame()
			for i, bit := range frame {
				line := "D0"
				if bit {
					line = "D1"
				}
				want = append(want, line+" low", "wait "+tc.pulse.String(), line+" high")
				if i < len(frame)-1 {
					want = append(want, "wait "+(tc.interval-tc.pulse).String())
				}
			}
			got := w.take()
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("on the wire:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			bits, err := w.panel.Take()
			if err != nil {
				t.Fatal(err)
			}
			cred, err := wiegand.Decode(bits)
			if err != nil {
				t.Fatalf("the panel could not decode %s: %v", bits, err)
			}
			want2 := wiegand.Credential{Format: tc.cfg.Format, Facility: uint32(tc.cfg.Facility), Card: uint32(tc.cfg.Card)}
			if cred != want2 {
				t.Fatalf("the panel read %v, want %v", cred, want2)
			}
			if !w.panel.Idle() || tx.Frames() != 1 {
				t.Fatalf("after the frame: idle %v, frames %d", w.panel.Idle(), tx.Frames())
			}
		})
	}
}

// TestTransmitter_Serialised: a Pulse while a frame is on the wire does
// not touch the lines until that frame is over; then its own frame
// follows, whole.
func TestTransmitter_Serialised(t *testing.T) {
	w := newWire()
	d0, d1 := w.lines()
	tx, err := wiegand.NewTransmitter(config26(), d0, d1, w)
	if err != nil {
		t.Fatal(err)
	}
	w.take()
	second := make(chan error, 1)
	w.onSleep = func(i int, d time.Duration) {
		if i != 5 { // mid-frame: the third bit's pulse
			return
		}
		go func() { second <- tx.Pulse(time.Second) }()
		// Give the second Pulse every chance to reach the wire; a loaded
		// machine only makes this test weaker, never fail wrongly.
		deadline := time.Now().Add(20 * time.Millisecond)
		for time.Now().Before(deadline) {
			runtime.Gosched()
		}
	}
	if err := tx.Pulse(time.Second); err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	bits, err := w.panel.Take()
	if err != nil {
		t.Fatal(err)
	}
	if len(bits) != 52 {
		t.Fatalf("%d bits on the wire, want two 26-bit frames", len(bits))
	}
	for _, f := range []wiegand.Frame{bits[:26], bits[26:]} {
		if c, err := wiegand.Decode(f); err != nil || c.Facility != 1 || c.Card != 1 {
			t.Fatalf("frames interleaved: %s decoded as %v, %v", f, c, err)
		}
	}
	// Each frame came after its own idle gap.
	gaps := 0
	for _, e := range w.take() {
		if e == "wait "+wiegand.FrameGap.String() {
			gaps++
		}
	}
	if gaps != 2 || tx.Frames() != 2 {
		t.Fatalf("%d gaps, %d frames", gaps, tx.Frames())
	}
}

// TestTransmitter_LineFails: a line failing mid-frame returns the error,
// leaves both lines idle, and counts no frame; the panel got a short
// frame, which does not decode.
func TestTransmitter_LineFails(t *testing.T) {
	w := newWire()
	d0, d1 := w.lines()
	tx, err := wiegand.NewTransmitter(config26(), d0, d1, w)
	if err != nil {
		t.Fatal(err)
	}
	w.take()
	w.mu.Lock()
	// The first bit of FC 1 card 1 is a 1: D1 fails to go high after it
	// (after it was set idle before the gap).
	w.fail, w.failSkip = "D1 high", 1
	w.mu.Unlock()
	err = tx.Pulse(time.Second)
	if err == nil || !strings.Contains(err.Error(), "bit 0: release D1: line gone") {
		t.Fatalf("error %v", err)
	}
	if tx.Frames() != 0 {
		t.Fatal("a failed frame was counted")
	}
	bits, _ := w.panel.Take()
	if _, err := wiegand.Decode(bits); err == nil {
		t.Fatalf("the panel decoded the cut frame %s", bits)
	}
	if log := w.take(); strings.Join(log[len(log)-2:], ",") != "D0 high,D1 high" || !w.panel.Idle() {
		t.Fatalf("lines not left idle after the fault: %v", log)
	}
	if err := tx.Pulse(time.Second); err != nil {
		t.Fatal(err)
	}
	bits, _ = w.panel.Take()
	if c, err := wiegand.Decode(bits); err != nil || c.Card != 1 {
		t.Fatalf("after the fault: %v, %v", c, err)
	}
}

func TestTransmitter_Close(t *testing.T) {
	w := newWire()
	d0, d1 := w.lines()
	tx, err := wiegand.NewTransmitter(config26(), d0, d1, w)
	if err != nil {
		t.Fatal(err)
	}
	w.take()
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.take(); strings.Join(got, ",") != "D0 high,D1 high" {
		t.Fatalf("Close did %v, want both lines idle", got)
	}
	if err := tx.Pulse(time.Second); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Pulse after Close: %v", err)
	}
	if got := w.take(); len(got) != 0 {
		t.Fatalf("Pulse after Close did %v", got)
	}
}

// TestConfig_Refused: what is missing or out of range is refused when the
// transmitter is made, saying what and why.
func TestConfig_Refused(t *testing.T) {
	ok := config26()
	for name, tc := range map[string]struct {
		cfg  wiegand.Config
		want string
	}{
		"no format":             {wiegand.Config{Facility: 1, Card: 1}, "format required (26 or 34)"},
		"unknown format":        {wiegand.Config{Format: 35, Facility: 1, Card: 1}, "unknown format 35 (26 or 34)"},
		"no facility":           {wiegand.Config{Format: 26, Facility: -1, Card: 1}, "facility code required (0 to 255 for 26-bit)"},
		"no card":               {wiegand.Config{Format: 34, Facility: 1, Card: -1}, "card number required (0 to 65535 for 34-bit)"},
		"facility too big (26)": {wiegand.Config{Format: 26, Facility: 256, Card: 1}, "facility code 256 out of range for 26-bit (0 to 255)"},
		"facility too big (34)": {wiegand.Config{Format: 34, Facility: 65536, Card: 1}, "facility code 65536 out of range for 34-bit (0 to 65535)"},
		"card too big":          {wiegand.Config{Format: 26, Facility: 1, Card: 70000}, "card number 70000 out of range for 26-bit (0 to 65535)"},
		"pulse too short":       {wiegand.Config{Format: 26, Facility: 1, Card: 1, PulseMicros: 10}, "pulse_us 10 out of range (20 to 200)"},
		"pulse too long":        {wiegand.Config{Format: 26, Facility: 1, Card: 1, PulseMicros: 500}, "pulse_us 500 out of range (20 to 200)"},
		"pulse negative":        {wiegand.Config{Format: 26, Facility: 1, Card: 1, PulseMicros: -50}, "pulse_us -50 out of range"},
		"interval too short":    {wiegand.Config{Format: 26, Facility: 1, Card: 1, IntervalMicros: 100}, "interval_us 100 out of range (200 to 10000)"},
		"interval too long":     {wiegand.Config{Format: 26, Facility: 1, Card: 1, IntervalMicros: 25000}, "interval_us 25000 out of range (200 to 10000)"},
		"interval vs pulse":     {wiegand.Config{Format: 26, Facility: 1, Card: 1, PulseMicros: 200, IntervalMicros: 500}, "interval_us 500 must be at least four pulse widths (800)"},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWire()
			d0, d1 := w.lines()
			tx, err := wiegand.NewTransmitter(tc.cfg, d0, d1, w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if tx != nil {
				t.Fatal("a refused configuration returned a transmitter")
			}
			if got := w.take(); len(got) != 0 {
				t.Fatalf("a refused configuration touched the lines: %v", got)
			}
			if err := tc.cfg.Validate(); err == nil {
				t.Fatal("Validate accepted it")
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	w := newWire()
	if _, err := wiegand.NewTransmitter(ok, wireLine{w, "D0"}, nil, w); err == nil {
		t.Fatal("a transmitter without D1 was made")
	}
}

// TestReceiver_BothLow: both lines low at once is a fault the receiver
// reports, as a panel would discard the read.
func TestReceiver_BothLow(t *testing.T) {
	r := wiegand.NewReceiver()
	r.Edge(false, false)
	r.Edge(true, false)
	r.Edge(false, true)
	r.Edge(true, true)
	if _, err := r.Take(); err == nil || !strings.Contains(err.Error(), "both low") {
		t.Fatalf("error %v", err)
	}
	r.Edge(true, true) // no edge: already high
	if bits, err := r.Take(); len(bits) != 0 || err != nil {
		t.Fatalf("%s, %v", bits, err)
	}
}

// BenchmarkRealSleeper_Pulse measures how long RealSleeper's 50 µs wait
// really takes: the pulse width a panel would see, but for the line's own
// switching time. It reports the worst of the run.
func BenchmarkRealSleeper_Pulse(b *testing.B) {
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		wiegand.RealSleeper{}.Sleep(wiegand.DefaultPulseWidth)
		if d := time.Since(start); d > worst {
			worst = d
		}
	}
	b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
}

// BenchmarkRealSleeper_Interval does the same for the 1.95 ms wait between
// pulses, which sleeps.
func BenchmarkRealSleeper_Interval(b *testing.B) {
	var worst time.Duration
	d := wiegand.DefaultInterval - wiegand.DefaultPulseWidth
	for b.Loop() {
		start := time.Now()
		wiegand.RealSleeper{}.Sleep(d)
		if e := time.Since(start); e > worst {
			worst = e
		}
	}
	b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
}
