// Package auditlog makes each audit chain a verifiable log, in the way of
// Certificate Transparency and Go's checksum database: a Merkle tree over
// the chain's entries (RFC 6962 hashing; the leaf is the entry's canonical
// encoding, doorman.AuditEntry.Encode), signed checkpoints of the tree in
// the C2SP tlog-checkpoint signed-note format, and inclusion and
// consistency proofs.
//
// A Checkpointer signs each chain's tree as it grows, with a key that is
// not in the database, appends each checkpoint to a file of its own data
// dir (out of the database's reach) and stores a copy in the database for
// the API. Verify checks a store against the checkpoints: every signature,
// the consistency of successive checkpoints, and that the database's tree
// is the one that was signed, so that a history rewritten by someone who
// can write the database, however consistently, is named.
//
// It imports the domain, internal/durable, transparency-dev/merkle,
// transparency-dev/formats and golang.org/x/mod/sumdb/note; never a
// store, bus or HTTP package.
package auditlog
