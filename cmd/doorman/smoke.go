package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// Smoke runs the demo story unattended and returns an error unless every
// step holds: the allowed courier's scan pulses the relay; a parcel for
// another building is refused with its reason; to a courier of a carrier
// the building does not allow the door does not exist; a forged command
// put straight on the bus does not open the door.
func (d *Demo) Smoke(ctx context.Context, w io.Writer) error {
	st := d.State
	failed := 0
	var took time.Duration // of the last access request, shown with its check
	check := func(name string, err error) {
		if err != nil {
			failed++
			fmt.Fprintf(w, "FAIL  %s: %v\n", name, err)
		} else if took > 0 {
			fmt.Fprintf(w, "ok    %s (answered in %s)\n", name, took)
		} else {
			fmt.Fprintf(w, "ok    %s\n", name)
		}
		took = 0
	}
	expect := func(token, tracking, reason string) error {
		start := time.Now()
		res, err := openDoor(ctx, http.DefaultClient, d.Main.URL(), token, map[string]any{"door_id": st.DoorID, "tracking_numbers": []string{tracking}})
		if err != nil {
			return err
		}
		took = time.Since(start).Round(100 * time.Microsecond)
		if reason == "" && !res.Decision.Allowed {
			return fmt.Errorf("refused (%s: %s)", res.Decision.Reason, res.Decision.Detail)
		} else if reason != "" && res.Decision.Reason != reason {
			return fmt.Errorf("want %s, got allowed=%v reason=%q", reason, res.Decision.Allowed, res.Decision.Reason)
		}
		return nil
	}

	pulses := d.Relay.Pulses()
	check("Alice scans a parcel for Maple Court: door opens", func() error {
		if err := expect(d.Tokens["pp-alice"], st.AllowedParcel, ""); err != nil {
			return err
		}
		if d.Relay.Pulses() != pulses+1 {
			return fmt.Errorf("the relay pulsed %d times, want 1", d.Relay.Pulses()-pulses)
		}
		return nil
	}())
	pulses = d.Relay.Pulses()
	check("Alice scans a parcel for another building: refused, parcel_not_for_building",
		expect(d.Tokens["pp-alice"], st.OtherBuildingPar, doorman.ReasonParcelNotForBuilding))
	check("Carol's carrier is not allowed here: the door does not exist for her", func() error {
		_, err := openDoor(ctx, http.DefaultClient, d.Main.URL(), d.Tokens["lr-carol"], map[string]any{"door_id": st.DoorID, "tracking_numbers": []string{st.NotAllowedCarrier}})
		if err == nil || !strings.Contains(err.Error(), "Unknown door_id") {
			return fmt.Errorf("want the unknown-door answer, got %v", err)
		}
		return nil
	}())
	check("a forged unlock command put straight on the bus: door stays shut", d.forgeCommand(ctx))
	check("the relay did not move for any refused request", func() error {
		if n := d.Relay.Pulses() - pulses; n != 0 {
			return fmt.Errorf("the relay pulsed %d times", n)
		}
		return nil
	}())
	check("the audit log verifies", func() error {
		breaks, err := d.Main.App.Audit.Verify(systemContext(ctx))
		if err == nil && len(breaks) > 0 {
			err = fmt.Errorf("chain %s broken at %d: %s", breaks[0].Chain, breaks[0].Seq, breaks[0].Problem)
		}
		return err
	}())
	if failed > 0 {
		return fmt.Errorf("smoke: %d step(s) failed", failed)
	}
	fmt.Fprintln(w, "smoke: every step held")
	return nil
}

// forgeCommand signs an unlock for the demo door with a key the device does
// not know and sends it on the door's command subject, as an attacker with
// a foothold on the bus would. The device must refuse it.
func (d *Demo) forgeCommand(ctx context.Context) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	forger, err := wire.NewSigner(priv)
	if err != nil {
		return err
	}
	token, _, err := forger.SignUnlock(wire.Unlock{DoorID: d.State.DoorID, GrantID: doorman.NewID(doorman.PrefixGrant), Pulse: 3 * time.Second})
	if err != nil {
		return err
	}
	ack, err := d.Main.Bus.SendUnlock(ctx, d.State.DoorID, token, 3*time.Second)
	if err == nil {
		return fmt.Errorf("the door accepted a forged command")
	}
	if ack == nil || ack.Rejected == "" {
		return fmt.Errorf("no rejection from the door: %v", err)
	}
	return nil
}
