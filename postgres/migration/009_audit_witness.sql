-- The largest checkpoint of its building's audit chain that the door's
-- device reported witnessing in a heartbeat (see doorman.AuditWitness).
-- Keep in step with sqlite/migration/009_audit_witness.sql.
--
-- audit_witness_root is the root hash in standard base64;
-- audit_witness_at the heartbeat's time (Unix microseconds).
ALTER TABLE doors ADD COLUMN audit_witness_device TEXT;
ALTER TABLE doors ADD COLUMN audit_witness_size BIGINT;
ALTER TABLE doors ADD COLUMN audit_witness_root TEXT;
ALTER TABLE doors ADD COLUMN audit_witness_at BIGINT;
