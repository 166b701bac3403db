package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/auditlog"
	"github.com/doorman-dev/doorman/keyring"
	"github.com/doorman-dev/doorman/sqlite"
)

// TestAuditVerifyCheckpoints: a node that signed checkpoints into its
// data dir, then a database writer who cuts a chain's tail and rewrites
// its head so that the chain verifies on its own: `doorman audit verify`
// names the chain from the checkpoint files and exits non-zero.
func TestAuditVerifyCheckpoints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.DataDir = dir
	store, err := sqlite.Open(ctx, filepath.Join(dir, "doorman.db"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := keyring.OpenAuditKey(ctx, store, cfg.AuditKeyPath(), AuditKeyName)
	if err != nil {
		t.Fatal(err)
	}
	store.SetAuditSealer(auditlog.Sealer(key.Signer))
	seeded, err := seedDemo(ctx, app.New(store, app.Config{}), 0)
	if err != nil {
		t.Fatal(err)
	}
	cp := &auditlog.Checkpointer{Store: store, Signer: key.Signer, Verifier: key.Verifier, Dir: cfg.CheckpointDir()}
	if err := cp.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"audit", "verify", "--data-dir", dir}, &out, &out); err != nil ||
		!strings.Contains(out.String(), "matches its signed checkpoints") {
		t.Fatalf("intact log: %v\n%s", err, out.String())
	}
	// The attacker keeps entry 1 and makes the head say so.
	db := store.DB()
	var hash string
	if err := db.QueryRowContext(ctx, `SELECT hash FROM audit_entries WHERE chain = $1 AND seq = 1`, seeded.Building.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM audit_entries WHERE chain = $1 AND seq > 1`, `UPDATE audit_heads SET seq = 1, hash = $2 WHERE chain = $1`} {
		args := []any{seeded.Building.ID}
		if strings.Contains(q, "$2") {
			args = append(args, hash)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	if breaks, _ := store.VerifyAudit(ctx); len(breaks) != 0 {
		t.Fatalf("the cut chain does not verify on its own: %+v", breaks)
	}
	store.Close()

	out.Reset()
	err = run(ctx, []string{"audit", "verify", "--data-dir", dir, "--checkpoint-vkey", key.VKey}, &out, &out)
	if err == nil {
		t.Fatalf("a cut log verified:\n%s", out.String())
	}
	if want := "chain " + seeded.Building.ID + " broken at seq 2"; !strings.Contains(out.String(), want) {
		t.Fatalf("output %q lacks %q", out.String(), want)
	}
}
