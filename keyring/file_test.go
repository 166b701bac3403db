package keyring_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/doorman-dev/doorman/keyring"
)

func TestLoadOrCreateSigner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "command-key")
	s1, err := keyring.LoadOrCreateSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := keyring.LoadOrCreateSigner(path)
	if err != nil || s2.KeyID() != s1.KeyID() {
		t.Fatalf("reloaded key %v, %v; want the same key", s2, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	os.Chmod(path, 0o644)
	if _, err := keyring.LoadOrCreateSigner(path); err == nil {
		t.Fatal("world-readable key accepted")
	}
	os.WriteFile(path, []byte("k4.secret.short"), 0o600)
	os.Chmod(path, 0o600)
	if _, err := keyring.LoadOrCreateSigner(path); err == nil {
		t.Fatal("malformed key accepted")
	}
}
