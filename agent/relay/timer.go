package relay

import "time"

// stopper is the part of *time.Timer the drivers use.
type stopper interface{ Stop() bool }

// afterFunc starts a timer that calls f after d: time.AfterFunc in the
// drivers, a hand-fired fake in tests that need to choose when a pulse
// ends.
type afterFunc func(d time.Duration, f func()) stopper

func timeAfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }
