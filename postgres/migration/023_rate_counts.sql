-- The rate limits' counters: how many access requests of a courier
-- (granted or denied) and grants of a door were recorded in each 10-second
-- bucket (bucket = the record's time in microseconds / 10,000,000), kept
-- by RecordAccess in the transaction that records the request, so that a
-- limit is checked by summing a few rows instead of counting audit entries.
-- Rows of buckets past the window are deleted as new requests come. The
-- counts start empty: requests recorded before this migration are not
-- counted. Keep in step with sqlite/migration/023_rate_counts.sql.
CREATE TABLE rate_counts (
	kind       TEXT NOT NULL CHECK (kind IN ('courier', 'door')),
	subject_id TEXT NOT NULL,
	bucket     BIGINT NOT NULL,
	n          INTEGER NOT NULL,
	PRIMARY KEY (kind, subject_id, bucket)
);
CREATE INDEX rate_counts_bucket ON rate_counts (bucket);
