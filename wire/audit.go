package wire

import (
	"encoding/base64"

	"github.com/doorman-dev/doorman"
)

// Door devices witness their building's audit log (see auditlog.Witness):
// each keeps the latest checkpoint of its building's chain it has checked
// and reports its size and root hash in every heartbeat
// (Event.AuditWitness, AuditSize, AuditRoot). When a heartbeat reports a
// size below the chain's latest checkpoint, the control plane sends the
// device that checkpoint with a consistency proof from the reported size,
// on the door's AuditSubject; it also sends each new checkpoint, as it is
// signed, to the devices whose last report it holds. The subject lies under the door's reply
// inbox, which every device already subscribes to, so devices enrolled
// before witnesses existed need no new credentials (they have no audit
// key, though, and witness nothing until they enroll again).

// Rejections of a checkpoint a device was sent, the Reason of the tamper
// event it reports: a checkpoint not signed by the audit key it pinned (or
// of another chain), or one that does not extend the checkpoint it kept
// (a forked or rewritten history, or an older checkpoint).
const (
	AuditForged = "audit_forged"
	AuditFork   = "audit_fork"
)

// MaxAuditProof bounds a consistency proof's hashes: a tree of 2^63
// leaves needs at most 2·63.
const MaxAuditProof = 128

// AuditSubject is the subject a door's device receives audit checkpoints
// on. It lies under the door's inbox prefix (see the subject scheme).
func AuditSubject(doorID string) string { return InboxPrefix(doorID) + ".audit" }

// AuditCheckpoint is a signed checkpoint of a building's audit chain (a
// C2SP signed note) and the consistency proof from the size From, the
// size of the checkpoint the control plane last knew the device to keep,
// to the checkpoint's size (RFC 6962, hashes in order). A device that
// keeps another size ignores the message (it crossed a heartbeat, or was
// proved from a size sent to the device that it did not take; a later
// heartbeat, or the control plane's trust in what it sent running out,
// brings a proof from the right size).
type AuditCheckpoint struct {
	Note  string   `json:"note"`
	From  int64    `json:"from"`
	Proof [][]byte `json:"proof,omitempty"`
}

// Validate returns EINVALID for an empty note or an oversized proof.
func (c *AuditCheckpoint) Validate() error {
	switch {
	case c.Note == "" || len(c.Note) > 4096:
		return doorman.Errorf(doorman.EINVALID, "An audit checkpoint needs a note of at most 4096 bytes.")
	case c.From < 0:
		return doorman.Errorf(doorman.EINVALID, "An audit consistency proof starts at a size of 0 or more.")
	case len(c.Proof) > MaxAuditProof:
		return doorman.Errorf(doorman.EINVALID, "An audit consistency proof has at most %d hashes.", MaxAuditProof)
	}
	for _, h := range c.Proof {
		if len(h) != 32 {
			return doorman.Errorf(doorman.EINVALID, "An audit consistency proof holds SHA-256 hashes.")
		}
	}
	return nil
}

// EncodeAuditRoot and DecodeAuditRoot convert a root hash to and from its
// form in a heartbeat (standard base64, as in a checkpoint).
func EncodeAuditRoot(root []byte) string { return base64.StdEncoding.EncodeToString(root) }

// DecodeAuditRoot returns the root hash of a heartbeat's AuditRoot.
func DecodeAuditRoot(s string) ([]byte, error) {
	root, err := base64.StdEncoding.DecodeString(s)
	if err != nil || (s != "" && len(root) != 32) {
		return nil, doorman.Errorf(doorman.EINVALID, "audit_root must be a base64 SHA-256 hash.")
	}
	return root, nil
}
