package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/doorman-dev/doorman/internal/durable"
	"github.com/doorman-dev/doorman/wire"
)

// keysFile holds, in the data dir, the command key set the device took
// from the last key update it accepted (wire.KeySet as JSON). Without it
// the device pins the keys enrollment gave it (sequence 0).
const keysFile = "command-keys.json"

// loadKeySet returns the key set kept in dir, or nil if there is none.
func loadKeySet(dir string) (*wire.KeySet, error) {
	data, err := ReadPrivateFile(filepath.Join(dir, keysFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var set wire.KeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("agent: %s: %w", keysFile, err)
	}
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("agent: %s: %w", keysFile, err)
	}
	return &set, nil
}

// onKeyUpdate handles a key update the control plane sent (see
// wire.KeysSubject): a set newer than the one held, signed by a key the
// device trusts, for its door, is written to disk (crash-safe) and then
// pinned; anything else leaves the keys as they are and is logged, and
// an update signed by a key the device does not trust, older, for another
// door or badly signed is reported as a tamper event naming the reason
// (rate-limited with command rejections). A copy of the set held
// (several control-plane nodes announce the same change) is only logged
// at debug.
func (a *Agent) onKeyUpdate(m *nats.Msg) {
	a.keysMu.Lock()
	defer a.keysMu.Unlock()
	held := a.verifier.KeySeq()
	set, err := a.verifier.VerifyKeyUpdate(m.Data, held)
	if err != nil {
		var rej *wire.Rejection
		if !errors.As(err, &rej) {
			rej = &wire.Rejection{Reason: wire.RejectInternal, Detail: err.Error()}
		}
		if rej.Reason == wire.RejectReplayed && a.heldSetAgain(m.Data, held) {
			a.log.Debug("key update of the set held already ignored", "seq", held)
			return
		}
		a.log.Warn("key update refused", "reason", rej.Reason, "detail", rej.Detail, "seq", held)
		if rej.Reason == wire.RejectMalformed {
			// Logged only: what is not even a key update is what any
			// device can make the server deliver here (a no-responders
			// status to a reply subject it named, as on the command subject),
			// and reporting it would let one door fill another's
			// reports.
			return
		}
		ev := &wire.Event{Kind: wire.EventTamper, Reason: rej.Reason, Detail: truncate("key update refused: "+rej.Detail, wire.MaxDetailLength)}
		if a.admitRejectReport(ev) {
			a.report(ev)
		}
		return
	}
	data, err := json.MarshalIndent(set, "", "  ")
	if err == nil {
		err = durable.WriteFile(filepath.Join(a.cfg.DataDir, keysFile), data, 0o600)
	}
	if err != nil {
		// Not kept, so not taken: the next heartbeat brings it again.
		a.log.Error("key update not kept", "err", err)
		return
	}
	if err := a.verifier.SetKeys(set); err != nil {
		a.log.Error("key update not taken", "err", err)
		return
	}
	a.log.Info("command keys updated", "keys", set.String())
	select {
	case a.beatWake <- struct{}{}:
	default:
	}
}

// heldSetAgain reports whether a refused-as-replayed update carries the
// sequence held, rather than an older one.
func (a *Agent) heldSetAgain(data []byte, held int64) bool {
	_, err := a.verifier.VerifyKeyUpdate(data, held-1)
	return err == nil
}

// KeySeq returns the sequence of the command key set the device holds (0:
// the keys pinned at enrollment).
func (a *Agent) KeySeq() int64 { return a.verifier.KeySeq() }

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-3], "")
}
