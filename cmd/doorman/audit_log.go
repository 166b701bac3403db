package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/keyring"
)

// AuditKeyName is the file, in the data dir, that holds the audit
// checkpoint key. Every node of a deployment must have the same one.
const AuditKeyName = "audit-checkpoint-key"

// CheckpointDirName is the directory, in the data dir, where this node
// appends the audit checkpoints it signs (one file per chain).
const CheckpointDirName = "checkpoints"

// AuditKeyPath returns the file that holds the audit checkpoint key.
func (c *Config) AuditKeyPath() string { return filepath.Join(c.DataDir, AuditKeyName) }

// CheckpointDir returns the directory of this node's checkpoint files.
func (c *Config) CheckpointDir() string { return filepath.Join(c.DataDir, CheckpointDirName) }

// auditLog is the running checkpointer of a Main.
type auditLog struct {
	key  *keyring.AuditKey
	cp   *auditlog.Checkpointer
	stop context.CancelFunc
	done chan struct{}
}

// sealingStore is a store that seals the audit entries it appends.
type sealingStore interface {
	SetAuditSealer(func(hash string) (string, error))
}

// openAuditLog loads the checkpoint key (pinned in the store like the
// command key), makes the store seal every entry with it, checks the
// chains against this node's last checkpoints, and starts signing new
// checkpoints every second.
func (m *Main) openAuditLog(ctx context.Context) error {
	key, err := keyring.OpenAuditKey(ctx, m.Store, m.Config.AuditKeyPath(), AuditKeyName)
	if err != nil {
		return err
	}
	sealing, ok := m.Store.(sealingStore)
	if !ok {
		return fmt.Errorf("audit log: the store cannot seal audit entries")
	}
	seals := auditlog.NewSeals(key.Signer, key.Verifier, 0)
	sealing.SetAuditSealer(seals.Seal)
	cp := &auditlog.Checkpointer{Store: m.Store, Signer: key.Signer, Verifier: key.Verifier,
		Seals: seals, Dir: m.Config.CheckpointDir(), Logger: m.Logger}
	if err := cp.Checkpoint(ctx); err != nil {
		// A chain that contradicts its checkpoints is not signed again;
		// the node serves, and verification names the chain.
		m.Logger.Error("audit log does not match its checkpoints; run doorman audit verify", "err", err)
	}
	run, stop := context.WithCancel(context.Background())
	l := &auditLog{key: key, cp: cp, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		cp.Run(run)
	}()
	m.auditLog = l
	m.Logger.Info("audit checkpoint key", "vkey", key.VKey, "checkpoints", cp.Dir)
	return nil
}

// checkpoints are what the Audit service verifies against.
func (l *auditLog) checkpoints() *app.AuditCheckpoints {
	return &app.AuditCheckpoints{Dir: l.cp.Dir, Verifier: l.key.Verifier, VKey: l.key.VKey}
}

// close stops the checkpointer after a last checkpoint, waiting for it
// until ctx ends.
func (l *auditLog) close(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.stop()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit log: the last checkpoint was not signed before the shutdown deadline: %w", ctx.Err())
	}
}
