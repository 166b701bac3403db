package gpio_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	periphgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/doorman-dev/doorman/agent/relay/gpio"
)

func TestDriver_Levels(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		locked, released := periphgpio.Low, periphgpio.High
		if activeLow {
			locked, released = periphgpio.High, periphgpio.Low
		}
		pin := &gpiotest.Pin{N: "relay", L: released}
		g, err := gpio.New(gpio.Config{Chip: "gpiochip0", RelayActiveLow: activeLow, SensorLine: -1}, gpio.Pins{Relay: pin})
		if err != nil {
			t.Fatal(err)
		}
		if pin.Read() != locked {
			t.Fatalf("activeLow=%v: not locked at start", activeLow)
		}
		if err := g.Pulse(time.Hour); err != nil {
			t.Fatal(err)
		}
		if pin.Read() != released {
			t.Fatalf("activeLow=%v: not released during pulse", activeLow)
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		if pin.Read() != locked {
			t.Fatalf("activeLow=%v: Close left the strike released", activeLow)
		}
		if err := g.Pulse(time.Second); err == nil {
			t.Fatal("Pulse after Close succeeded")
		}
	}
}

// TestDriver_PulseEnds: a pulse releases the strike at once and its real
// timer locks it again by itself.
func TestDriver_PulseEnds(t *testing.T) {
	pin := &gpiotest.Pin{N: "relay"}
	g, err := gpio.New(gpio.Config{Chip: "gpiochip0", SensorLine: -1}, gpio.Pins{Relay: pin})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Pulse(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if pin.Read() != periphgpio.High {
		t.Fatal("strike not released when Pulse returned")
	}
	// Wait (without a timed assertion) for the strike to lock again; the
	// deadline only guards against a hang.
	deadline := time.Now().Add(20 * time.Second)
	for pin.Read() == periphgpio.High {
		if time.Now().After(deadline) {
			t.Fatal("the pulse never ended: strike still released")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDriver_Sensor(t *testing.T) {
	relayPin := &gpiotest.Pin{N: "relay"}
	sensor := &gpiotest.Pin{N: "door", EdgesChan: make(chan periphgpio.Level, 4)}
	g, err := gpio.New(gpio.Config{Chip: "gpiochip0", RelayLine: 1, SensorLine: 2}, gpio.Pins{Relay: relayPin, Sensor: sensor})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	states := make(chan bool, 8)
	done := make(chan struct{})
	go func() { g.Watch(ctx, func(open bool) { states <- open }); close(done) }()
	// Pulled up with the contact open: high reads as open.
	if !<-states {
		t.Fatal("pulled-up line not read as open")
	}
	sensor.EdgesChan <- periphgpio.Low
	if <-states {
		t.Fatal("low not read as closed")
	}
	cancel()
	<-done
}

// TestDriver_Tamper: the tamper switch is read on its own line, in either
// polarity, and the door sensor does not see it.
func TestDriver_Tamper(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		relayPin := &gpiotest.Pin{N: "relay"}
		tamper := &gpiotest.Pin{N: "tamper", EdgesChan: make(chan periphgpio.Level, 4)}
		g, err := gpio.New(gpio.Config{Chip: "gpiochip0", RelayLine: 1, SensorLine: -1, TamperLine: 3, TamperActiveLow: activeLow},
			gpio.Pins{Relay: relayPin, Tamper: tamper})
		if err != nil {
			t.Fatal(err)
		}
		// Without a door contact, Watch returns at once and reports nothing.
		if err := g.Watch(context.Background(), func(bool) { t.Error("door state reported without a door contact") }); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		states := make(chan bool, 8)
		done := make(chan struct{})
		go func() { g.WatchTamper(ctx, func(tripped bool) { states <- tripped }); close(done) }()
		// Pulled up: high, which is tripped unless the switch is active low.
		if got := <-states; got != !activeLow {
			t.Fatalf("activeLow=%v: pulled-up line read as tripped=%v", activeLow, got)
		}
		tamper.EdgesChan <- periphgpio.Low
		if got := <-states; got != activeLow {
			t.Fatalf("activeLow=%v: low line read as tripped=%v", activeLow, got)
		}
		cancel()
		<-done
	}
}

func TestConfig_Validate(t *testing.T) {
	for _, c := range []gpio.Config{
		{Chip: "gpiochip0", RelayLine: 1, SensorLine: -1, TamperLine: -1},
		{Chip: "gpiochip0", RelayLine: 1, SensorLine: 2, TamperLine: 3},
		{Chip: "/dev/gpiochip4", RelayLine: 0, SensorLine: -1, TamperLine: 5},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v refused: %v", c, err)
		}
	}
	for _, c := range []gpio.Config{
		{Chip: "", RelayLine: 1, SensorLine: -1, TamperLine: -1},
		{Chip: "gpiochip0", RelayLine: -1, SensorLine: -1, TamperLine: -1},
		{Chip: "gpiochip0", RelayLine: 3, SensorLine: 3, TamperLine: -1},
		{Chip: "gpiochip0", RelayLine: 1, SensorLine: -1, TamperLine: -2},
		{Chip: "gpiochip0", RelayLine: 1, SensorLine: -1, TamperLine: 1},
		{Chip: "gpiochip0", RelayLine: 1, SensorLine: 2, TamperLine: 2},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestConfig_JSON: a hardware.json "gpio" object without tamper_line (as
// written before the tamper input existed) means no tamper switch.
func TestConfig_JSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want gpio.Config
	}{
		{`{"chip":"gpiochip0","relay_line":17,"sensor_line":27}`,
			gpio.Config{Chip: "gpiochip0", RelayLine: 17, SensorLine: 27, TamperLine: -1}},
		{`{"chip":"gpiochip0","relay_line":17,"sensor_line":-1,"tamper_line":22,"tamper_active_low":true}`,
			gpio.Config{Chip: "gpiochip0", RelayLine: 17, SensorLine: -1, TamperLine: 22, TamperActiveLow: true}},
	} {
		var got gpio.Config
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if got != tc.want {
			t.Errorf("%s read as %+v, want %+v", tc.in, got, tc.want)
		}
	}
	var got gpio.Config
	if err := json.Unmarshal([]byte(`{"tamper_line":"22"}`), &got); err == nil {
		t.Error("a string tamper_line was accepted")
	}
}
