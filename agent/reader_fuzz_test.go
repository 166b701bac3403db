package agent

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// FuzzReaderLines feeds an arbitrary byte stream to the door's reader, as
// a scanner wired to its serial line would: lines of any length, binary
// noise, a genuine offline grant, near misses of it, all in one stream.
// Whatever arrives, the agent must not panic, must split the stream into
// scans no longer than MaxScanLine, and must pulse the relay at most once,
// and only for the genuine grant (and for it, once scanned); every scan that does not open the door
// is refused with one of the stable reasons.
func FuzzReaderLines(f *testing.F) {
	// One moment for signing and judging, so that the genuine grant stays
	// valid however long the fuzzer runs.
	at := time.Now().UTC().Truncate(time.Second)
	_, _, signer := newOfflineAgent(f)
	door := doorman.NewID(doorman.PrefixDoor)
	token, _, err := signer.WithClock(func() time.Time { return at }).SignOfflineGrant(wire.OfflineGrantRequest{
		DoorID: door, GrantID: "gnt_reader", CourierID: "cou_reader", ParcelIDs: []string{"par_1"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(token + "\n"))
	f.Add([]byte(token + "\r\n" + token + "\n"))
	f.Add([]byte("\x00\xff\x1b[2J" + token[:40] + "\n\n\n"))
	f.Add([]byte(strings.Repeat("A", MaxScanLine+10) + "\n" + token))
	f.Add([]byte(strings.Replace(token, "v4.public.", "v4.local.", 1) + "\n"))
	f.Fuzz(func(t *testing.T, stream []byte) { checkReaderLines(t, signer, door, at, token, stream) })
}

// checkReaderLines is FuzzReaderLines's check of one stream.
func checkReaderLines(t *testing.T, signer *wire.Signer, door string, at time.Time, token string, stream []byte) {
	a, sim := newOfflineAgentFor(t, signer, door)
	a.clock.set(at, time.Now())
	if err := a.syncs.set(syncState{SyncedAt: at, OfflineWindow: time.Hour.Milliseconds()}); err != nil {
		t.Fatal(err)
	}
	scans := make(chan scan, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- scanLines(ctx, bytes.NewReader(stream), scans)
		close(scans)
	}()
	defer func() {
		cancel() // a failed check stops reading: let the scanner go
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Fatal(err)
		}
	}()
	genuine := false
	for s := range scans {
		if len(s.line) > MaxScanLine+2 || (s.line == nil && s.n <= MaxScanLine) {
			t.Fatalf("scan of %d bytes (n %d): over the limit, or an oversized mark on a short line", len(s.line), s.n)
		}
		line := bytes.TrimSpace(s.line)
		if s.line != nil && len(line) == 0 {
			continue
		}
		if s.line == nil {
			line = nil
		}
		genuine = genuine || string(line) == token
		ev := a.handleScan(line, s.n)
		if ev == nil {
			if string(line) != token {
				t.Fatalf("the door opened for %q", line)
			}
			continue
		}
		if ev.Kind != wire.EventCommandRejected || !slices.Contains(wire.Rejections, ev.Reason) {
			t.Fatalf("scan %q: event %+v, want command_rejected with a known reason", line, ev)
		}
	}
	if n := sim.Pulses(); n > 1 || (genuine && n != 1) {
		t.Fatalf("%d pulses; the genuine grant was scanned: %v", n, genuine)
	}
}
