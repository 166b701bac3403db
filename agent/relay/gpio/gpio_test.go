package gpio_test

import (
	"context"
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
		g, err := gpio.New(gpio.Config{Chip: "gpiochip0", RelayActiveLow: activeLow, SensorLine: -1}, pin, nil)
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
	g, err := gpio.New(gpio.Config{Chip: "gpiochip0", SensorLine: -1}, pin, nil)
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
	g, err := gpio.New(gpio.Config{Chip: "gpiochip0", RelayLine: 1, SensorLine: 2}, relayPin, sensor)
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

func TestConfig_Validate(t *testing.T) {
	for _, c := range []gpio.Config{
		{Chip: "", RelayLine: 1, SensorLine: -1},
		{Chip: "gpiochip0", RelayLine: -1, SensorLine: -1},
		{Chip: "gpiochip0", RelayLine: 3, SensorLine: 3},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
