package gpio

import "time"

// stopper is the part of *time.Timer the driver uses.
type stopper interface{ Stop() bool }

// afterFunc starts a timer that calls f after d: time.AfterFunc in the
// driver, a hand-fired fake in tests that need to choose when a pulse
// ends. agent/relay has its own for the simulated driver.
type afterFunc func(d time.Duration, f func()) stopper

func timeAfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }
