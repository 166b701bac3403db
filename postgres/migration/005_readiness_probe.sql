-- One row that readiness checks write (doorman.ProbeStore): a commit here
-- fails when a grant's would, as on a full disk. Keep in step with
-- sqlite/migration/005_readiness_probe.sql.
CREATE TABLE readiness_probe (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	probed_at BIGINT NOT NULL
);
