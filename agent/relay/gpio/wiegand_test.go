package gpio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	periphgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/doorman-dev/doorman/agent/relay/gpio"
	"github.com/doorman-dev/doorman/agent/relay/wiegand"
)

// loopPin is the board's output pin wired to the panel's input pin: every
// level the driver writes goes, through an inverting stage if inverted,
// as an edge to the panel pin, and Out returns once the panel has taken
// it (as on a wire, no edge is ever reordered or lost).
type loopPin struct {
	*gpiotest.Pin
	panel    *gpiotest.Pin
	taken    chan struct{}
	inverted bool
}

func (p *loopPin) Out(l periphgpio.Level) error {
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	p.panel.EdgesChan <- l != periphgpio.Level(p.inverted)
	<-p.taken
	return nil
}

// loopback is a panel's reader input on periph's test pins: a goroutine
// per line waits for the line's edges, as the panel's interrupt would,
// and feeds a wiegand.Receiver, which rebuilds the bits.
type loopback struct {
	d0, d1 *loopPin
	rx     *wiegand.Receiver
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newLoopback(t *testing.T, inverted bool) *loopback {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lb := &loopback{rx: wiegand.NewReceiver(), cancel: cancel}
	for i, name := range []string{"D0", "D1"} {
		panel := &gpiotest.Pin{N: "panel " + name, L: periphgpio.High, EdgesChan: make(chan periphgpio.Level)}
		out := &loopPin{Pin: &gpiotest.Pin{N: "board " + name}, panel: panel, taken: make(chan struct{}), inverted: inverted}
		if i == 0 {
			lb.d0 = out
		} else {
			lb.d1 = out
		}
		lb.wg.Add(1)
		go func() {
			defer lb.wg.Done()
			for ctx.Err() == nil {
				if !panel.WaitForEdge(50 * time.Millisecond) {
					continue
				}
				lb.rx.Edge(i == 1, panel.Read() == periphgpio.High)
				out.taken <- struct{}{}
			}
		}()
	}
	t.Cleanup(lb.stop)
	return lb
}

func (lb *loopback) stop() {
	lb.cancel()
	lb.wg.Wait()
}

func (lb *loopback) pins() gpio.WiegandPins { return gpio.WiegandPins{D0: lb.d0, D1: lb.d1} }

func wiegandConfig(format wiegand.Format, facility, card int64) gpio.WiegandConfig {
	return gpio.WiegandConfig{
		Chip: "gpiochip0", D0Line: 23, D1Line: 24,
		Config:     wiegand.Config{Format: format, Facility: facility, Card: card},
		SensorLine: -1, TamperLine: -1,
	}
}

// TestWiegand_Loopback: the frames the driver puts on periph's pins, with
// the real sleeper's timing, are read by the panel end as the configured
// facility code and card number with correct parity, for both formats,
// with and without an inverting output stage.
func TestWiegand_Loopback(t *testing.T) {
	for _, tc := range []struct {
		format         wiegand.Format
		facility, card int64
	}{
		{wiegand.Format26, 1, 1},
		{wiegand.Format26, 123, 45678},
		{wiegand.Format34, 1, 1},
		{wiegand.Format34, 54321, 12345},
	} {
		for _, inverted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d-bit FC %d card %d inverted %v", tc.format, tc.facility, tc.card, inverted), func(t *testing.T) {
				lb := newLoopback(t, inverted)
				cfg := wiegandConfig(tc.format, tc.facility, tc.card)
				cfg.Inverted = inverted
				w, err := gpio.NewWiegand(cfg, lb.pins(), nil)
				if err != nil {
					t.Fatal(err)
				}
				// The board's pins are idle: high, or low behind an inverter.
				idle := periphgpio.Level(!inverted)
				if lb.d0.Read() != idle || lb.d1.Read() != idle || !lb.rx.Idle() {
					t.Fatal("lines not idle after opening")
				}
				if err := w.Pulse(5 * time.Second); err != nil {
					t.Fatal(err)
				}
				bits, err := lb.rx.Take()
				if err != nil {
					t.Fatal(err)
				}
				if len(bits) != int(tc.format) {
					t.Fatalf("the panel got %d bits, want %d", len(bits), tc.format)
				}
				cred, err := wiegand.Decode(bits)
				if err != nil {
					t.Fatalf("the panel could not decode %s: %v", bits, err)
				}
				want := wiegand.Credential{Format: tc.format, Facility: uint32(tc.facility), Card: uint32(tc.card)}
				if cred != want {
					t.Fatalf("the panel read %v, want %v", cred, want)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if lb.d0.Read() != idle || lb.d1.Read() != idle || !lb.rx.Idle() {
					t.Fatal("Close did not leave the lines idle")
				}
				if err := w.Pulse(time.Second); err == nil {
					t.Fatal("Pulse after Close succeeded")
				}
			})
		}
	}
}

// TestWiegand_Inputs: the door contact and tamper switch work beside the
// Wiegand lines, read by the same code as the relay driver's.
func TestWiegand_Inputs(t *testing.T) {
	lb := newLoopback(t, false)
	sensor := &gpiotest.Pin{N: "door", EdgesChan: make(chan periphgpio.Level, 4)}
	tamper := &gpiotest.Pin{N: "tamper", EdgesChan: make(chan periphgpio.Level, 4)}
	cfg := wiegandConfig(wiegand.Format26, 1, 1)
	cfg.SensorLine, cfg.TamperLine = 27, 22
	pins := lb.pins()
	pins.Sensor, pins.Tamper = sensor, tamper
	w, err := gpio.NewWiegand(cfg, pins, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	doors, tampers := make(chan bool, 8), make(chan bool, 8)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); w.Watch(ctx, func(open bool) { doors <- open }) }()
	go func() { defer wg.Done(); w.WatchTamper(ctx, func(tripped bool) { tampers <- tripped }) }()
	if !<-doors || !<-tampers { // pulled up: open, tripped
		t.Fatal("pulled-up inputs not read as open and tripped")
	}
	sensor.EdgesChan <- periphgpio.Low
	tamper.EdgesChan <- periphgpio.Low
	if <-doors || <-tampers {
		t.Fatal("low inputs not read as shut and restored")
	}
	cancel()
	wg.Wait()
}

// TestWiegandConfig_Refused: what cannot work is refused before any line
// moves, saying what is wrong.
func TestWiegandConfig_Refused(t *testing.T) {
	base := func(edit func(*gpio.WiegandConfig)) gpio.WiegandConfig {
		c := wiegandConfig(wiegand.Format26, 1, 1)
		edit(&c)
		return c
	}
	for name, tc := range map[string]struct {
		cfg  gpio.WiegandConfig
		want string
	}{
		"no chip":          {base(func(c *gpio.WiegandConfig) { c.Chip = "" }), "chip required"},
		"no d0":            {base(func(c *gpio.WiegandConfig) { c.D0Line = -1 }), "d0_line and d1_line required"},
		"same pin twice":   {base(func(c *gpio.WiegandConfig) { c.D1Line = 23 }), "d0_line and d1_line are both line 23"},
		"sensor on d1":     {base(func(c *gpio.WiegandConfig) { c.SensorLine = 24 }), "sensor_line is line 24, which d1_line uses already"},
		"tamper on sensor": {base(func(c *gpio.WiegandConfig) { c.SensorLine, c.TamperLine = 27, 27 }), "tamper_line is line 27, which sensor_line uses already"},
		"tamper -2":        {base(func(c *gpio.WiegandConfig) { c.TamperLine = -2 }), "tamper_line must be -1 (none) or a line offset"},
		"facility 256":     {base(func(c *gpio.WiegandConfig) { c.Facility = 256 }), "facility code 256 out of range for 26-bit (0 to 255)"},
		"card 65536":       {base(func(c *gpio.WiegandConfig) { c.Format, c.Card = 34, 65536 }), "card number 65536 out of range for 34-bit (0 to 65535)"},
		"unknown format":   {base(func(c *gpio.WiegandConfig) { c.Format = 37 }), "unknown format 37 (26 or 34)"},
		"pulse 5 µs":       {base(func(c *gpio.WiegandConfig) { c.PulseMicros = 5 }), "pulse_us 5 out of range (20 to 200)"},
		"interval 50 ms":   {base(func(c *gpio.WiegandConfig) { c.IntervalMicros = 50000 }), "interval_us 50000 out of range (200 to 10000)"},
	} {
		t.Run(name, func(t *testing.T) {
			lb := newLoopback(t, false)
			w, err := gpio.NewWiegand(tc.cfg, lb.pins(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if w != nil {
				t.Fatal("a refused configuration returned a driver")
			}
			if lb.d0.Read() != periphgpio.Low || lb.d1.Read() != periphgpio.Low {
				t.Fatal("a refused configuration moved a line") // gpiotest pins start low
			}
			if _, err := gpio.OpenWiegand(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenWiegand: error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestWiegandConfig_JSON: absent lines mean none (and are refused for D0
// and D1); absent facility and card are refused, not read as 0.
func TestWiegandConfig_JSON(t *testing.T) {
	var c gpio.WiegandConfig
	if err := json.Unmarshal([]byte(`{"chip":"gpiochip0","d0_line":23,"d1_line":24,"format":34,"facility":300,"card":7,"pulse_us":60}`), &c); err != nil {
		t.Fatal(err)
	}
	want := gpio.WiegandConfig{Chip: "gpiochip0", D0Line: 23, D1Line: 24, SensorLine: -1, TamperLine: -1,
		Config: wiegand.Config{Format: 34, Facility: 300, Card: 7, PulseMicros: 60}}
	if c != want {
		t.Fatalf("read as %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for in, msg := range map[string]string{
		`{"chip":"gpiochip0","d0_line":23,"format":26,"facility":1,"card":1}`:     "d0_line and d1_line required",
		`{"chip":"gpiochip0","d0_line":23,"d1_line":24,"format":26,"card":1}`:     "facility code required",
		`{"chip":"gpiochip0","d0_line":23,"d1_line":24,"format":26,"facility":1}`: "card number required",
		`{"chip":"gpiochip0","d0_line":23,"d1_line":24,"facility":1,"card":1}`:    "format required (26 or 34)",
	} {
		var c gpio.WiegandConfig
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want one saying %q", in, err, msg)
		}
	}
	if err := json.Unmarshal([]byte(`{"card":"1"}`), &c); err == nil {
		t.Error("a string card number was accepted")
	}
}
