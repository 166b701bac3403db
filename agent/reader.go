package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unicode"

	"github.com/doorman-dev/doorman/wire"
)

// The door's reader: a QR or barcode scanner wired to the device, which
// presents what it scans as lines of text — a serial line (USB CDC ACM or a
// UART, e.g. /dev/ttyACM0) or, for tests and bench set-ups, standard input.
// Each line is one scan; the agent judges it as an offline grant (see
// handleScan), opens the door if it passes and queues the event either way.

// MaxScanLine is the longest scan line the agent reads: an offline grant
// is well under wire.MaxTokenSize; a longer line is noise or an attack and
// is skipped to its end without being buffered.
const MaxScanLine = wire.MaxTokenSize

// readerRetry is how long the agent waits before reopening a reader device
// that failed (unplugged, say).
const readerRetry = 5 * time.Second

// Reader is where the door's scanner's lines come from.
type Reader interface {
	// Open opens the reader; the agent closes what it returns to stop
	// reading.
	Open() (io.ReadCloser, error)
	// Reopen reports whether the agent should open the reader again after
	// it ends or fails: a device does, standard input does not.
	Reopen() bool
}

// DeviceReader is a scanner at a device path, opened read-only.
type DeviceReader string

// Open implements Reader.
func (d DeviceReader) Open() (io.ReadCloser, error) { return os.Open(string(d)) }

// Reopen implements Reader.
func (DeviceReader) Reopen() bool { return true }

// StreamReader reads scan lines from a stream once (standard input, a pipe
// in tests); it is not closed by the agent's Close.
type StreamReader struct{ R io.Reader }

// Open implements Reader.
func (s StreamReader) Open() (io.ReadCloser, error) { return io.NopCloser(s.R), nil }

// Reopen implements Reader.
func (StreamReader) Reopen() bool { return false }

// scan is one line the reader read, or an oversized one (line nil, n its
// length).
type scan struct {
	line []byte
	n    int
}

// readScans reads scan lines from the reader until ctx ends, judging each.
// The lines are read on a goroutine of their own, so that a read that
// cannot be interrupted (standard input) does not hold the agent up when
// it stops; scans are judged here, never after the agent stopped.
func (a *Agent) readScans(ctx context.Context, r Reader) {
	for {
		rc, err := r.Open()
		if err != nil {
			a.log.Error("reader not opened", "err", err)
		} else {
			scans, done := make(chan scan), make(chan error, 1)
			go func() { done <- scanLines(ctx, rc, scans) }()
			stop := context.AfterFunc(ctx, func() { rc.Close() })
			err = a.judgeScans(ctx, scans, done)
			stop()
			rc.Close()
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				a.log.Error("reader failed", "err", err)
			} else {
				a.log.Info("reader ended")
			}
		}
		if !r.Reopen() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(readerRetry):
		}
	}
}

// judgeScans judges the scans read until the reading ends (its error on
// done) or ctx does.
func (a *Agent) judgeScans(ctx context.Context, scans <-chan scan, done <-chan error) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			return err
		case s := <-scans:
			a.judgeScan(s.line, s.n)
		}
	}
}

// scanLines splits the stream into lines of at most MaxScanLine bytes and
// sends each on scans; a longer line is sent as one oversized scan and
// skipped to its end without being buffered. It returns nil at the end of
// the stream.
func scanLines(ctx context.Context, r io.Reader, scans chan<- scan) error {
	br := bufio.NewReaderSize(r, MaxScanLine+2)
	send := func(s scan) bool {
		select {
		case scans <- s:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			n := len(line)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				n += len(line)
			}
			if !send(scan{n: n}) {
				return ctx.Err()
			}
		case len(line) > 0:
			if !send(scan{line: bytes.Clone(line)}) {
				return ctx.Err()
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// judgeScan handles one scan line, or an oversized one (line nil, n its
// length): the door opens or stays shut, and the event says which and why.
func (a *Agent) judgeScan(line []byte, n int) {
	if line != nil {
		if line = bytes.TrimSpace(line); len(line) == 0 {
			return // an empty line: a scanner's terminator, not a scan
		}
	}
	ev := a.handleScan(line, n)
	if ev == nil { // opened; the event is queued
		return
	}
	if !a.admitRejectReport(ev) {
		return
	}
	a.report(ev)
}

// offlineNow returns the time offline grants are judged by: the corrected
// clock once a signed sync succeeded since the agent started; before that,
// only if the device's own clock is trusted (Config.TrustRTC: a
// battery-backed clock) and is not behind the last sync it remembers.
// Otherwise it says why there is no trusted time.
func (a *Agent) offlineNow() (time.Time, bool, string) {
	if t := a.clock.SyncedNow(); !t.IsZero() {
		return t, true, ""
	}
	if !a.cfg.TrustRTC {
		return time.Time{}, false, "no signed time sync since the agent started, and the device's own clock is not trusted (--trust-rtc)"
	}
	st := a.syncs.get()
	if st.SyncedAt.IsZero() {
		return time.Time{}, false, "the device has never synced its clock with the control plane"
	}
	now := a.cfg.Now().UTC()
	if skew := a.offlineSkew(); now.Before(st.SyncedAt.Add(-skew)) {
		return time.Time{}, false, fmt.Sprintf("the device's clock (%s) is behind its last time sync (%s)", fmtTime(now), fmtTime(st.SyncedAt))
	}
	return now, true, ""
}

// offlineSkew is the configured skew for offline grants.
func (a *Agent) offlineSkew() time.Duration {
	if a.cfg.OfflineSkew > 0 {
		return a.cfg.OfflineSkew
	}
	return wire.DefaultOfflineSkew
}

// handleScan judges one scan (nil: over MaxScanLine bytes) as an offline
// grant and, if it passes, opens the door. It returns the event to report.
//
// The checks, in order: the line's shape (length, printable ASCII); a
// trusted time to judge by (a signed sync since the agent started, or the
// device's own clock when it is trusted as battery-backed and is not behind
// the last sync); the building's offline window since the last sync (the
// window rides on the signed time replies; 0 means the building does not
// allow offline delivery); then the grant itself (pinned key, this door,
// its time window stretched by the configured skew, never used before —
// its token ID goes into the replay log, fsynced, before anything moves).
// As for a command, the unlock_executed event is on disk before the relay
// moves.
func (a *Agent) handleScan(line []byte, n int) *wire.Event {
	refuse := func(reason, format string, args ...any) *wire.Event {
		detail := fmt.Sprintf(format, args...)
		a.log.Warn("scan refused", "reason", reason, "detail", detail)
		return &wire.Event{Kind: wire.EventCommandRejected, Offline: true, Reason: reason, Detail: "reader: " + detail}
	}
	switch {
	case line == nil:
		return refuse(wire.RejectMalformed, "scan of %d bytes, over the %d byte limit", n, MaxScanLine)
	case !printable(line):
		return refuse(wire.RejectMalformed, "scan of %d bytes is not printable text (noise on the line?)", len(line))
	}
	now, ok, why := a.offlineNow()
	if !ok {
		return refuse(wire.RejectClockUnsynced, "%s", why)
	}
	st := a.syncs.get()
	if st.window() <= 0 {
		return refuse(wire.RejectOfflineDisabled, "the building does not allow offline delivery (as of the last time sync, %s)", fmtTime(st.SyncedAt))
	} else if until := st.until(); now.After(until) {
		return refuse(wire.RejectSyncTooOld, "last time sync %s; offline grants were accepted until %s", fmtTime(st.SyncedAt), fmtTime(until))
	}
	g, err := a.verifier.VerifyOfflineGrant(line, wire.OfflineCheck{Now: now, Skew: a.cfg.OfflineSkew})
	if err != nil {
		var rej *wire.Rejection
		if !errors.As(err, &rej) {
			rej = &wire.Rejection{Reason: wire.RejectInternal, Detail: err.Error()}
		}
		if a.replayFailed.Swap(false) && rej.Reason == wire.RejectInternal {
			rej = &wire.Rejection{Reason: wire.RejectStorageFault, Detail: rej.Detail}
		}
		return refuse(rej.Reason, "%s", rej.Detail)
	}
	executed := &wire.Event{Kind: wire.EventUnlockExecuted, Offline: true, GrantID: g.GrantID, JTI: g.JTI,
		CourierID: g.CourierID, Parcels: g.ParcelsDigest}
	if err := a.queueEvent(executed); err != nil {
		a.log.Error("offline grant refused: its unlock_executed event could not be stored", "grant", g.GrantID, "err", err)
		ev := refuse(wire.RejectStorageFault, "event queue: %v", err)
		ev.GrantID, ev.JTI = g.GrantID, g.JTI
		return ev
	}
	if err := a.relay.Pulse(g.Pulse); err != nil {
		a.log.Error("relay failed", "err", err)
		if err := a.queue.Done(executed.ID); err != nil {
			a.log.Error("withdraw unlock_executed", "err", err)
		}
		ev := refuse(wire.RejectInternal, "relay: %v", err)
		ev.GrantID, ev.JTI = g.GrantID, g.JTI
		return ev
	}
	a.mu.Lock()
	a.lastGrant, a.lastPulseEnd = g.GrantID, executed.At.Add(g.Pulse)
	a.mu.Unlock()
	a.log.Info("unlocked by an offline grant", "grant", g.GrantID, "courier", g.CourierID, "pulse", g.Pulse)
	return nil
}

// printable reports whether a scan is printable ASCII: offline grants are
// base64url text with dots; anything else is noise.
func printable(b []byte) bool {
	for _, c := range b {
		if c > unicode.MaxASCII || !unicode.IsPrint(rune(c)) {
			return false
		}
	}
	return true
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
