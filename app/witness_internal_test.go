package app

import (
	"testing"
	"time"
)

// TestWitnessPushes: a chain's first checkpoint goes at once; those signed
// within the gap after it are held, the latest replacing the older, and
// one push is scheduled for when the gap ends; then the held one goes; a
// checkpoint past the gap goes at once again. Chains are paced apart.
func TestWitnessPushes(t *testing.T) {
	var w witnessPushes
	t0 := time.Unix(1_700_000_000, 0)
	if now, _, sched := w.offer("a", 5, "n5", t0); !now || sched {
		t.Fatalf("first checkpoint: now %v, schedule %v; want pushed at once", now, sched)
	}
	now, later, sched := w.offer("a", 6, "n6", t0.Add(time.Second))
	if now || !sched || later != WitnessPushGap-time.Second {
		t.Fatalf("within the gap: now %v, later %v, schedule %v; want held, one push scheduled after %v", now, later, sched, WitnessPushGap-time.Second)
	}
	if now, _, sched := w.offer("a", 7, "n7", t0.Add(2*time.Second)); now || sched {
		t.Fatalf("second within the gap: now %v, schedule %v; want held, no second schedule", now, sched)
	}
	if now, _, _ := w.offer("b", 1, "b1", t0.Add(2*time.Second)); !now {
		t.Fatal("another chain's checkpoint waited for this chain's gap")
	}
	p, ok := w.take("a", t0.Add(WitnessPushGap))
	if !ok || p.size != 7 || p.note != "n7" {
		t.Fatalf("held = %+v, %v; want the latest (7)", p, ok)
	}
	if _, ok := w.take("a", t0.Add(WitnessPushGap)); ok {
		t.Fatal("the held checkpoint was handed out twice")
	}
	if now, _, sched := w.offer("a", 8, "n8", t0.Add(WitnessPushGap+time.Second)); now || !sched {
		t.Fatal("a checkpoint right after the held one went out was not held")
	}
	if now, _, _ := w.offer("a", 9, "n9", t0.Add(3*WitnessPushGap)); !now {
		t.Fatal("a checkpoint past the gap was held")
	}
	if _, ok := w.take("a", t0.Add(3*WitnessPushGap)); ok {
		t.Fatal("an older held checkpoint outlived a newer one pushed")
	}
}

// TestWitnessSends: a door sent a checkpoint is not sent another in answer
// to its heartbeats until the gap has passed, unless its heartbeat says it
// did not take the one sent; other doors are not held back by it.
func TestWitnessSends(t *testing.T) {
	var w witnessSends
	t0 := time.Unix(1_700_000_000, 0)
	if w.holdAnswer("a", 0, t0) {
		t.Fatal("a door never sent one is held back")
	}
	w.sent("a", 10, t0)
	if !w.holdAnswer("a", 10, t0.Add(time.Second)) || w.holdAnswer("b", 0, t0.Add(time.Second)) {
		t.Fatal("the gap is not per door")
	}
	if w.holdAnswer("a", 7, t0.Add(time.Second)) {
		t.Fatal("a door that reports less than it was sent is held back")
	}
	if w.holdAnswer("a", 10, t0.Add(WitnessPushGap)) {
		t.Fatal("still held back after the gap")
	}
}

// TestWitnessSendsFrom: the next checkpoint for a door is proved from the
// size last sent to it (the device keeps it, and reports it only in its
// next heartbeat), unless a heartbeat after that send said otherwise, or
// the sends since the last heartbeat heard are too old to trust (the door
// may have refused them, or its heartbeats go to another node).
func TestWitnessSendsFrom(t *testing.T) {
	var w witnessSends
	t0 := time.Unix(1_700_000_000, 0)
	if got := w.from("a", 5, t0); got != 5 {
		t.Fatalf("a door never sent one: from %d, want its stored 5", got)
	}
	w.sent("a", 12, t0)
	if got := w.from("a", 5, t0.Add(WitnessPushGap)); got != 12 {
		t.Fatalf("after a push of 12: from %d, want 12", got)
	}
	if got := w.from("b", 5, t0.Add(WitnessPushGap)); got != 5 {
		t.Fatalf("another door: from %d, want 5", got)
	}
	// Pushed every 15 s, never confirmed (its heartbeats go to another
	// node): trusted for two minutes from the first, not from the last.
	for i := 1; i <= 8; i++ {
		w.sent("a", 12+int64(i), t0.Add(time.Duration(i)*WitnessPushGap))
	}
	if got := w.from("a", 5, t0.Add(witnessTrustSent)); got != 5 {
		t.Fatalf("pushes never confirmed, past the trust: from %d, want the stored 5", got)
	}
	// A heartbeat after the last send says it keeps 9 (a new device, or it
	// refused the rest): believed, though smaller than what was sent.
	last := t0.Add(8 * WitnessPushGap)
	w.reported("a", 9, last.Add(time.Second), last.Add(time.Second))
	if got := w.from("a", 20, last.Add(2*time.Second)); got != 9 {
		t.Fatalf("after a heartbeat reporting 9: from %d, want 9", got)
	}
	// A heartbeat delivered late, dated before a later send, changes
	// nothing.
	w.sent("a", 30, last.Add(3*time.Second))
	w.reported("a", 9, last.Add(2*time.Second), last.Add(4*time.Second))
	if got := w.from("a", 5, last.Add(5*time.Second)); got != 30 {
		t.Fatalf("after a late heartbeat: from %d, want the 30 sent", got)
	}
}
