package auditlog

import (
	"encoding/base64"
	"sync"

	"github.com/doorman-dev/doorman"
	"golang.org/x/mod/sumdb/note"
)

// sealPrefix starts the message a seal signs, so that a seal is never a
// valid signature of anything else made with the same key.
const sealPrefix = "doorman audit entry\n"

// Sealer returns the function a store calls to seal each entry it
// appends: the signer's signature over the entry's hash. A checkpoint
// fixes the history up to its size; the seal makes an entry appended
// through the database alone, after the last checkpoint, stand out too.
func Sealer(signer note.Signer) func(hash string) (string, error) {
	return func(hash string) (string, error) {
		sig, err := signer.Sign([]byte(sealPrefix + hash))
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(sig), nil
	}
}

// Sealed reports whether e carries a valid seal of verifier's key over
// its hash (which the caller checks against the entry).
func Sealed(verifier note.Verifier, e *doorman.AuditEntry) bool {
	sig, err := base64.StdEncoding.DecodeString(e.Seal)
	return err == nil && len(sig) > 0 && verifier.Verify([]byte(sealPrefix+e.Hash), sig)
}

// Seals seals entries with one key and checks seals against it,
// remembering the seals it made last: an entry carrying the very seal this
// process made for its hash (Ed25519 signatures are deterministic) is
// sealed without verifying the signature again, which the checkpointer
// would otherwise do for every entry, a second after the store sealed it.
// Entries sealed by another node, or before a restart, are verified.
type Seals struct {
	signer   note.Signer
	verifier note.Verifier

	mu   sync.Mutex
	made map[string]string // entry hash → seal, the last len(ring)
	ring []string          // hashes in made, oldest at next
	next int
}

// NewSeals returns a Seals for the key pair that remembers its last
// remember seals (16,384 when remember ≤ 0).
func NewSeals(signer note.Signer, verifier note.Verifier, remember int) *Seals {
	if remember <= 0 {
		remember = 16384
	}
	return &Seals{signer: signer, verifier: verifier,
		made: make(map[string]string, remember), ring: make([]string, remember)}
}

// Seal returns the seal of an entry whose hash is hash; it is the function
// a store calls to seal each entry it appends (see Sealer).
func (s *Seals) Seal(hash string) (string, error) {
	sig, err := s.signer.Sign([]byte(sealPrefix + hash))
	if err != nil {
		return "", err
	}
	seal := base64.StdEncoding.EncodeToString(sig)
	s.mu.Lock()
	if old := s.ring[s.next]; old != "" {
		delete(s.made, old)
	}
	s.ring[s.next] = hash
	s.made[hash] = seal
	s.next = (s.next + 1) % len(s.ring)
	s.mu.Unlock()
	return seal, nil
}

// Sealed reports whether e carries a valid seal of the key over its hash,
// as the package's Sealed does.
func (s *Seals) Sealed(e *doorman.AuditEntry) bool {
	s.mu.Lock()
	made, ok := s.made[e.Hash]
	s.mu.Unlock()
	if ok && made == e.Seal {
		return true
	}
	return Sealed(s.verifier, e)
}
