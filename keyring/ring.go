package keyring

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// Ring is the deployment's command keys as this node holds them: the key
// set registered in the store (with each key's times, from which its
// status follows) and the private keys of this node's key files. It signs
// with the set's active key, and says which keys devices are given at
// enrollment and in key updates. It is safe for concurrent use.
//
// The private keys live in files of the data dir, never in the database:
// the first key in the configured file, each rotated-in key in a file
// next to it named after the key (KeyFile). A node picks up keys other
// nodes registered at its next Refresh, provided their files were copied
// next to its own; until then it keeps signing with the newest key it
// holds that devices still accept.
type Ring struct {
	store doorman.CommandKeyStore // nil for a ring of one fixed signer (New)
	path  string
	now   func() time.Time

	mu      sync.RWMutex
	set     *doorman.CommandKeySet
	signers map[string]*wire.Signer // this node's private keys by key ID
	fixed   *wire.Signer
}

// New returns a ring that signs with signer alone, for tests and tools
// that hold a signer already: its set is that key, active, at sequence 1,
// and it cannot rotate.
func New(signer *wire.Signer) *Ring {
	return &Ring{fixed: signer, now: time.Now, signers: map[string]*wire.Signer{signer.KeyID(): signer},
		set: &doorman.CommandKeySet{Seq: 1, Keys: []*doorman.CommandKey{{KeyID: signer.KeyID(), PublicKey: signer.VerifyKey().PublicKey}}}}
}

// SetClock makes the ring read the time from now (tests).
func (r *Ring) SetClock(now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.mu.Unlock()
}

// Signer is the key unlock commands, offline grants and time replies are
// signed with now: the set's active key if this node holds it, otherwise
// (its file was not copied here yet) the newest active or retiring key it
// holds, which devices still accept. Nil when it holds none.
func (r *Ring) Signer() *wire.Signer {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.fixed != nil {
		return r.fixed
	}
	now := r.now()
	if a := r.set.Active(now); a != nil && r.signers[a.KeyID] != nil {
		return r.signers[a.KeyID]
	}
	var best *doorman.CommandKey
	for _, k := range r.set.Keys {
		st := r.set.Status(k, now)
		if (st == doorman.KeyActive || st == doorman.KeyRetiring) && r.signers[k.KeyID] != nil &&
			(best == nil || !k.ActivatesAt.Before(best.ActivatesAt)) {
			best = k
		}
	}
	if best == nil {
		return nil
	}
	return r.signers[best.KeyID]
}

// KeyID is the PASERK key ID of the signing key ("" when there is none).
func (r *Ring) KeyID() string {
	if s := r.Signer(); s != nil {
		return s.KeyID()
	}
	return ""
}

// VerifyKeys are the keys an enrolling device pins: every registered key
// that is neither retired nor revoked (the next key too, so that a device
// enrolled during an overlap window accepts it when it activates).
func (r *Ring) VerifyKeys() []wire.VerifyKey {
	set := r.WireSet()
	var out []wire.VerifyKey
	for _, k := range set.Keys {
		if k.Status != doorman.KeyRetired && k.Status != doorman.KeyRevoked {
			out = append(out, k.VerifyKey)
		}
	}
	return out
}

// KeySet returns the key set as last read from the store.
func (r *Ring) KeySet() *doorman.CommandKeySet {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.set
}

// Seq is the sequence of the key set as last read from the store.
func (r *Ring) Seq() int64 { return r.KeySet().Seq }

// Holds reports whether this node holds the private key of kid.
func (r *Ring) Holds(kid string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.signers[kid] != nil
}

// Now is the ring's clock.
func (r *Ring) Now() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.now()
}

// WireSet is the key set as devices are sent it: the newest
// wire.MaxKeySetKeys keys whose public key is known, with their statuses
// now.
func (r *Ring) WireSet() *wire.KeySet {
	r.mu.RLock()
	defer r.mu.RUnlock()
	now := r.now()
	out := &wire.KeySet{Seq: r.set.Seq}
	for _, k := range slices.Backward(r.set.Keys) {
		if k.PublicKey == "" || len(out.Keys) == wire.MaxKeySetKeys {
			continue
		}
		out.Keys = append(out.Keys, wire.SetKey{
			VerifyKey: wire.VerifyKey{KeyID: k.KeyID, PublicKey: k.PublicKey},
			Status:    r.set.Status(k, now), RetiresAt: k.RetiresAt,
		})
	}
	slices.Reverse(out.Keys)
	return out
}

// SignKeyUpdate returns the key update for door doorID: the set, signed
// by every key this node holds, newest first, so that a device that
// missed rotations finds a key it trusts. Revoked keys sign too: a door
// refuses a set signed by a key it knows to be revoked, and a door that
// does not know yet trusts that key for everything anyway, so its
// signature gives a thief nothing and lets the door learn of the
// revocation (and move to the new key) instead of being stranded on it.
// Returns
// EINVALID when the set cannot be sent (see wire.KeySet.Validate) or
// this node holds no key to sign with.
func (r *Ring) SignKeyUpdate(doorID string) (*wire.KeyUpdate, error) {
	set := r.WireSet()
	r.mu.RLock()
	var signers []*wire.Signer
	for _, k := range slices.Backward(r.set.Keys) {
		if s := r.signers[k.KeyID]; s != nil {
			signers = append(signers, s)
		}
	}
	r.mu.RUnlock()
	return wire.SignKeyUpdate(signers, doorID, set)
}

// Refresh reads the key set from the store again and loads the key files
// of keys this node does not hold yet. It reports whether the set's
// sequence changed.
func (r *Ring) Refresh(ctx context.Context) (bool, error) {
	if r.store == nil {
		return false, nil
	}
	set, err := r.store.CommandKeySet(ctx)
	if err != nil {
		return false, fmt.Errorf("command key set: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, k := range set.Keys {
		if r.signers[k.KeyID] != nil {
			continue
		}
		s, err := loadExisting(KeyFile(r.path, k.KeyID))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		} else if s.KeyID() != k.KeyID {
			errs = append(errs, fmt.Errorf("keyring: %s holds key %s, not %s", KeyFile(r.path, k.KeyID), s.KeyID(), k.KeyID))
			continue
		}
		r.signers[k.KeyID] = s
	}
	changed := r.set == nil || r.set.Seq != set.Seq
	r.set = set
	return changed, errors.Join(errs...)
}

// Missing lists the keys devices accept (next, active or retiring) whose
// private key this node does not hold: their files must be copied here.
func (r *Ring) Missing() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	now := r.now()
	var out []string
	for _, k := range r.set.Keys {
		st := r.set.Status(k, now)
		if r.signers[k.KeyID] == nil && (st == doorman.KeyNext || st == doorman.KeyActive || st == doorman.KeyRetiring) {
			out = append(out, k.KeyID)
		}
	}
	return out
}

// Run refreshes the ring every interval until ctx ends, calling changed
// after each refresh that found a new sequence (to announce the set to
// devices) and logf for failures.
func (r *Ring) Run(ctx context.Context, interval time.Duration, changed func(context.Context), logf func(msg string, args ...any)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := r.Refresh(ctx)
		if err != nil {
			logf("command key ring refresh", "err", err)
		}
		if missing := r.Missing(); len(missing) > 0 && ok {
			logf("command keys devices accept are missing on this node: copy their files next to the command key file", "missing", missing)
		}
		if ok && changed != nil {
			changed(ctx)
		}
	}
}

// Rotate creates a new key, in a file next to the ring's, and registers
// it to activate after overlap; the key active now retires grace after
// that. Returns the new key; ECONFLICT when a key waits to activate
// already, EINVALID for a negative overlap or grace.
func (r *Ring) Rotate(ctx context.Context, overlap, grace time.Duration) (*doorman.CommandKey, error) {
	if r.store == nil {
		return nil, doorman.Errorf(doorman.EINVALID, "This key ring cannot rotate.")
	} else if overlap < 0 || grace < 0 {
		return nil, doorman.Errorf(doorman.EINVALID, "The overlap and the grace period must not be negative.")
	}
	signer, err := generate()
	if err != nil {
		return nil, err
	}
	path := KeyFile(r.path, signer.KeyID())
	if err := writeSigner(path, signer); err != nil {
		return nil, err
	}
	now := r.Now()
	k := &doorman.CommandKey{KeyID: signer.KeyID(), PublicKey: signer.VerifyKey().PublicKey, ActivatesAt: now.Add(overlap)}
	set, err := r.store.AddCommandKey(ctx, k, now, now.Add(overlap+grace))
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	r.mu.Lock()
	r.signers[k.KeyID], r.set = signer, set
	r.mu.Unlock()
	return set.Key(k.KeyID), nil
}

// Activate makes the next key kid active now; the key active before it
// retires grace from now. Returns ENOTFOUND or ECONFLICT (not next).
func (r *Ring) Activate(ctx context.Context, kid string, grace time.Duration) error {
	if r.store == nil {
		return doorman.Errorf(doorman.EINVALID, "This key ring cannot rotate.")
	}
	now := r.Now()
	set, err := r.store.ActivateCommandKey(ctx, kid, now, now.Add(max(grace, 0)))
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.set = set
	r.mu.Unlock()
	return nil
}

// Revoke revokes kid now. Returns ENOTFOUND.
func (r *Ring) Revoke(ctx context.Context, kid string) error {
	if r.store == nil {
		return doorman.Errorf(doorman.EINVALID, "This key ring cannot rotate.")
	}
	set, err := r.store.RevokeCommandKey(ctx, kid, r.Now())
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.set = set
	r.mu.Unlock()
	return nil
}

// KeyFile is the file, next to the first key's file path, that holds the
// rotated-in key kid: path, a dot and the key ID's hash part (base64url,
// safe in a file name).
func KeyFile(path, kid string) string {
	return path + "." + strings.TrimPrefix(kid, "k4.pid.")
}

// Open loads this node's signing key from path and checks it against the
// store: the first node of a deployment creates and registers its key,
// and any later node must sign with a registered key, since devices pin
// the keys they were given at enrollment and refuse commands signed with
// any other (as unknown_key, seen only as door_rejected). A node whose key
// file is missing does not create one when the deployment has a key
// already, so that the operator copies the right file instead of
// overwriting a stray one. name is how the error messages call the file.
// Rotated-in keys are loaded from their files next to path (KeyFile).
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
	if err := store.SetCommandKeyPublic(ctx, kid, signer.VerifyKey().PublicKey); err != nil {
		return nil, fmt.Errorf("command signing key: record the public key of %s: %w", kid, err)
	}
	r := &Ring{store: store, path: path, now: time.Now, signers: map[string]*wire.Signer{kid: signer}}
	if _, err := r.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("command signing key: %w", err)
	}
	if r.Signer() == nil {
		return nil, fmt.Errorf("command signing key: this node holds no key devices accept (missing: %s): "+
			"copy their files from a node that runs next to %s, then start again", strings.Join(r.Missing(), ", "), path)
	}
	return r, nil
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

// loadExisting loads the key file at path, which must exist.
func loadExisting(path string) (*wire.Signer, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return LoadOrCreateSigner(path)
}
