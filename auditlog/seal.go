package auditlog

import (
	"encoding/base64"

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
