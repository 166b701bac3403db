-- The verifiable audit log (see package auditlog). Keep in step with
-- postgres/migration/007_audit_checkpoints.sql.
--
-- audit_checkpoints keeps the signed checkpoints of each chain's Merkle
-- tree. They are copies: each node also appends them to files in its data
-- dir, out of the database's reach, and verification trusts a checkpoint
-- only for its signature by the audit checkpoint key (not stored here).
CREATE TABLE audit_checkpoints (
	chain TEXT NOT NULL,
	size INTEGER NOT NULL CHECK (size > 0),
	note TEXT NOT NULL,
	signed_at INTEGER NOT NULL,
	PRIMARY KEY (chain, size)
) STRICT;

-- audit_keys pins the deployment's checkpoint verifier key (a signed-note
-- verifier key: name+hash+key), like command_keys: the first node
-- registers its key, a node with another key refuses to start.
CREATE TABLE audit_keys (
	vkey TEXT PRIMARY KEY,
	position INTEGER NOT NULL UNIQUE CHECK (position >= 0),
	registered_at INTEGER NOT NULL
) STRICT;

-- seal is the checkpoint key's signature over an entry's hash, made by
-- the node that appended it: an entry appended through the database alone
-- has none. Entries from before this migration have none either; they
-- are vouched for by the first checkpoint instead.
ALTER TABLE audit_entries ADD COLUMN seal TEXT NOT NULL DEFAULT '';
