package keyring_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/keyring"
)

// pins is an AuditKeyStore in memory.
type pins struct{ keys []string }

func (p *pins) InitAuditKey(_ context.Context, vkey string) ([]string, error) {
	if len(p.keys) == 0 {
		p.keys = []string{vkey}
	}
	return slices.Clone(p.keys), nil
}
func (p *pins) AuditKeys(context.Context) ([]string, error) { return slices.Clone(p.keys), nil }

// TestOpenAuditKey: the first node creates and pins its key; it loads the
// same key again (many times, so that keys whose base64 holds "+" occur);
// a node with another key, or none, refuses to start.
func TestOpenAuditKey(t *testing.T) {
	ctx := context.Background()
	for i := range 50 {
		dir := t.TempDir()
		store := &pins{}
		path := filepath.Join(dir, "audit-checkpoint-key")
		k, err := keyring.OpenAuditKey(ctx, store, path, "audit-checkpoint-key")
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		again, err := keyring.OpenAuditKey(ctx, store, path, "audit-checkpoint-key")
		if err != nil || again.VKey != k.VKey {
			t.Fatalf("reloaded %v, %v", again, err)
		}
		sig, _ := k.Signer.Sign([]byte("x"))
		if !k.Verifier.Verify([]byte("x"), sig) {
			t.Fatal("the verifier does not verify the signer")
		}
		if i > 0 {
			continue
		}
		other := filepath.Join(dir, "other")
		if _, err := keyring.OpenAuditKey(ctx, store, other, "audit-checkpoint-key"); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("missing key file: %v", err)
		}
		if _, err := keyring.LoadOrCreateAuditKey(other); err != nil {
			t.Fatal(err)
		}
		if _, err := keyring.OpenAuditKey(ctx, store, other, "audit-checkpoint-key"); err == nil || !strings.Contains(err.Error(), k.VKey) {
			t.Fatalf("another key: %v", err)
		}
		os.Chmod(path, 0o644)
		if _, err := keyring.LoadOrCreateAuditKey(path); err == nil {
			t.Fatal("world-readable key accepted")
		}
	}
}
