package keyring

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/doorman-dev/doorman/internal/durable"
	"golang.org/x/mod/sumdb/note"
)

// AuditKeyName is the signed-note key name of the audit checkpoint key.
const AuditKeyName = "doorman-audit"

// AuditKey is the key the audit log's checkpoints are signed with. It
// lives in a file of the data dir, never in the database, so that someone
// who can write the database cannot sign a rewritten history.
type AuditKey struct {
	Signer   note.Signer
	Verifier note.Verifier
	// VKey is the verifier key in signed-note form (name+hash+key), what
	// auditors and witnesses are given.
	VKey string
}

// AuditKeyStore records which checkpoint key the deployment signs with
// (doorman.AuditLogStore).
type AuditKeyStore interface {
	InitAuditKey(ctx context.Context, vkey string) ([]string, error)
	AuditKeys(ctx context.Context) ([]string, error)
}

// OpenAuditKey loads this node's checkpoint key from path and pins it in
// the store like the command key (see Open): the first node creates and
// registers its key; a node with another key, or whose file is missing
// while the deployment has a key, does not start, since checkpoints
// signed with two keys would not verify against one. name is how the
// error messages call the file.
func OpenAuditKey(ctx context.Context, store AuditKeyStore, path, name string) (*AuditKey, error) {
	registered, err := store.AuditKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint key: %w", err)
	}
	if len(registered) > 0 {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("audit checkpoint key: %s does not exist, and this deployment signs checkpoints with key %s: "+
				"copy %s from a node that runs to %s, then start again", path, registered[0], name, path)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit checkpoint key: %w", err)
	}
	k, err := LoadOrCreateAuditKey(path)
	if err != nil {
		return nil, err
	}
	if registered, err = store.InitAuditKey(ctx, k.VKey); err != nil {
		return nil, fmt.Errorf("audit checkpoint key: register %s: %w", k.VKey, err)
	}
	if !slices.Contains(registered, k.VKey) {
		return nil, fmt.Errorf("audit checkpoint key: %s holds key %s, but this deployment signs checkpoints with key %s: "+
			"copy %s from a node that runs over %s, then start again", path, k.VKey, registered[0], name, path)
	}
	return k, nil
}

// LoadOrCreateAuditKey returns the checkpoint key stored at path as a
// signed-note private key, creating it (mode 0600) if the file does not
// exist. It refuses a key file others can read.
func LoadOrCreateAuditKey(path string) (*AuditKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		skey, _, err := note.GenerateKey(rand.Reader, AuditKeyName)
		if err != nil {
			return nil, err
		}
		if err := durable.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("keyring: write %s: %w", path, err)
		}
		return auditKey(skey)
	} else if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	k, err := auditKey(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", path, err)
	}
	return k, nil
}

// auditKey builds the signer and verifier of a signed-note private key
// (PRIVATE+KEY+name+hash+base64(algorithm, seed)).
func auditKey(skey string) (*AuditKey, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("not a signed-note private key: %w", err)
	}
	parts := strings.SplitN(skey, "+", 5) // the key's base64 may hold "+"
	if len(parts) != 5 {
		return nil, errors.New("not a signed-note private key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("not an Ed25519 signed-note private key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	if verifier.KeyHash() != signer.KeyHash() {
		return nil, errors.New("the key's hash does not match the key")
	}
	return &AuditKey{Signer: signer, Verifier: verifier, VKey: vkey}, nil
}

// AuditVerifier parses a checkpoint verifier key (name+hash+key), for
// verifying without the private key.
func AuditVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("audit checkpoint verifier key: %w", err)
	}
	return v, nil
}
