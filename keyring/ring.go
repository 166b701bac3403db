package keyring

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// Ring is the deployment's command keys as this node holds them: the key it
// signs with and the keys devices verify with.
type Ring struct {
	signer *wire.Signer
}

// New returns a ring that signs with signer, for tests and tools that hold
// a signer already.
func New(signer *wire.Signer) *Ring { return &Ring{signer: signer} }

// Signer is the key unlock commands and time replies are signed with.
func (r *Ring) Signer() *wire.Signer { return r.signer }

// KeyID is the PASERK key ID of the signing key.
func (r *Ring) KeyID() string { return r.signer.KeyID() }

// VerifyKeys are the keys an enrolling device pins. Only one key is
// registered today; with rotation, every registered key that is not
// retired.
func (r *Ring) VerifyKeys() []wire.VerifyKey { return []wire.VerifyKey{r.signer.VerifyKey()} }

// Open loads this node's signing key from path and checks it against the
// store: the first node of a deployment creates and registers its key,
// and any later node must sign with a registered key, since devices pin
// the keys they were given at enrollment and refuse commands signed with
// any other (as unknown_key, seen only as door_rejected). A node whose key
// file is missing does not create one when the deployment has a key
// already, so that the operator copies the right file instead of
// overwriting a stray one. name is how the error messages call the file.
func Open(ctx context.Context, store doorman.CommandKeyStore, path, name string) (*Ring, error) {
	registered, err := store.CommandKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("command signing key: %w", err)
	}
	signer, err := load(path, len(registered) == 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("command signing key: %s does not exist, and this deployment signs commands with key %s: "+
			"copy %s from a node that runs to %s, then start again", path, registered[0], name, path)
	} else if err != nil {
		return nil, fmt.Errorf("command signing key: %w", err)
	}
	kid := signer.KeyID()
	if registered, err = store.InitCommandKey(ctx, kid); err != nil {
		return nil, fmt.Errorf("command signing key: register %s: %w", kid, err)
	}
	if !slices.Contains(registered, kid) {
		return nil, fmt.Errorf("command signing key: %s holds key %s, but this deployment signs commands with key %s, "+
			"and devices refuse every command signed with another key: copy %s from a node that runs over %s, then start again",
			path, kid, registered[0], name, path)
	}
	return &Ring{signer: signer}, nil
}

// load loads the signing key, creating it (and its directory) if create
// is true and the file does not exist.
func load(path string, create bool) (*wire.Signer, error) {
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return LoadOrCreateSigner(path)
}
