package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
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

// TestAuditProofsOverAPI takes a manager's tool's view: it fetches a
// building's signed checkpoint from a running node, checks its signature
// with the deployment's verifier key, checks an entry it was shown is in
// the tree, and after more entries checks the next checkpoint is
// consistent with the first (what a witness does).
func TestAuditProofsOverAPI(t *testing.T) {
	ctx := context.Background()
	m := node(t, t.TempDir(), "")
	serving(t, m)
	seeded, err := seedDemo(ctx, m.App, 0)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := m.App.Credentials.CreateOperatorToken(systemContext(ctx), "test")
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(path string, into any) {
		t.Helper()
		req, _ := http.NewRequest("GET", m.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
		}
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatal(err)
		}
	}
	chain := seeded.Building.ID
	verifier, err := keyring.AuditVerifier(m.auditLog.key.VKey)
	if err != nil {
		t.Fatal(err)
	}
	checkpoint := func() *auditlog.Checkpoint {
		t.Helper()
		if err := m.auditLog.cp.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		var got doorman.AuditCheckpoint
		fetch("/v1/audit/chains/"+chain+"/checkpoint", &got)
		cp, err := auditlog.Open(got.Note, chain, verifier)
		if err != nil {
			t.Fatalf("served checkpoint does not verify: %v\n%s", err, got.Note)
		}
		return cp
	}
	first := checkpoint()
	w := &auditlog.Witness{Chain: chain, Verifier: verifier}
	if err := w.Update(first.Note, nil); err != nil {
		t.Fatal(err)
	}

	var page struct{ Items []*doorman.AuditEntry }
	fetch("/v1/audit?chain="+chain, &page)
	shown := page.Items[len(page.Items)-2] // an entry the manager was shown
	var inc app.InclusionProof
	fetch(fmt.Sprintf("/v1/audit/entries/%s/inclusion?size=%d", shown.ID, first.Size), &inc)
	if !bytes.Equal(inc.LeafHash, auditlog.LeafHash(shown)) {
		t.Fatal("the proof's leaf is not the entry shown")
	}
	if err := auditlog.VerifyInclusion(inc.Index, inc.Size, auditlog.LeafHash(shown), inc.Hashes, first.Root); err != nil {
		t.Fatalf("inclusion proof: %v", err)
	}

	if _, err := m.App.Buildings.UpdateBuilding(systemContext(ctx), chain, app.BuildingChange{Name: ptrTo("Maple Court East")}); err != nil {
		t.Fatal(err)
	}
	second := checkpoint()
	if second.Size <= first.Size {
		t.Fatalf("no new checkpoint: %d after %d", second.Size, first.Size)
	}
	var cons app.ConsistencyProof
	fetch(fmt.Sprintf("/v1/audit/chains/%s/consistency?from=%d&to=%d", chain, first.Size, second.Size), &cons)
	if err := w.Update(second.Note, cons.Hashes); err != nil {
		t.Fatalf("witness: %v", err)
	}
}

// TestAuditKeyPinned: a second node of the deployment with another audit
// checkpoint key does not start, and names the deployment's key.
func TestAuditKeyPinned(t *testing.T) {
	dir := t.TempDir()
	first := node(t, dir, "")
	mustStart(t, first)
	vkey := first.auditLog.key.VKey
	first.Close(context.Background())

	if err := os.Remove(filepath.Join(dir, AuditKeyName)); err != nil {
		t.Fatal(err)
	}
	m := node(t, dir, "")
	err := m.Open(context.Background())
	m.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), vkey) {
		t.Fatalf("node without the audit key: %v", err)
	}
	if _, err := keyring.LoadOrCreateAuditKey(filepath.Join(dir, AuditKeyName)); err != nil {
		t.Fatal(err)
	}
	m = node(t, dir, "")
	err = m.Open(context.Background())
	m.Close(context.Background())
	if err == nil || !strings.Contains(err.Error(), vkey) {
		t.Fatalf("node with another audit key: %v", err)
	}
}

func ptrTo[T any](v T) *T { return &v }
