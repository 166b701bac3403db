package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/nats-io/nats.go"
	"golang.org/x/mod/sumdb/note"

	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/internal/durable"
	"github.com/doorman-dev/doorman/wire"
)

// auditFile holds, in the data dir, the checkpoint of the building's audit
// chain the device keeps as a witness: the signed note, as it came.
const auditFile = "audit-checkpoint.note"

// witness is the device's part in the audit log (see wire.AuditSubject):
// it keeps the latest checkpoint of its building's chain that it checked,
// on disk, and takes a newer one only when it is signed by the audit key
// pinned at enrollment and proved consistent with the one kept.
type witness struct {
	path string
	mu   sync.Mutex
	w    auditlog.Witness
}

// openWitness returns the device's witness, or nil for a device enrolled
// without an audit key (it witnesses nothing), with the checkpoint kept
// in dir. A kept checkpoint that no longer verifies is an error.
func openWitness(dir string, id *Identity) (*witness, error) {
	if id.AuditKey == "" {
		return nil, nil
	}
	v, err := note.NewVerifier(id.AuditKey)
	if err != nil {
		return nil, fmt.Errorf("agent: audit key: %w", err)
	}
	wt := &witness{path: filepath.Join(dir, auditFile), w: auditlog.Witness{Chain: id.AuditChain, Verifier: v}}
	data, err := os.ReadFile(wt.path)
	if errors.Is(err, fs.ErrNotExist) {
		return wt, nil
	} else if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if wt.w.Latest, err = auditlog.Open(string(data), id.AuditChain, v); err != nil {
		return nil, fmt.Errorf("agent: the kept audit checkpoint %s does not verify: %w", wt.path, err)
	}
	return wt, nil
}

// kept returns the size and root hash of the checkpoint kept (0, nil
// before the first).
func (wt *witness) kept() (int64, []byte) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.w.Latest == nil {
		return 0, nil
	}
	return int64(wt.w.Latest.Size), wt.w.Latest.Root
}

// update checks cp against the checkpoint kept and, when it is newer and
// consistent, keeps it on disk (crash-safe) before it is reported. It
// returns the reason of a refusal (wire.AuditForged or wire.AuditFork)
// with the error, or whether the kept checkpoint changed. A checkpoint
// with a good signature whose proof starts from another size than the
// one kept (it crossed a heartbeat, or was proved from a size sent that
// this device did not take) is ignored, neither kept nor reported.
func (wt *witness) update(cp *wire.AuditCheckpoint) (changed bool, reason string, err error) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	prev := wt.w.Latest
	if _, err := auditlog.Open(cp.Note, wt.w.Chain, wt.w.Verifier); err != nil {
		return false, wire.AuditForged, err
	}
	keptSize := uint64(0)
	if prev != nil {
		keptSize = prev.Size
	}
	if uint64(cp.From) != keptSize {
		return false, "", nil
	}
	if err := wt.w.Update(cp.Note, cp.Proof); err != nil {
		return false, wire.AuditFork, err
	}
	if prev != nil && prev.Size == wt.w.Latest.Size {
		wt.w.Latest = prev
		return false, "", nil
	}
	if err := durable.WriteFile(wt.path, []byte(cp.Note), 0o600); err != nil {
		wt.w.Latest = prev
		return false, "", err
	}
	return true, "", nil
}

// onAuditCheckpoint handles a checkpoint the control plane sent: a
// refused one is reported as a tamper event naming the reason; a kept
// one is reported in the next heartbeat (not in one of its own: at a
// checkpoint pushed to every door of every busy building every 15 s,
// those heartbeats outnumbered the unlocks).
func (a *Agent) onAuditCheckpoint(m *nats.Msg) {
	var cp wire.AuditCheckpoint
	if err := wire.Decode(m.Data, wire.MaxMessageSize, &cp); err != nil {
		a.log.Warn("malformed audit checkpoint", "err", err)
		return
	}
	changed, reason, err := a.witness.update(&cp)
	switch {
	case reason != "":
		a.log.Error("audit checkpoint refused", "reason", reason, "err", err)
		a.report(&wire.Event{Kind: wire.EventTamper, Reason: reason, Detail: "audit checkpoint refused: " + err.Error()})
		return
	case err != nil:
		// Not kept, so not reported: the next checkpoint tries again.
		a.log.Error("audit checkpoint not kept", "err", err)
		return
	case !changed:
		return
	}
	size, _ := a.witness.kept()
	a.log.Debug("audit checkpoint witnessed", "size", size)
}

// AuditWitnessed returns the size and root hash of the audit checkpoint
// the device keeps, and false for a device that witnesses nothing.
func (a *Agent) AuditWitnessed() (int64, []byte, bool) {
	if a.witness == nil {
		return 0, nil, false
	}
	size, root := a.witness.kept()
	return size, root, true
}
