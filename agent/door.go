package agent

import (
	"time"

	"github.com/doorman-dev/doorman/wire"
)

// Door sensor interpretation.
const (
	// DefaultHeldOpen is how long the door may stay open before
	// door_held_open is reported, unless enrollment set another.
	DefaultHeldOpen = 60 * time.Second
	// openGrace is how long after a pulse ends an opening still counts as
	// the courier's (a door is pushed open a moment after the buzz).
	openGrace = 5 * time.Second
)

// onDoor turns door sensor changes into events: opened (after an unlock)
// or forced (without one), held open, closed.
func (a *Agent) onDoor(open bool) {
	a.mu.Lock()
	first := !a.doorKnown
	changed := a.doorKnown && open != a.doorOpen
	a.doorKnown, a.doorOpen = true, open
	grant, pulseEnd := a.lastGrant, a.lastPulseEnd
	if a.heldTimer != nil {
		a.heldTimer.Stop()
		a.heldTimer = nil
	}
	if open {
		a.heldTimer = time.AfterFunc(a.heldOpen, func() {
			a.report(&wire.Event{Kind: wire.EventDoorHeldOpen, Detail: "door open longer than " + a.heldOpen.String()})
		})
	}
	a.mu.Unlock()
	switch {
	case first && open:
		a.report(&wire.Event{Kind: wire.EventDoorOpened, Detail: "door open at start"})
	case !changed:
	case open && !pulseEnd.IsZero() && !a.clock.Now().After(pulseEnd.Add(openGrace)):
		a.report(&wire.Event{Kind: wire.EventDoorOpened, GrantID: grant})
	case open:
		a.report(&wire.Event{Kind: wire.EventDoorForced})
	default:
		a.report(&wire.Event{Kind: wire.EventDoorClosed})
	}
}
