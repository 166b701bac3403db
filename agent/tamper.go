package agent

import "github.com/doorman-dev/doorman/wire"

// Details of the tamper events the tamper switch causes.
const (
	tamperTripped        = "tamper switch tripped: the enclosure is open or its wire is cut"
	tamperTrippedAtStart = "tamper switch tripped at start: the enclosure is open or its wire is cut"
	tamperRestored       = "tamper switch restored: the enclosure is closed again"
)

// onTamper turns tamper switch changes into tamper events: one when the
// switch trips, also when the agent starts with it tripped, and one when it
// is restored. A switch that is fine at start reports nothing.
func (a *Agent) onTamper(tripped bool) {
	a.mu.Lock()
	first := !a.tamperKnown
	changed := a.tamperKnown && tripped != a.tampered
	a.tamperKnown, a.tampered = true, tripped
	a.mu.Unlock()
	detail := ""
	switch {
	case first && tripped:
		detail = tamperTrippedAtStart
	case !changed:
		return
	case tripped:
		detail = tamperTripped
	default:
		detail = tamperRestored
	}
	a.log.Warn("tamper", "detail", detail)
	a.report(&wire.Event{Kind: wire.EventTamper, Detail: detail})
}
