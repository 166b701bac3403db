package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/doorman-dev/doorman/wire"
)

// loadCommandKey loads this node's command signing key and checks it
// against the store: the first node of a deployment registers its key,
// and any later node must sign with a registered key, since devices pin
// the keys they were given at enrollment and refuse commands signed with
// any other (as unknown_key, seen only as door_rejected). A node whose
// key file is missing does not create one when the deployment has a key
// already, so that the operator copies the right file instead of
// overwriting a stray one.
func (m *Main) loadCommandKey(ctx context.Context) (*wire.Signer, error) {
	path := m.Config.CommandKeyPath()
	registered, err := m.Store.CommandKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("command signing key: %w", err)
	}
	signer, err := m.Config.LoadSigner(len(registered) == 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("command signing key: %s does not exist, and this deployment signs commands with key %s: "+
			"copy %s from a node that runs to %s, then start again", path, registered[0], CommandKeyName, path)
	} else if err != nil {
		return nil, fmt.Errorf("command signing key: %w", err)
	}
	kid := signer.KeyID()
	if registered, err = m.Store.InitCommandKey(ctx, kid); err != nil {
		return nil, fmt.Errorf("command signing key: register %s: %w", kid, err)
	}
	if !slices.Contains(registered, kid) {
		return nil, fmt.Errorf("command signing key: %s holds key %s, but this deployment signs commands with key %s, "+
			"and devices refuse every command signed with another key: copy %s from a node that runs over %s, then start again",
			path, kid, registered[0], CommandKeyName, path)
	}
	m.Logger.Info("command signing key", "kid", kid, "file", path)
	return signer, nil
}
